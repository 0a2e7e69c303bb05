//! Canary analysis in the engine: the metric accounts of `[canary.accounts.<name>]` typed and
//! turned into metric sources, the canary-config store as the `kayentaCanary` stage reads it,
//! and the stage itself built from both.
//!
//! ```toml
//! [canary.accounts.prom]
//! type = "prometheus"
//! url = "http://127.0.0.1:9090"
//!
//! [canary.accounts.dd]
//! type = "datadog"
//! url = "https://api.datadoghq.com"   # default
//! api_key = "…"                       # never logged
//! application_key = "…"               # never logged
//! ```
//!
//! A stage without `metricsAccountName` uses the first account by name.

use std::sync::Arc;

use canary::metrics::datadog::{DEFAULT_BASE_URL, DatadogSource};
use canary::metrics::prometheus::PrometheusSource;
use canary::metrics::{MetricsSource, Secret};
use execution::stages::kayenta_canary::{CanaryConfigs, KayentaCanary, MetricsAccounts};
use futures::future::BoxFuture;
use serde_json::Value;

use crate::config::CanaryConfig;
use crate::store::{self, Store, StoreError};

/// Why a `[canary.accounts.<name>]` table is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CanaryAccountError {
    /// A required key is missing or empty.
    #[error("canary.accounts.{account}.{field} is required for type {kind:?}")]
    Missing {
        /// Account name.
        account: String,
        /// The key.
        field: &'static str,
        /// The account's type.
        kind: String,
    },
    /// A key has the wrong type or value.
    #[error("canary.accounts.{account}.{field}: {message}")]
    Invalid {
        /// Account name.
        account: String,
        /// The key.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The metric source could not be built (e.g. an unparsable URL).
    #[error("canary.accounts.{account}: {source}")]
    Source {
        /// Account name.
        account: String,
        /// The source's error.
        #[source]
        source: canary::metrics::MetricsError,
    },
}

/// One typed account. Keys are kept in [`Secret`]s, whose `Debug` is redacted.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CanaryAccount {
    /// A Prometheus server.
    Prometheus {
        /// Base URL, e.g. `http://127.0.0.1:9090`.
        url: String,
    },
    /// A Datadog account.
    Datadog {
        /// API base URL (default `https://api.datadoghq.com`).
        url: String,
        /// `DD-API-KEY`.
        api_key: Secret,
        /// `DD-APPLICATION-KEY`.
        application_key: Secret,
    },
}

fn text(
    account: &str,
    table: &toml::Table,
    field: &'static str,
) -> Result<Option<String>, CanaryAccountError> {
    match table.get(field) {
        None => Ok(None),
        Some(toml::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(other) => Err(CanaryAccountError::Invalid {
            account: account.to_owned(),
            field: field.to_owned(),
            message: format!("must be a string, got a {}", other.type_str()),
        }),
    }
}

impl CanaryAccount {
    /// Types one `[canary.accounts.<name>]` table, naming the key at fault.
    ///
    /// # Errors
    /// [`CanaryAccountError`] for a missing, mistyped or unknown key.
    pub fn parse(account: &str, table: &toml::Table) -> Result<Self, CanaryAccountError> {
        let kind = text(account, table, "type")?.unwrap_or_default();
        let known: &[&str] = match kind.as_str() {
            "prometheus" => &["type", "url"],
            "datadog" => &["type", "url", "api_key", "application_key"],
            other => {
                return Err(CanaryAccountError::Invalid {
                    account: account.to_owned(),
                    field: "type".to_owned(),
                    message: format!("must be \"prometheus\" or \"datadog\", got {other:?}"),
                });
            }
        };
        if let Some(unknown) = table.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(CanaryAccountError::Invalid {
                account: account.to_owned(),
                field: unknown.clone(),
                message: format!(
                    "unknown key for type {kind:?} (known: {})",
                    known.join(", ")
                ),
            });
        }
        let required = |field: &'static str| {
            text(account, table, field)?.ok_or_else(|| CanaryAccountError::Missing {
                account: account.to_owned(),
                field,
                kind: kind.clone(),
            })
        };
        Ok(match kind.as_str() {
            "prometheus" => Self::Prometheus {
                url: required("url")?,
            },
            _ => Self::Datadog {
                url: text(account, table, "url")?.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
                api_key: Secret::new(required("api_key")?),
                application_key: Secret::new(required("application_key")?),
            },
        })
    }

    /// The metric source for this account.
    ///
    /// # Errors
    /// [`CanaryAccountError::Source`] when the URL does not parse.
    pub fn source(&self, account: &str) -> Result<Arc<dyn MetricsSource>, CanaryAccountError> {
        let wrap = |source| CanaryAccountError::Source {
            account: account.to_owned(),
            source,
        };
        Ok(match self {
            Self::Prometheus { url } => Arc::new(PrometheusSource::new(url).map_err(wrap)?),
            Self::Datadog {
                url,
                api_key,
                application_key,
            } => Arc::new(
                DatadogSource::new(url, api_key.clone(), application_key.clone()).map_err(wrap)?,
            ),
        })
    }
}

