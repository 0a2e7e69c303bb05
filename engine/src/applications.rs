//! Orca's application jobs (`createApplication`, `updateApplication`, `upsertApplication`,
//! `deleteApplication`) with Front50's rules: upsert with attribute merge, `email` required,
//! names stored lower-case, name validation by cloud provider.

use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::auth::{Authorization, Caller};
use crate::store::{self, StoreError};

/// Attributes Front50 manages itself; a client's values for them are ignored.
pub const SERVER_MANAGED: &[&str] = &["createTs", "updateTs", "lastModifiedBy"];

/// Why an application job did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The job failed the way Orca reports it: a TERMINAL task with an `exception` variable.
    #[error("job failed: {message}")]
    Failed {
        /// The error text (Orca's `details.errors[0]`).
        message: String,
        /// Orca's `exceptionType`.
        exception_type: &'static str,
    },
    /// The caller lacks WRITE on the application: the whole request is refused (403).
    #[error("access is denied")]
    Forbidden,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl JobError {
    fn failed(message: impl Into<String>, exception_type: &'static str) -> Self {
        Self::Failed {
            message: message.into(),
            exception_type,
        }
    }
}

/// The application name of a job's `application` object.
fn job_name(application: &Map<String, Value>) -> Result<String, JobError> {
    application
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            JobError::failed(
                "Missing one or more required task parameters (application.name)",
                "IllegalArgumentException",
            )
        })
}

/// `cloudProviders` as Front50 stores it: a comma-separated string (lists are joined).
fn normalise_cloud_providers(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::String(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => other.clone(),
    }
}

/// Orca's `ApplicationNameValidator`: the name's characters and length by cloud provider.
fn validate_name(name: &str, cloud_providers: Option<&Value>) -> Result<(), JobError> {
    let providers = cloud_providers.and_then(Value::as_str).unwrap_or("");
    for provider in providers
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (ok, max): (fn(&str) -> bool, usize) = match provider {
            "aws" | "openstack" | "titus" => (
                |n| {
                    n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                },
                250,
            ),
            "kubernetes" => (
                |n| {
                    n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                },
                63,
            ),
            "gce" => (
                |n| {
                    n.chars().next().is_none_or(|c| c.is_ascii_alphabetic())
                        && n.chars().all(|c| c.is_ascii_alphanumeric())
                },
                63,
            ),
            "appengine" => (
                |n| {
                    n.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                },
                58,
            ),
            "dcos" => (
                |n| {
                    n.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                },
                127,
            ),
            _ => continue,
        };
        if !ok(name) {
            return Err(JobError::failed(
                format!("Invalid application name '{name}' for cloud provider '{provider}'"),
                "IllegalArgumentException",
            ));
        }
        if name.chars().count() > max {
            return Err(JobError::failed(
                format!(
                    "Application name '{name}' is longer than {max} characters, the limit for cloud provider '{provider}'"
                ),
                "IllegalArgumentException",
            ));
        }
    }
    Ok(())
}

/// `UpsertApplicationTask`: creates the application or merges attributes into the stored one.
///
/// # Errors
/// [`JobError::Failed`] for a missing name/email or an invalid name, [`JobError::Forbidden`]
/// when an existing restricted application denies the caller WRITE.
pub fn upsert(
    conn: &Connection,
    caller: &Caller,
    application: &Map<String, Value>,
    user: &str,
    now_ms: i64,
) -> Result<(), JobError> {
    let name = job_name(application)?;
    let key = name.to_lowercase();
    let existing = store::applications::get(conn, &key)?;
    if let Some(existing) = &existing
        && !caller.can(existing.get("permissions"), Authorization::Write)
    {
        return Err(JobError::Forbidden);
    }
    let created = existing.is_none();
    let mut merged = existing.unwrap_or_default();
    let create_ts = merged
        .get("createTs")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(now_ms);
    for (k, v) in application {
        if SERVER_MANAGED.contains(&k.as_str()) {
            continue;
        }
        let v = if k == "cloudProviders" {
            normalise_cloud_providers(v)
        } else {
            v.clone()
        };
        merged.insert(k.clone(), v);
    }
    merged.insert("name".to_owned(), Value::String(key.clone()));
    validate_name(&name, merged.get("cloudProviders"))?;
    let has_email = merged
        .get("email")
        .and_then(Value::as_str)
        .is_some_and(|e| !e.trim().is_empty());
    if !has_email {
        return Err(JobError::failed(
            "Application must have a non-empty email",
            "ValidationException",
        ));
    }
    merged.insert("createTs".to_owned(), Value::String(create_ts.to_string()));
    merged.insert("updateTs".to_owned(), Value::String(now_ms.to_string()));
    merged.insert("lastModifiedBy".to_owned(), Value::String(user.to_owned()));
    merged.insert("user".to_owned(), Value::String(user.to_owned()));
    store::applications::put(conn, &key, &merged, create_ts, now_ms)?;
    tracing::info!(application = %key, created, "application saved");
    Ok(())
}

/// `DeleteApplicationTask`: removes the application; an unknown application counts as success.
///
/// # Errors
/// [`JobError::Failed`] for a missing name, [`JobError::Forbidden`] without WRITE.
pub fn delete(
    conn: &Connection,
    caller: &Caller,
    application: &Map<String, Value>,
) -> Result<(), JobError> {
    let key = job_name(application)?.to_lowercase();
    if let Some(existing) = store::applications::get(conn, &key)? {
        if !caller.can(existing.get("permissions"), Authorization::Write) {
            return Err(JobError::Forbidden);
        }
        store::applications::delete(conn, &key)?;
        tracing::info!(application = %key, "application deleted");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubernetes_names_must_start_with_a_letter() {
        let k8s = json!("kubernetes");
        assert!(validate_name("my-app", Some(&k8s)).is_ok());
        assert!(validate_name("1app", Some(&k8s)).is_err());
        assert!(validate_name("my_app", Some(&k8s)).is_err());
    }

    #[test]
    fn aws_allows_dots_and_underscores_but_not_dashes() {
        let aws = json!("aws,kubernetes");
        assert!(validate_name("my_app", Some(&json!("aws"))).is_ok());
        assert!(validate_name("my-app", Some(&json!("aws"))).is_err());
        // both providers apply
        assert!(validate_name("my_app", Some(&aws)).is_err());
    }

    #[test]
    fn cloud_provider_lists_are_joined() {
        assert_eq!(
            normalise_cloud_providers(&json!(["aws", "gce"])),
            json!("aws,gce")
        );
    }
}
