//! The engine's TOML configuration file: authentication, request limits, and the sections later parts fill in.
//!
//! ```toml
//! [auth]
//! mode = "token"            # "none" (default) or "token"
//! [[auth.tokens]]
//! token = "s3cret"
//! user = "alice@example.com"
//! groups = ["platform"]
//!
//! [limits]
//! max_body_bytes = 10485760 # 10 MiB (default)
//!
//! [scheduler]
//! timezone = "America/Los_Angeles"   # cron triggers and execution windows
//!
//! [executions]
//! fetch_limit = 10          # default `limit` of GET /applications/{app}/pipelines, per config
//!
//! [jenkins.masters.ci]      # the jenkins stage's `master = "ci"`
//! url = "https://jenkins.example.com/"
//! username = "spinnaker"
//! api_token = "…"           # never logged
//!
//! [webhooks.sources.github] # POST /webhooks/webhook/github must be signed:
//! secret = "…"              # X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>
//!
//! [testing]
//! faults = false            # test-only fault injection routes
//!
//! [aws]                     # see `engine::aws`
//! account = "prod"
//! region = "us-east-1"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Tokens and webhook secrets: the workspace's one redacting type.
pub use pipeline::secret::Secret;

/// Default request-body limit: 10 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Orca's default time zone for execution windows and cron triggers.
pub const DEFAULT_TIMEZONE: &str = "America/Los_Angeles";

/// The whole configuration file. Every section is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[auth]`: who may call the API.
    #[serde(default)]
    pub auth: AuthConfig,
    /// `[limits]`: request size limits.
    #[serde(default)]
    pub limits: Limits,
    /// `[jenkins]`: Jenkins masters (`[jenkins.masters.<name>]`), used by the jenkins stage.
    #[serde(default)]
    pub jenkins: JenkinsConfig,
    /// `[canary]`: metric accounts (`[canary.accounts.<name>]`), used by the kayentaCanary stage.
    #[serde(default)]
    pub canary: CanaryConfig,
    /// `[scheduler]`: time zone for cron triggers and execution windows.
    #[serde(default)]
    pub scheduler: SchedulerConfig,
    /// `[testing]`: switches meant only for test suites.
    #[serde(default)]
    pub testing: TestingConfig,
    /// `[aws]`: the AWS account the `clusterSize` precondition counts server groups in.
    #[serde(default)]
    pub aws: crate::aws::AwsConfig,
    /// `[executions]`: execution listing defaults.
    #[serde(default)]
    pub executions: ExecutionsConfig,
    /// `[webhooks]`: shared secrets of webhook trigger sources (`[webhooks.sources.<source>]`).
    #[serde(default)]
    pub webhooks: WebhooksConfig,
}

/// `[auth]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// `none` (the user comes from `X-SPINNAKER-USER`) or `token` (bearer tokens).
    #[serde(default)]
    pub mode: AuthMode,
    /// `[[auth.tokens]]`: the bearer tokens accepted in `token` mode.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
}

/// How callers are identified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Gate with security off: everyone is allowed; the user is `X-SPINNAKER-USER` or `anonymous`.
    #[default]
    None,
    /// `Authorization: Bearer <token>` required; application permissions are enforced.
    Token,
}

/// One `[[auth.tokens]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// The bearer token. Never logged.
    pub token: Secret,
    /// The user name the token authenticates as.
    pub user: String,
    /// The groups (Fiat roles) the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest accepted request body in bytes; larger bodies get 413.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

fn default_max_body_bytes() -> usize {
    DEFAULT_MAX_BODY_BYTES
}

/// `[jenkins]`: raw tables, typed by [`JenkinsConfig::typed_masters`]. `Debug` shows only the
/// master names (the tables hold API tokens).
#[derive(Clone, Default, Deserialize)]
pub struct JenkinsConfig {
    /// `[jenkins.masters.<name>]`.
    #[serde(default)]
    pub masters: BTreeMap<String, toml::Table>,
}