/// Every configured account as a metric source.
///
/// # Errors
/// The first unusable account.
pub fn metrics_accounts(config: &CanaryConfig) -> Result<MetricsAccounts, CanaryAccountError> {
    let mut accounts = MetricsAccounts::new();
    for (name, table) in &config.accounts {
        let account = CanaryAccount::parse(name, table)?;
        accounts.insert(name.clone(), account.source(name)?);
    }
    Ok(accounts)
}

/// Checks every `[canary.accounts.<name>]` table (for config validation at start-up).
///
/// # Errors
/// The first unusable account.
pub fn validate(config: &CanaryConfig) -> Result<(), CanaryAccountError> {
    metrics_accounts(config).map(drop)
}

/// The engine's canary-config table, as the stage reads it.
#[derive(Clone)]
pub struct StoredCanaryConfigs {
    store: Store,
}

impl StoredCanaryConfigs {
    /// Reads from `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl CanaryConfigs for StoredCanaryConfigs {
    fn canary_config(&self, id: &str) -> BoxFuture<'static, Result<Option<Value>, String>> {
        let store = self.store.clone();
        let id = id.to_owned();
        Box::pin(async move {
            store
                .read(move |conn| store::canary_configs::get(conn, &id))
                .await
                .map(|row| row.map(|r| Value::Object(r.body)))
                .map_err(|e: StoreError| e.to_string())
        })
    }

    fn canary_config_id(
        &self,
        name: &str,
        application: &str,
    ) -> BoxFuture<'static, Result<Option<String>, String>> {
        let store = self.store.clone();
        let (name, application) = (name.to_owned(), application.to_owned());
        Box::pin(async move {
            store
                .read(store::canary_configs::list)
                .await
                .map(|rows| {
                    rows.into_iter()
                        .find(|r| r.name == name && r.applications.contains(&application))
                        .map(|r| r.id)
                })
                .map_err(|e: StoreError| e.to_string())
        })
    }
}

/// The `kayentaCanary` stage over the engine's store and the configured accounts.
///
/// # Errors
/// An unusable `[canary.accounts.<name>]` table.
pub fn kayenta_canary_stage(
    config: &CanaryConfig,
    store: Store,
) -> Result<KayentaCanary, CanaryAccountError> {
    Ok(KayentaCanary::new(
        Arc::new(StoredCanaryConfigs::new(store)),
        metrics_accounts(config)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap_or_default()
    }

    #[test]
    fn datadog_keys_are_typed_and_never_shown() {
        let account = CanaryAccount::parse(
            "dd",
            &table("type = \"datadog\"\napi_key = \"k-123\"\napplication_key = \"a-456\""),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{account:?}");
        assert!(
            !shown.contains("k-123") && !shown.contains("a-456"),
            "{shown}"
        );
        assert!(shown.contains(DEFAULT_BASE_URL), "{shown}");
        let config = CanaryConfig {
            accounts: [(
                "dd".to_owned(),
                table("type = \"datadog\"\napi_key = \"k-123\"\napplication_key = \"a-456\""),
            )]
            .into_iter()
            .collect(),
        };
        let accounts = metrics_accounts(&config).unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{accounts:?}");
        assert!(
            shown.contains("\"dd\": \"datadog\"") && !shown.contains("k-123"),
            "{shown}"
        );
    }

    #[test]
    fn errors_name_the_account_and_key() {
        let err = |text: &str| {
            CanaryAccount::parse("prod", &table(text))
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("type = \"datadog\"\napi_key = \"k\""),
            "canary.accounts.prod.application_key is required for type \"datadog\""
        );
        assert_eq!(
            err("type = \"prometheus\""),
            "canary.accounts.prod.url is required for type \"prometheus\""
        );
        assert!(err("type = \"atlas\"").starts_with("canary.accounts.prod.type: must be"));
        assert!(
            err("type = \"prometheus\"\nurl = \"http://x\"\napi_key = \"k\"")
                .starts_with("canary.accounts.prod.api_key: unknown key")
        );
        assert!(err("type = \"prometheus\"\nurl = 3").contains("must be a string"));
        let bad_url = CanaryConfig {
            accounts: [(
                "p".to_owned(),
                table("type = \"prometheus\"\nurl = \"not a url\""),
            )]
            .into_iter()
            .collect(),
        };
        let e = validate(&bad_url).map(|_| ()).unwrap_err().to_string();
        assert!(e.starts_with("canary.accounts.p: "), "{e}");
    }

    #[tokio::test]
    async fn stored_configs_are_found_by_id_and_by_name() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let body = serde_json::json!({"id": "c1", "name": "checkout", "applications": ["shop"], "metrics": []});
        let doc = body.as_object().cloned().unwrap_or_default();
        store
            .write(move |conn| {
                store::canary_configs::put(conn, "c1", "checkout", &["shop".to_owned()], 0, &doc)
            })
            .await
            .unwrap_or_else(|e: StoreError| panic!("{e}"));
        let configs = StoredCanaryConfigs::new(store.clone());
        assert_eq!(configs.canary_config("c1").await, Ok(Some(body)));
        assert_eq!(configs.canary_config("nope").await, Ok(None));
        assert_eq!(
            configs.canary_config_id("checkout", "shop").await,
            Ok(Some("c1".to_owned()))
        );
        assert_eq!(
            configs.canary_config_id("checkout", "other").await,
            Ok(None)
        );
        store.shutdown();
    }
}
