//! Why an AWS lookup failed, classified the way users act on it: throttled (after the
//! retries), access denied, not found, or a transport or configuration problem.

use std::error::Error as StdError;
use std::fmt::Debug;

use aws_sdk_autoscaling::error::{ProvideErrorMetadata, SdkError};

use crate::diag::{AttributePath, Diagnostics};

/// Error codes AWS uses for throttling (the SDK's standard retry mode retries them first).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
];

/// Error codes that mean the credentials may not make the call.
const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "AuthFailure",
];

/// An AWS lookup failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// The provider block has no `aws` block.
    #[error("the provider has no aws block; add one to read AWS resources")]
    NotConfigured,
    /// Settings or the runtime could not be set up.
    #[error("aws configuration: {0}")]
    Configuration(String),
    /// AWS kept throttling after every retry.
    #[error("{operation} was throttled by AWS after {attempts} attempts ({code}: {message})")]
    Throttled {
        operation: &'static str,
        attempts: u32,
        code: String,
        message: String,
    },
    /// The credentials may not make the call.
    #[error("{operation} was denied by AWS ({code}: {message})")]
    AccessDenied {
        operation: &'static str,
        code: String,
        message: String,
    },
    /// Any other error answer of the service.
    #[error("{operation} failed ({code}: {message})")]
    Service {
        operation: &'static str,
        code: String,
        message: String,
    },
    /// No answer: connection, timeout, or an unreadable response.
    #[error("{operation} could not reach AWS: {source}")]
    Transport {
        operation: &'static str,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl AwsError {
    /// Classifies an SDK error of `operation`; `attempts` is the configured retry budget.
    pub(crate) fn from_sdk<E, R>(
        operation: &'static str,
        attempts: u32,
        err: SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: Debug + Send + Sync + 'static,
    {
        let message = err.message().unwrap_or_default().to_owned();
        match err.code().map(str::to_owned) {
            Some(code) => AwsError::from_code(operation, attempts, code, message),
            None => AwsError::Transport {
                operation,
                source: Box::new(err),
            },
        }
    }

    /// Classifies an error answer of `operation` by its AWS error code.
    pub(crate) fn from_code(
        operation: &'static str,
        attempts: u32,
        code: String,
        message: String,
    ) -> Self {
        if THROTTLING.contains(&code.as_str()) {
            AwsError::Throttled {
                operation,
                attempts,
                code,
                message,
            }
        } else if DENIED.contains(&code.as_str()) {
            AwsError::AccessDenied {
                operation,
                code,
                message,
            }
        } else {
            AwsError::Service {
                operation,
                code,
                message,
            }
        }
    }

    /// The error as Terraform diagnostics; `path` is the attribute the lookup came from.
    pub fn to_diagnostics(&self, path: Option<AttributePath>) -> Diagnostics {
        let (summary, hint) = match self {
            AwsError::NotConfigured => (
                "AWS Not Configured",
                "Add an aws block to the spinnaker provider block.",
            ),
            AwsError::Configuration(_) => (
                "Invalid AWS Configuration",
                "Check the provider's aws block.",
            ),
            AwsError::Throttled { .. } => (
                "AWS Request Throttled",
                "AWS kept throttling the request after every retry; try again later, reduce -parallelism, or raise aws.max_attempts.",
            ),
            AwsError::AccessDenied { .. } => (
                "AWS Access Denied",
                "The credentials in use may not make this call; grant autoscaling:Describe*, elasticloadbalancing:Describe* and ec2:DescribeLaunchTemplateVersions to them, or check aws.profile and the credentials.",
            ),
            AwsError::Service { .. } => (
                "AWS Request Failed",
                "Check the names and the region in the configuration.",
            ),
            AwsError::Transport { .. } => (
                "AWS Unreachable",
                "Check aws.endpoint, the region and the network path to AWS.",
            ),
        };
        let mut detail = format!("{}. {hint}", full_message(self));
        if let Some(p) = &path {
            detail = format!("Attribute {p}: {detail}");
        }
        let mut d = Diagnostics::new();
        match path {
            Some(p) => d.attribute_error(p, summary, detail),
            None => d.error(summary, detail),
        };
        d
    }
}

/// The message with its sources, e.g. "... could not reach AWS: dispatch failure: connection refused".
pub(crate) fn full_message(err: &dyn StdError) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
