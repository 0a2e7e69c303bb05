//! The provider's `aws` block: region, endpoint override, profile, static credentials
//! (sensitive, with the standard environment variables as fallbacks), retry attempts and
//! `strict_aws_references`.

use std::fmt;

use crate::diag::{AttributePath, Diagnostics};
use crate::schema::{Attribute, Block, NestedBlock};
use crate::value::{Type, Value};

/// Default number of attempts per AWS request (the first one included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// What the `aws` block configures. Credentials are redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// Region of the lookups; `None` leaves it to aws-config (profile, IMDS).
    pub region: Option<String>,
    /// Endpoint override for every AWS service (a VPC endpoint, LocalStack, moto).
    pub endpoint: Option<String>,
    /// Named profile of the shared config and credentials files.
    pub profile: Option<String>,
    /// Static credentials; otherwise the standard chain (environment, profile, instance role).
    pub credentials: Option<StaticCredentials>,
    /// Attempts per request; throttling and transient errors are retried with backoff.
    pub max_attempts: u32,
    /// Whether a pipeline naming a missing cluster fails plan (true) or warns (false).
    pub strict_references: bool,
}

/// An access key pair with an optional session token.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSettings")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("profile", &self.profile)
            .field("credentials", &self.credentials)
            .field("max_attempts", &self.max_attempts)
            .field("strict_references", &self.strict_references)
            .finish()
    }
}

/// The `aws` nested block of the provider schema.
pub fn block() -> NestedBlock {
    NestedBlock::single(
        "aws",
        Block::new("AWS account the `spinnaker_aws_*` data sources read and the plan-time checks of cluster references use. Credentials come from the standard AWS chain (environment, shared profile, instance or task role) unless set here.")
            .attribute(Attribute::optional(
                "region",
                Type::String,
                "AWS region, e.g. `us-east-1`. Falls back to `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile.",
            ))
            .attribute(Attribute::optional(
                "endpoint",
                Type::String,
                "Endpoint URL override for Auto Scaling, ELBv2 and EC2 (launch template versions), e.g. a VPC endpoint or a local mock. Falls back to `AWS_ENDPOINT_URL`, then for EC2 to `AWS_ENDPOINT_URL_EC2`.",
            ))
            .attribute(Attribute::optional(
                "profile",
                Type::String,
                "Named profile of the shared AWS config and credentials files. Falls back to `AWS_PROFILE`.",
            ))
            .attribute(Attribute::optional(
                "access_key",
                Type::String,
                "Access key id. Falls back to `AWS_ACCESS_KEY_ID`. Requires `secret_key`.",
            ))
            .attribute(
                Attribute::optional(
                    "secret_key",
                    Type::String,
                    "Secret access key. Falls back to `AWS_SECRET_ACCESS_KEY`.",
                )
                .sensitive(),
            )
            .attribute(
                Attribute::optional(
                    "session_token",
                    Type::String,
                    "Session token of temporary credentials. Falls back to `AWS_SESSION_TOKEN`.",
                )
                .sensitive(),
            )
            .attribute(Attribute::optional(
                "max_attempts",
                Type::Number,
                "Attempts per AWS request, the first included; throttling and transient errors are retried with exponential backoff. Defaults to `5`.",
            ))
            .attribute(Attribute::optional(
                "strict_aws_references",
                Type::Bool,
                "When `true` (the default), a pipeline whose `clusterSize` precondition or canary scope names a cluster or server group that does not exist fails plan; when `false` it is a warning.",
            )),
    )
}

/// Reads the `aws` block (`block` is its value: an object, null when absent). Returns `None`
/// when the block is absent, has unknown values, or is invalid (then with diagnostics).
pub fn parse(
    block: Option<&Value>,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<AwsSettings> {
    let block = block.filter(|b| !b.is_null())?;
    if block.contains_unknown() {
        return None;
    }
    let path = |name: &str| AttributePath::root("aws").attr(name);
    let text = |name: &str, vars: &[&str]| -> Option<String> {
        match block.attr(name).and_then(Value::as_str) {
            Some(s) => Some(s.to_owned()),
            None => vars
                .iter()
                .find_map(|v| env(v).filter(|s| !s.trim().is_empty())),
        }
    };
    let region = text("region", &["AWS_REGION", "AWS_DEFAULT_REGION"]);
    let endpoint = text("endpoint", &["AWS_ENDPOINT_URL"]);
    let profile = text("profile", &["AWS_PROFILE"]);
    let access_key = text("access_key", &["AWS_ACCESS_KEY_ID"]);
    let secret_key = text("secret_key", &["AWS_SECRET_ACCESS_KEY"]);
    let session_token = text("session_token", &["AWS_SESSION_TOKEN"]);

    if let Some(r) = &region
        && (r.is_empty()
            || !r
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        diags.attribute_error(
            path("region"),
            "Invalid AWS Region",
            format!(
                "Attribute aws.region must be a region name such as \"us-east-1\", got: {r:?}."
            ),
        );
    }
    if let Some(e) = &endpoint {
        let ok = url::Url::parse(e)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            diags.attribute_error(
                path("endpoint"),
                "Invalid AWS Endpoint",
                format!("Attribute aws.endpoint must be an http or https URL such as https://autoscaling.us-east-1.amazonaws.com, got: {e:?}."),
            );
        }
    }
    let explicit_key = block.attr("access_key").is_some_and(|v| !v.is_null());
    let explicit_secret = block.attr("secret_key").is_some_and(|v| !v.is_null());
    if explicit_key != explicit_secret {
        let missing = if explicit_key {
            "secret_key"
        } else {
            "access_key"
        };
        diags.attribute_error(
            path(missing),
            "Incomplete AWS Credentials",
            format!("Attribute aws.{missing} is required: access_key and secret_key must be set together."),
        );
    }
    let max_attempts = match block.attr("max_attempts").and_then(Value::as_number) {
        None => DEFAULT_MAX_ATTEMPTS,
        Some(n) => {
            match n.as_i64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) if (1..=20).contains(&n) => n,
                _ => {
                    diags.attribute_error(
                    path("max_attempts"),
                    "Invalid Number",
                    format!("Attribute aws.max_attempts must be a whole number from 1 to 20, got: {}.", n.as_str()),
                );
                    DEFAULT_MAX_ATTEMPTS
                }
            }
        }
    };
    let strict_references = block
        .attr("strict_aws_references")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if diags.has_errors() {
        return None;
    }
    let credentials = match (access_key, secret_key) {
        (Some(access_key_id), Some(secret_access_key)) => Some(StaticCredentials {
            access_key_id,
            secret_access_key,
            session_token,
        }),
        _ => None,
    };
    Some(AwsSettings {
        region,
        endpoint,
        profile,
        credentials,
        max_attempts,
        strict_references,
    })
}
