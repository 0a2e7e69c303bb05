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
//! timezone = "America/Los_Angeles"
//!
//! [testing]
//! faults = false            # test-only fault injection routes
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

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

/// A secret string whose `Debug` output is redacted.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is compared, never where it is logged.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
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

/// `[jenkins]`: kept as raw tables until the jenkins stage types them.
#[derive(Debug, Clone, Default, Deserialize)]
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
        crate::canary_accounts::validate(&self.canary).map_err(|e| invalid(e.to_string()))?;
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
    fn bad_timezone_is_rejected() {
        let err =
            Config::parse("[scheduler]\ntimezone = \"Mars/Olympus\"\n", "c.toml").unwrap_err();
        assert!(err.to_string().contains("scheduler.timezone"), "{err}");
    }
}
