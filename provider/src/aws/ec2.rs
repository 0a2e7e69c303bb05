//! A small EC2 Query API client for the one call server groups need,
//! `DescribeLaunchTemplateVersions`: SigV4-signed with the credentials and region of the shared
//! AWS configuration, sent to the same endpoint override as the SDK clients, retried like them
//! (throttling, 5xx answers and transport failures, with exponential backoff), and read from
//! EC2's XML answers and errors. The EC2 SDK is left out for its build cost.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_xml::decode::{Document, ScopedDecoder, XmlDecodeError, try_data};
use aws_types::service_config::ServiceConfigKey;

use super::error::{AwsError, full_message};

/// The EC2 API version the Query protocol names.
const API_VERSION: &str = "2016-11-15";
/// The one operation, named as IAM names it.
pub const OPERATION: &str = "ec2:DescribeLaunchTemplateVersions";
/// Form bodies, as the Query protocol sends them.
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// Error codes of a launch template or version that does not exist (any more).
const NOT_FOUND: &[&str] = &[
    "InvalidLaunchTemplateId.NotFound",
    "InvalidLaunchTemplateName.NotFoundException",
    "InvalidLaunchTemplateId.VersionNotFound",
];
/// Credentials this close to their expiry are loaded again.
const CREDENTIALS_MARGIN: Duration = Duration::from_secs(300);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// A launch template as an autoscaling group names it: by id or by name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LaunchTemplate {
    Id(String),
    Name(String),
}

/// One version of a launch template: a number, `$Latest` or `$Default`, passed to EC2 as is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LaunchTemplateVersion {
    pub template: LaunchTemplate,
    pub version: String,
}

impl LaunchTemplateVersion {
    /// The Query form of a `DescribeLaunchTemplateVersions` call for this version. SSM
    /// parameter aliases in `ImageId` are resolved to the AMI id (`ResolveAlias`).
    fn form(&self) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("Action", "DescribeLaunchTemplateVersions")
            .append_pair("Version", API_VERSION);
        match &self.template {
            LaunchTemplate::Id(id) => form.append_pair("LaunchTemplateId", id),
            LaunchTemplate::Name(name) => form.append_pair("LaunchTemplateName", name),
        };
        form.append_pair("LaunchTemplateVersion.1", &self.version)
            .append_pair("ResolveAlias", "true");
        form.finish()
    }
}

/// The EC2 client: endpoint, region, credentials and retry budget.
#[derive(Clone)]
pub struct Ec2Client {
    http: reqwest::Client,
    /// The endpoint override; `None` uses EC2's regional endpoint.
    endpoint: Option<String>,
    region: String,
    fips: bool,
    dual_stack: bool,
    credentials: Option<SharedCredentialsProvider>,
    /// The last credentials loaded, shared by the clones for other regions.
    cached: Arc<tokio::sync::Mutex<Option<Credentials>>>,
    max_attempts: u32,
    initial_backoff: Duration,
}