/// `[canary]`: kept as raw tables until the kayentaCanary stage types them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CanaryConfig {
    /// `[canary.accounts.<name>]`.
    #[serde(default)]
    pub accounts: BTreeMap<String, toml::Table>,
}

/// `[scheduler]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// IANA time zone for cron triggers and execution windows.
    #[serde(default = "default_timezone")]
    pub timezone: String,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            timezone: default_timezone(),
        }
    }
}

fn default_timezone() -> String {
    DEFAULT_TIMEZONE.to_owned()
}

/// `[executions]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionsConfig {
    /// Default `limit` of `GET /applications/{app}/pipelines` (per pipeline config), as Gate's
    /// `gate.execution.fetch.limit`.
    #[serde(default = "default_fetch_limit")]
    pub fetch_limit: usize,
}

impl Default for ExecutionsConfig {
    fn default() -> Self {
        Self {
            fetch_limit: default_fetch_limit(),
        }
    }
}

fn default_fetch_limit() -> usize {
    10
}

/// `[webhooks]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// `[webhooks.sources.<source>]`: sources whose events must be signed.
    #[serde(default)]
    pub sources: BTreeMap<String, WebhookSource>,
}

/// One signed webhook source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSource {
    /// The shared secret: events need `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
    /// raw body>` (or GitHub's `X-Hub-Signature: sha1=<hex>`). Never logged.
    pub secret: Secret,
}

impl fmt::Debug for JenkinsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JenkinsConfig")
            .field("masters", &self.masters.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl JenkinsConfig {
    /// The masters, typed for the jenkins stage.
    ///
    /// # Errors
    /// A message naming the master and field that is missing or of the wrong type.
    pub fn typed_masters(&self) -> Result<execution::stages::jenkins::JenkinsMasters, String> {
        let mut out = execution::stages::jenkins::JenkinsMasters::new();
        for (name, table) in &self.masters {
            let text = |key: &str| -> Result<Option<String>, String> {
                match table.get(key) {
                    None => Ok(None),
                    Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(format!("jenkins.masters.{name}.{key} must be a string")),
                }
            };
            for key in table.keys() {
                if !["url", "username", "api_token"].contains(&key.as_str()) {
                    return Err(format!(
                        "jenkins.masters.{name}.{key} is not a known field (url, username, api_token)"
                    ));
                }
            }
            let address = text("url")?
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| format!("jenkins.masters.{name}.url is required"))?;
            if url_is_invalid(&address) {
                return Err(format!(
                    "jenkins.masters.{name}.url {address:?} is not an http(s) URL"
                ));
            }
            out.insert(
                name.clone(),
                execution::stages::jenkins::JenkinsMaster {
                    address,
                    username: text("username")?,
                    api_token: text("api_token")?.map(Secret::new),
                },
            );
        }
        Ok(out)
    }
}

fn url_is_invalid(url: &str) -> bool {
    !(url.starts_with("http://") || url.starts_with("https://"))
}

/// `[testing]`: test-only switches. Never enable these in a real deployment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestingConfig {
    /// Enables `POST /__spinhcl/faults` and `GET /__spinhcl/requests`.
    #[serde(default)]
    pub faults: bool,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config file {file}")]
    Parse {
        /// The file (or `<string>`).
        file: String,
        /// The TOML error, which names the line and field.
        #[source]
        source: toml::de::Error,
    },
    /// The file parsed but a value is unusable.
    #[error("invalid config file {file}: {message}")]
    Invalid {
        /// The file (or `<string>`).
        file: String,
        /// What is wrong, naming the field.
        message: String,
    },
}

