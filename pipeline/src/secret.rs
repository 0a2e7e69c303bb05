//! `Secret`: a sensitive string (token, password, key, webhook secret) that never reaches a log.
//!
//! The one redacting type of the workspace: the Gate client's credentials, the engine's bearer
//! tokens and webhook secrets, Jenkins API tokens and the canary metric sources' keys all use it.
//! `Debug` and `Display` print `<redacted>`. It deserializes from a plain string (config files)
//! but has no `Serialize`, so a secret cannot be written into JSON by accident; call
//! [`Secret::expose`] where the value must really be sent or compared.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A credential that must never reach a log line.
///
/// `Debug` prints `Secret(<redacted>)` and `Display` prints `<redacted>`; read the value with
/// [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself. Call it only where the value is sent or compared.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the credential is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_and_display_redact() {
        let secret = Secret::new("hunter2");
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(
            format!("{secret:?} {secret}"),
            "Secret(<redacted>) <redacted>"
        );
        let nested = Some(vec![secret.clone()]);
        assert!(!format!("{nested:?} {nested:#?}").contains("hunter2"));
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        let secret: Secret = serde_json::from_str(r#""s3cr3t""#).unwrap_or_default();
        assert_eq!(secret.expose(), "s3cr3t");
        assert!(!secret.is_empty());
        assert!(serde_json::from_str::<Secret>("42").is_err());
        assert!(Secret::default().is_empty());
        assert_eq!(Secret::from("a"), Secret::from(String::from("a")));
    }
}