impl fmt::Debug for Ec2Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ec2Client")
            .field("endpoint", &self.url())
            .field("region", &self.region)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl Ec2Client {
    /// A client for `region` with the shared configuration's credentials. The endpoint is
    /// `endpoint` (the `aws` block's override) when set, else the EC2-specific configured
    /// endpoint (`AWS_ENDPOINT_URL_EC2`, a profile's `services` section), else the general one,
    /// else EC2's regional endpoint, as the SDK clients resolve theirs.
    pub fn new(
        shared: &SdkConfig,
        endpoint: Option<&str>,
        region: &str,
        max_attempts: u32,
        initial_backoff: Duration,
    ) -> Result<Self, AwsError> {
        let configured = || {
            let key = ServiceConfigKey::builder()
                .service_id("EC2")
                .env("AWS_ENDPOINT_URL")
                .profile("endpoint_url")
                .build()
                .ok()?;
            shared.service_config()?.load_config(key)
        };
        let endpoint = endpoint
            .map(str::to_owned)
            .or_else(configured)
            .or_else(|| shared.endpoint_url().map(str::to_owned));
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| {
                AwsError::Configuration(format!(
                    "cannot build the EC2 HTTP client: {}",
                    full_message(&e)
                ))
            })?;
        Ok(Ec2Client {
            http,
            endpoint,
            region: region.to_owned(),
            fips: shared.use_fips() == Some(true),
            dual_stack: shared.use_dual_stack() == Some(true),
            credentials: shared.credentials_provider(),
            cached: Arc::default(),
            max_attempts: max_attempts.max(1),
            initial_backoff,
        })
    }

    /// The same client (credentials, endpoint override, retries) for another region.
    pub fn for_region(&self, region: &str) -> Self {
        Ec2Client {
            region: region.to_owned(),
            ..self.clone()
        }
    }

    /// The URL requests go to.
    fn url(&self) -> String {
        if let Some(e) = &self.endpoint {
            // A bare origin gets the `/` path the signature covers.
            return url::Url::parse(e).map_or_else(|_| e.clone(), String::from);
        }
        let fips = if self.fips { "-fips" } else { "" };
        let china = self.region.starts_with("cn-");
        let suffix = match (self.dual_stack, china) {
            (false, false) => "amazonaws.com",
            (false, true) => "amazonaws.com.cn",
            (true, false) => "api.aws",
            (true, true) => "api.amazonwebservices.com.cn",
        };
        format!("https://ec2{fips}.{}.{suffix}/", self.region)
    }

    /// The AMI id of a launch template version; `None` when the template or the version no
    /// longer exists, or the version sets no image.
    pub async fn image_id(
        &self,
        version: &LaunchTemplateVersion,
    ) -> Result<Option<String>, AwsError> {
        let form = version.form();
        let mut attempt = 1;
        loop {
            let outcome = match self.send(&form).await {
                Ok((status, body)) => judge(status, &body, self.max_attempts),
                Err(e @ AwsError::Transport { .. }) => Attempt::Retry(e),
                Err(e) => Attempt::Done(Err(e)),
            };
            match outcome {
                Attempt::Done(result) => return result,
                Attempt::Retry(e) if attempt >= self.max_attempts => return Err(e),
                Attempt::Retry(e) => {
                    let wait = backoff(self.initial_backoff, attempt);
                    tracing::debug!(?version, attempt, ?wait, error = %e, "retrying EC2 call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    /// One signed POST; the answer's status and body.
    async fn send(&self, form: &str) -> Result<(u16, String), AwsError> {
        let url = self.url();
        let credentials = self.credentials().await?;
        let identity = credentials.into();
        let signing_error = |e: &dyn std::error::Error| {
            AwsError::Configuration(format!("cannot sign the EC2 request: {}", full_message(e)))
        };
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("ec2")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing_error(&e))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &url,
            [("content-type", FORM)].into_iter(),
            SignableBody::Bytes(form.as_bytes()),
        )
        .map_err(|e| signing_error(&e))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| signing_error(&e))?
            .into_parts();
        let mut request = self
            .http
            .post(&url)
            .header("content-type", FORM)
            .body(form.to_owned());
        for (name, value) in instructions.headers() {
            request = request.header(name, value);
        }
        let transport = |e: reqwest::Error| AwsError::Transport {
            operation: OPERATION,
            source: Box::new(e),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(transport)?;
        Ok((status, body))
    }

    /// Credentials from the shared configuration's provider, loaded again near their expiry.
    async fn credentials(&self) -> Result<Credentials, AwsError> {
        let mut slot = self.cached.lock().await;
        if let Some(c) = slot.as_ref()
            && c.expiry()
                .is_none_or(|at| at > SystemTime::now() + CREDENTIALS_MARGIN)
        {
            return Ok(c.clone());
        }
        let provider = self.credentials.as_ref().ok_or_else(|| {
            AwsError::Configuration(
                "no AWS credentials: set aws.access_key and aws.secret_key, aws.profile, or the standard AWS environment".into(),
            )
        })?;
        let loaded = provider.provide_credentials().await.map_err(|e| {
            AwsError::Configuration(format!("cannot load AWS credentials: {}", full_message(&e)))
        })?;
        *slot = Some(loaded.clone());
        Ok(loaded)
    }
}

/// What one attempt's answer means.
#[derive(Debug)]
enum Attempt {
    /// The final result.
    Done(Result<Option<String>, AwsError>),
    /// A failure worth another attempt (throttling, 5xx, no answer).
    Retry(AwsError),
}

/// Judges an answer of status `status` and body `body`; `attempts` is the retry budget.
fn judge(status: u16, body: &str, attempts: u32) -> Attempt {
    if (200..300).contains(&status) {
        return Attempt::Done(parse_image_id(body).map_err(|e| AwsError::Transport {
            operation: OPERATION,
            source: Box::new(e),
        }));
    }
    let (code, message) = parse_error(body).unwrap_or_else(|| {
        let text: String = body.trim().chars().take(200).collect();
        (format!("HTTP {status}"), text)
    });
    if NOT_FOUND.contains(&code.as_str()) {
        tracing::debug!(%code, %message, "launch template gone; no image id");
        return Attempt::Done(Ok(None));
    }
    let err = AwsError::from_code(OPERATION, attempts, code, message);
    if matches!(err, AwsError::Throttled { .. }) || status >= 500 {
        Attempt::Retry(err)
    } else {
        Attempt::Done(Err(err))
    }
}

/// Exponential backoff: `initial`, then doubled per attempt, at most [`MAX_BACKOFF`].
fn backoff(initial: Duration, attempt: u32) -> Duration {
    initial
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_BACKOFF)
}

/// Runs `f` on the first child of `parent` named `name` (skipping the siblings before it);
/// `None` when there is none.
fn child<R>(
    parent: &mut ScopedDecoder<'_, '_>,
    name: &str,
    f: impl FnOnce(&mut ScopedDecoder<'_, '_>) -> R,
) -> Option<R> {
    loop {
        let mut tag = parent.next_tag()?;
        if tag.start_el().matches(name) {
            return Some(f(&mut tag));
        }
    }
}

/// The `imageId` of the first version in a `DescribeLaunchTemplateVersionsResponse`:
/// `launchTemplateVersionSet/item/launchTemplateData/imageId`. `None` when the set is empty
/// or the version sets no image.
pub(super) fn parse_image_id(body: &str) -> Result<Option<String>, XmlDecodeError> {
    let mut doc = Document::new(body);
    let mut root = doc.root_element()?;
    if !root
        .start_el()
        .matches("DescribeLaunchTemplateVersionsResponse")
    {
        return Err(XmlDecodeError::custom(format!(
            "expected a DescribeLaunchTemplateVersionsResponse, got <{}>",
            root.start_el().local()
        )));
    }
    let image = child(&mut root, "launchTemplateVersionSet", |set| {
        child(set, "item", |item| {
            child(item, "launchTemplateData", |data| {
                child(data, "imageId", |image| {
                    try_data(image).map(|id| id.trim().to_owned())
                })
            })
        })
    });
    match image.flatten().flatten().flatten() {
        None => Ok(None),
        Some(id) => Ok(Some(id?).filter(|id| !id.is_empty())),
    }
}

/// The code and message of an error answer: EC2's `<Response><Errors><Error>` or the
/// `<ErrorResponse><Error>` of the other Query services.
pub(super) fn parse_error(body: &str) -> Option<(String, String)> {
    let read = |error: &mut ScopedDecoder<'_, '_>| {
        let (mut code, mut message) = (String::new(), String::new());
        while let Some(mut field) = error.next_tag() {
            let slot = if field.start_el().matches("Code") {
                &mut code
            } else if field.start_el().matches("Message") {
                &mut message
            } else {
                continue;
            };
            *slot = try_data(&mut field)
                .map(|t| t.trim().to_owned())
                .unwrap_or_default();
        }
        (code, message)
    };
    let mut doc = Document::new(body);
    let mut root = doc.root_element().ok()?;
    let (code, message) = if root.start_el().matches("Response") {
        child(&mut root, "Errors", |errors| child(errors, "Error", read)).flatten()?
    } else if root.start_el().matches("ErrorResponse") {
        child(&mut root, "Error", read)?
    } else {
        return None;
    };
    Some((code, message)).filter(|(code, _)| !code.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let ms = Duration::from_millis;
        assert_eq!(backoff(ms(100), 1), ms(100));
        assert_eq!(backoff(ms(100), 3), ms(400));
        assert_eq!(backoff(Duration::from_secs(1), 40), MAX_BACKOFF);
    }

    #[test]
    fn form_passes_the_version_through_and_encodes_it() {
        let by_id = LaunchTemplateVersion {
            template: LaunchTemplate::Id("lt-0abc".into()),
            version: "$Latest".into(),
        };
        assert_eq!(
            by_id.form(),
            "Action=DescribeLaunchTemplateVersions&Version=2016-11-15&LaunchTemplateId=lt-0abc&LaunchTemplateVersion.1=%24Latest&ResolveAlias=true"
        );
        let by_name = LaunchTemplateVersion {
            template: LaunchTemplate::Name("shop prod".into()),
            version: "3".into(),
        };
        assert!(
            by_name
                .form()
                .contains("&LaunchTemplateName=shop+prod&LaunchTemplateVersion.1=3&"),
            "{}",
            by_name.form()
        );
    }

    #[test]
    fn endpoints_follow_the_override_or_the_region() {
        let conf = SdkConfig::builder().build();
        let client =
            Ec2Client::new(&conf, None, "eu-west-1", 3, Duration::from_millis(1)).expect("client");
        assert_eq!(client.url(), "https://ec2.eu-west-1.amazonaws.com/");
        assert_eq!(
            client.for_region("cn-north-1").url(),
            "https://ec2.cn-north-1.amazonaws.com.cn/"
        );
        let fips = SdkConfig::builder().use_fips(true).build();
        let client =
            Ec2Client::new(&fips, None, "us-east-1", 3, Duration::from_millis(1)).expect("client");
        assert_eq!(client.url(), "https://ec2-fips.us-east-1.amazonaws.com/");
        let local = Ec2Client::new(
            &conf,
            Some("http://127.0.0.1:5000"),
            "us-east-1",
            3,
            Duration::from_millis(1),
        )
        .expect("client");
        assert_eq!(local.url(), "http://127.0.0.1:5000/");
        assert_eq!(
            local.for_region("us-west-2").url(),
            "http://127.0.0.1:5000/"
        );
    }
}
