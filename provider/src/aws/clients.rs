//! Clients for Auto Scaling and ELBv2 (the SDK's) and EC2 (our small Query client), built from
//! the `aws` block through aws-config: the standard credential chain unless static keys are
//! set, standard retries (throttling included) with the configured attempt budget, and bounded
//! timeouts.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

use super::ec2::Ec2Client;
use super::error::AwsError;
use super::settings::AwsSettings;

/// The clients every AWS lookup uses.
#[derive(Clone, Debug)]
pub struct AwsClients {
    /// Auto Scaling (server groups).
    pub autoscaling: aws_sdk_autoscaling::Client,
    /// Elastic Load Balancing v2 (target groups, application and network load balancers).
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// EC2, for the launch template versions of server groups.
    pub ec2: Ec2Client,
    /// The region the clients talk to.
    pub region: String,
    /// Attempts per request, for messages.
    pub max_attempts: u32,
}

impl AwsClients {
    /// Loads the shared configuration (credentials chain, region) and builds the clients.
    pub async fn connect(settings: &AwsSettings) -> Result<Self, AwsError> {
        Self::connect_with_backoff(settings, Duration::from_secs(1)).await
    }

    /// Like [`Self::connect`] with a chosen initial retry backoff (tests use a short one).
    pub async fn connect_with_backoff(
        settings: &AwsSettings,
        initial_backoff: Duration,
    ) -> Result<Self, AwsError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(settings.max_attempts)
                    .with_initial_backoff(initial_backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            );
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &settings.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(c) = &settings.credentials {
            loader = loader.credentials_provider(aws_sdk_autoscaling::config::Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.clone(),
                c.session_token.clone(),
                None,
                "spinnaker-provider-aws-block",
            ));
        }
        let shared = loader.load().await;
        let region = shared.region().map(ToString::to_string).ok_or_else(|| {
            AwsError::Configuration(
                "no AWS region: set aws.region, export AWS_REGION, or give the profile a region"
                    .into(),
            )
        })?;
        let ec2 = Ec2Client::new(
            &shared,
            settings.endpoint.as_deref(),
            &region,
            settings.max_attempts,
            initial_backoff,
        )?;
        tracing::debug!(%region, endpoint = ?settings.endpoint, "aws clients configured");
        Ok(AwsClients {
            autoscaling: aws_sdk_autoscaling::Client::new(&shared),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&shared),
            ec2,
            region,
            max_attempts: settings.max_attempts,
        })
    }

    /// The same clients (credentials, endpoint, retries) for another region.
    pub fn for_region(&self, region: &str) -> Self {
        if region == self.region {
            return self.clone();
        }
        let autoscaling = self
            .autoscaling
            .config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build();
        let elbv2 = self
            .elbv2
            .config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build();
        AwsClients {
            autoscaling: aws_sdk_autoscaling::Client::from_conf(autoscaling),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(elbv2),
            ec2: self.ec2.for_region(region),
            region: region.to_owned(),
            max_attempts: self.max_attempts,
        }
    }
}