impl Config {
    /// Reads and validates a TOML file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the field at fault.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates TOML text; `file` names it in errors.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the field at fault.
    pub fn parse(text: &str, file: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            file: file.to_owned(),
            source,
        })?;
        config.validate(file)?;
        Ok(config)
    }

    fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_owned(),
            message,
        };
        if self.auth.mode == AuthMode::Token && self.auth.tokens.is_empty() {
            return Err(invalid(
                "auth.mode = \"token\" needs at least one [[auth.tokens]] entry".to_owned(),
            ));
        }
        for (i, entry) in self.auth.tokens.iter().enumerate() {
            if entry.token.expose().trim().is_empty() {
                return Err(invalid(format!("auth.tokens[{i}].token must not be empty")));
            }
            if entry.user.trim().is_empty() {
                return Err(invalid(format!("auth.tokens[{i}].user must not be empty")));
            }
        }
        if self.limits.max_body_bytes == 0 {
            return Err(invalid(
                "limits.max_body_bytes must be greater than 0".to_owned(),
            ));
        }
        if jiff::tz::TimeZone::get(&self.scheduler.timezone).is_err() {
            return Err(invalid(format!(
                "scheduler.timezone {:?} is not a known IANA time zone",
                self.scheduler.timezone
            )));
        }
        self.aws.validate().map_err(invalid)?;
        crate::canary_accounts::validate(&self.canary).map_err(|e| invalid(e.to_string()))?;
        self.jenkins.typed_masters().map_err(invalid)?;
        if self.executions.fetch_limit == 0 {
            return Err(invalid(
                "executions.fetch_limit must be greater than 0".to_owned(),
            ));
        }
        for (source, entry) in &self.webhooks.sources {
            if entry.secret.expose().is_empty() {
                return Err(invalid(format!(
                    "webhooks.sources.{source}.secret must not be empty"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let config = Config::parse("", "<string>").unwrap();
        assert_eq!(config.auth.mode, AuthMode::None);
        assert_eq!(config.limits.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(config.scheduler.timezone, DEFAULT_TIMEZONE);
        assert!(!config.testing.faults);
    }

    #[test]
    fn token_mode_parses_and_redacts() {
        let text = r#"
            [auth]
            mode = "token"
            [[auth.tokens]]
            token = "hunter2"
            user = "alice"
            groups = ["ops"]
        "#;
        let config = Config::parse(text, "c.toml").unwrap();
        assert_eq!(config.auth.tokens[0].user, "alice");
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn token_mode_without_tokens_names_the_field() {
        let err = Config::parse("[auth]\nmode = \"token\"\n", "c.toml").unwrap_err();
        assert!(err.to_string().contains("auth.tokens"), "{err}");
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let err = Config::parse("[limits]\nmax_body = 3\n", "c.toml").unwrap_err();
        let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(text.contains("max_body"), "{text}");
    }

    #[test]
    fn jenkins_tokens_and_webhook_secrets_are_typed_and_redacted() {
        let text = r#"
            [jenkins.masters.ci]
            url = "https://jenkins.example.com/"
            username = "bot"
            api_token = "jt-998877"
            [webhooks.sources.github]
            secret = "wh-554433"
        "#;
        let config = Config::parse(text, "c.toml").unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("jt-998877") && !shown.contains("wh-554433"),
            "{shown}"
        );
        let masters = config.jenkins.typed_masters().unwrap();
        assert_eq!(masters["ci"].username.as_deref(), Some("bot"));
        assert!(!format!("{masters:?}").contains("jt-998877"));
        let err = Config::parse("[webhooks.sources.x]\nsecret = \"\"\n", "c.toml").unwrap_err();
        assert!(
            err.to_string().contains("webhooks.sources.x.secret"),
            "{err}"
        );
        let err = Config::parse("[jenkins.masters.ci]\nurl = \"ftp://x\"\n", "c.toml").unwrap_err();
        assert!(err.to_string().contains("jenkins.masters.ci.url"), "{err}");
    }

    #[test]
    fn bad_timezone_is_rejected() {
        let err =
            Config::parse("[scheduler]\ntimezone = \"Mars/Olympus\"\n", "c.toml").unwrap_err();
        assert!(err.to_string().contains("scheduler.timezone"), "{err}");
    }
}
