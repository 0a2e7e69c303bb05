//! The server's AWS account (`[aws]` in the config file) and the cluster lookup the
//! `clusterSize` precondition uses: the autoscaling groups of a Frigga cluster in a region,
//! each enabled unless `AddToLoadBalancer` is suspended (how Clouddriver judges a disabled AWS
//! server group).
//!
//! ```toml
//! [aws]
//! account = "prod"                      # the name pipelines use in `credentials`
//! region = "us-east-1"                  # default region of the credentials chain
//! endpoint = "http://127.0.0.1:5000"    # optional endpoint override (VPC endpoint, mock)
//! max_attempts = 5                      # attempts per request; throttling is retried
//! # profile = "spinnaker"               # a named profile of the shared config files
//! # access_key_id / secret_access_key   # static keys; prefer the chain below
//! ```
//!
//! Credentials come from the standard AWS chain (environment, shared profile, instance role)
//! unless static keys are set.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_autoscaling::error::{ProvideErrorMetadata, SdkError};
use execution::stages::check_preconditions::{ClusterLookup, ServerGroupSummary};
use futures::future::BoxFuture;
use serde::Deserialize;

/// `[aws]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// The account name pipelines put in `credentials`; any name is accepted when unset.
    #[serde(default)]
    pub account: Option<String>,
    /// Default region (otherwise from `AWS_REGION` or the profile).
    #[serde(default)]
    pub region: Option<String>,
    /// Endpoint URL override for Auto Scaling.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Attempts per request, the first included (default 5).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Named profile of the shared AWS config files.
    #[serde(default)]
    pub profile: Option<String>,
    /// Static access key id (with `secret_access_key`); otherwise the standard chain.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// Static secret access key. Never logged.
    #[serde(default)]
    pub secret_access_key: Option<crate::config::Secret>,
}

impl AwsConfig {
    /// Whether the section names an account, a region or an endpoint.
    pub fn is_set(&self) -> bool {
        self.account.is_some() || self.region.is_some() || self.endpoint.is_some()
    }

    /// Checks values; the message names the field.
    ///
    /// # Errors
    /// A message naming the `[aws]` field at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            return Err("[aws] access_key_id and secret_access_key must be set together".into());
        }
        if let Some(e) = &self.endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err(format!(
                "[aws] endpoint must be an http or https URL, got {e:?}"
            ));
        }
        if let Some(n) = self.max_attempts
            && !(1..=20).contains(&n)
        {
            return Err(format!("[aws] max_attempts must be from 1 to 20, got {n}"));
        }
        if let Some(r) = &self.region
            && (r.is_empty()
                || !r
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            return Err(format!(
                "[aws] region must be a region name such as \"us-east-1\", got {r:?}"
            ));
        }
        Ok(())
    }
}

/// The `clusterSize` lookup against AWS Auto Scaling; clients are built per region on first use.
/// Clones share the clients.
#[derive(Clone)]
pub struct AwsClusters {
    inner: Arc<Inner>,
}

struct Inner {
    config: AwsConfig,
    clients: tokio::sync::Mutex<BTreeMap<String, aws_sdk_autoscaling::Client>>,
    base: Mutex<Option<aws_config::SdkConfig>>,
}

impl AwsClusters {
    /// A lookup for the account in `config`.
    pub fn new(config: AwsConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                clients: tokio::sync::Mutex::new(BTreeMap::new()),
                base: Mutex::new(None),
            }),
        }
    }

    async fn client(&self, region: &str) -> aws_sdk_autoscaling::Client {
        let mut clients = self.inner.clients.lock().await;
        if let Some(c) = clients.get(region) {
            return c.clone();
        }
        let cached = self.inner.base.lock().ok().and_then(|b| b.clone());
        let base = match cached {
            Some(b) => b,
            None => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest())
                    .retry_config(
                        RetryConfig::standard()
                            .with_max_attempts(self.inner.config.max_attempts.unwrap_or(5)),
                    )
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(Duration::from_secs(10))
                            .operation_attempt_timeout(Duration::from_secs(30))
                            .build(),
                    );
                if let Some(r) = &self.inner.config.region {
                    loader = loader.region(Region::new(r.clone()));
                }
                if let Some(e) = &self.inner.config.endpoint {
                    loader = loader.endpoint_url(e);
                }
                if let Some(p) = &self.inner.config.profile {
                    loader = loader.profile_name(p);
                }
                if let (Some(id), Some(secret)) = (
                    &self.inner.config.access_key_id,
                    &self.inner.config.secret_access_key,
                ) {
                    loader =
                        loader.credentials_provider(aws_sdk_autoscaling::config::Credentials::new(
                            id.clone(),
                            secret.expose().to_owned(),
                            None,
                            None,
                            "spinhcl-server-config",
                        ));
                }
                let b = loader.load().await;
                if let Ok(mut slot) = self.inner.base.lock() {
                    *slot = Some(b.clone());
                }
                b
            }
        };
        let conf = aws_sdk_autoscaling::config::Builder::from(&base)
            .region(Region::new(region.to_owned()))
            .build();
        let client = aws_sdk_autoscaling::Client::from_conf(conf);
        clients.insert(region.to_owned(), client.clone());
        client
    }

    /// The server groups of `cluster` in `region`.
    ///
    /// # Errors
    /// A message with the AWS error code (throttling after the retries, access denied, ...).
    pub async fn cluster(
        &self,
        region: &str,
        cluster: &str,
    ) -> Result<Vec<ServerGroupSummary>, String> {
        let client = self.client(region).await;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .describe_auto_scaling_groups()
                .max_records(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(describe_error)?;
            for g in page.auto_scaling_groups() {
                let Some(name) = g.auto_scaling_group_name() else {
                    continue;
                };
                if pipeline::naming::Names::parse(name).cluster.as_deref() != Some(cluster) {
                    continue;
                }
                let enabled = !g
                    .suspended_processes()
                    .iter()
                    .any(|p| p.process_name() == Some("AddToLoadBalancer"));
                out.push(ServerGroupSummary {
                    name: name.to_owned(),
                    enabled,
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(out)
    }
}

fn describe_error<E, R>(err: SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.code() {
        Some(code) if code.contains("Throttl") || code == "RequestLimitExceeded" => format!(
            "AWS throttled autoscaling:DescribeAutoScalingGroups after every retry ({code}: {})",
            err.message().unwrap_or_default()
        ),
        Some(code) if code.starts_with("AccessDenied") || code == "UnauthorizedOperation" => {
            format!(
                "AWS denied autoscaling:DescribeAutoScalingGroups ({code}: {}); grant it to the server's credentials",
                err.message().unwrap_or_default()
            )
        }
        Some(code) => format!(
            "autoscaling:DescribeAutoScalingGroups failed ({code}: {})",
            err.message().unwrap_or_default()
        ),
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            format!("cannot reach AWS Auto Scaling: {text}")
        }
    }
}

impl ClusterLookup for AwsClusters {
    fn server_groups(
        &self,
        account: &str,
        region: &str,
        cluster: &str,
    ) -> BoxFuture<'static, Result<Vec<ServerGroupSummary>, String>> {
        if let Some(configured) = &self.inner.config.account
            && configured != account
        {
            let message = format!(
                "unknown account '{account}': this server's [aws] account is '{configured}'"
            );
            return Box::pin(async move { Err(message) });
        }
        let this = self.clone();
        let (region, cluster) = (region.to_owned(), cluster.to_owned());
        Box::pin(async move { this.cluster(&region, &cluster).await })
    }
}
