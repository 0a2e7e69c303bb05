//! Metric sources: fetch one metric's series for a scope over a time window
//! (Kayenta's `MetricsService`), one module per backend behind [`MetricsSource`].
//!
//! A caller (the engine's `kayentaCanary` stage) fetches the control and experiment
//! scopes of every metric with [`fetch_pairs`], then hands the pairs to
//! [`crate::judge::judge`].

pub mod datadog;
pub mod prometheus;
pub mod template;

use std::collections::BTreeMap;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::config::{CanaryConfig, CanaryMetricConfig};
use crate::judge::MetricSetPair;

/// A scope of a canary request: which servers, where, and when (Kayenta's `CanaryScope`).
#[derive(Debug, Clone, PartialEq)]
pub struct CanaryScope {
    /// The scope string, e.g. a server group name or `autoscaling_group:myapp-v010`.
    pub scope: String,
    /// The location, e.g. a region.
    pub location: String,
    /// Start of the window (inclusive).
    pub start: Timestamp,
    /// End of the window (inclusive).
    pub end: Timestamp,
    /// Step between points, in seconds.
    pub step_secs: u64,
    /// Extra template bindings.
    pub extended_scope_params: BTreeMap<String, String>,
}

/// One series returned by a source (Kayenta's `MetricSet`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSet {
    /// The metric's name in the config.
    pub name: String,
    /// Tags identifying the series.
    pub tags: BTreeMap<String, String>,
    /// Values, NaN where a point is missing.
    pub values: Vec<f64>,
    /// Epoch milliseconds of the first point.
    pub start_millis: i64,
    /// Milliseconds between points.
    pub step_millis: i64,
    /// The query sent to the backend.
    pub query: String,
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The metric's query cannot be built.
    #[error("metric {metric:?}: {message}")]
    Query {
        /// Metric name.
        metric: String,
        /// What is wrong.
        message: String,
    },
    /// A template placeholder has no binding or a template is missing.
    #[error("metric {metric:?}: {source}")]
    Template {
        /// Metric name.
        metric: String,
        /// The expansion error.
        #[source]
        source: template::TemplateError,
    },
    /// The HTTP request failed.
    #[error("{backend} request failed")]
    Transport {
        /// `prometheus` or `datadog`.
        backend: &'static str,
        /// The client error.
        #[source]
        source: reqwest::Error,
    },
    /// The backend rejected the credentials (HTTP 401/403).
    #[error("{backend} rejected the credentials (HTTP {status}): {message}")]
    Forbidden {
        /// Backend name.
        backend: &'static str,
        /// HTTP status.
        status: u16,
        /// The backend's error text.
        message: String,
    },
    /// The backend rejected the query (HTTP 400/422).
    #[error("{backend} rejected the query {query:?} (HTTP {status}): {message}")]
    BadQuery {
        /// Backend name.
        backend: &'static str,
        /// HTTP status.
        status: u16,
        /// The query sent.
        query: String,
        /// The backend's error text.
        message: String,
    },
    /// The backend is rate limiting (HTTP 429).
    #[error("{backend} rate limit exceeded: {message}")]
    RateLimited {
        /// Backend name.
        backend: &'static str,
        /// The backend's error text.
        message: String,
        /// Seconds until the limit resets, when the backend says.
        retry_after_secs: Option<u64>,
    },
    /// Any other non-success status.
    #[error("{backend} answered HTTP {status}: {message}")]
    Status {
        /// Backend name.
        backend: &'static str,
        /// HTTP status.
        status: u16,
        /// The backend's error text.
        message: String,
    },
    /// The response body did not have the documented shape.
    #[error("{backend} response could not be decoded: {message}")]
    Decode {
        /// Backend name.
        backend: &'static str,
        /// What was wrong.
        message: String,
    },
}

impl MetricsError {
    /// The error for a non-success HTTP answer from `backend`: statuses in `bad_query` are
    /// [`MetricsError::BadQuery`], 401/403 [`MetricsError::Forbidden`], 429
    /// [`MetricsError::RateLimited`] (with the backend's reset hint, if any), the rest
    /// [`MetricsError::Status`].
    pub(crate) fn from_status(
        backend: &'static str,
        status: u16,
        bad_query: &[u16],
        query: String,
        message: String,
        retry_after_secs: Option<u64>,
    ) -> MetricsError {
        match status {
            s if bad_query.contains(&s) => MetricsError::BadQuery {
                backend,
                status,
                query,
                message,
            },
            401 | 403 => MetricsError::Forbidden {
                backend,
                status,
                message,
            },
            429 => MetricsError::RateLimited {
                backend,
                message,
                retry_after_secs,
            },
            _ => MetricsError::Status {
                backend,
                status,
                message,
            },
        }
    }
}

/// A metrics backend.
#[async_trait]
pub trait MetricsSource: Send + Sync {
    /// The `query.type` this source serves (`prometheus`, `datadog`).
    fn source_type(&self) -> &'static str;

    /// The query this source would send for `metric` in `scope`.
    ///
    /// # Errors
    /// When the metric's query config cannot be turned into a query.
    fn build_query(
        &self,
        config: &CanaryConfig,
        metric: &CanaryMetricConfig,
        scope: &CanaryScope,
    ) -> Result<String, MetricsError>;

    /// Fetches the series of `metric` for `scope`. An empty answer yields one set with
    /// no values, as Kayenta does, so the judge sees "no data".
    ///
    /// # Errors
    /// Query building, transport, HTTP and decoding failures.
    async fn fetch(
        &self,
        config: &CanaryConfig,
        metric: &CanaryMetricConfig,
        scope: &CanaryScope,
    ) -> Result<Vec<MetricSet>, MetricsError>;
}

/// Fetches every metric of `config` for the control and experiment scopes and pairs
/// the series by tags (Kayenta's `MetricSetMixerService`): a series present on one
/// side only is paired with an empty series.
///
/// # Errors
/// The first fetch error.
pub async fn fetch_pairs(
    source: &dyn MetricsSource,
    config: &CanaryConfig,
    control: &CanaryScope,
    experiment: &CanaryScope,
) -> Result<Vec<MetricSetPair>, MetricsError> {
    let mut pairs = Vec::new();
    for metric in &config.metrics {
        let control_sets = source.fetch(config, metric, control).await?;
        let experiment_sets = source.fetch(config, metric, experiment).await?;
        pairs.extend(pair_sets(&metric.name, control_sets, experiment_sets));
    }
    Ok(pairs)
}

/// Pairs control and experiment sets of one metric by their tags.
pub fn pair_sets(
    name: &str,
    control: Vec<MetricSet>,
    experiment: Vec<MetricSet>,
) -> Vec<MetricSetPair> {
    let mut by_tags: BTreeMap<BTreeMap<String, String>, MetricSetPair> = BTreeMap::new();
    let mut order: Vec<BTreeMap<String, String>> = Vec::new();
    for (set, is_control) in control
        .into_iter()
        .map(|s| (s, true))
        .chain(experiment.into_iter().map(|s| (s, false)))
    {
        let entry = by_tags.entry(set.tags.clone()).or_insert_with(|| {
            order.push(set.tags.clone());
            MetricSetPair {
                name: name.to_owned(),
                id: String::new(),
                tags: set.tags.clone(),
                control: Vec::new(),
                experiment: Vec::new(),
            }
        });
        if is_control {
            entry.control = set.values;
        } else {
            entry.experiment = set.values;
        }
    }
    order
        .into_iter()
        .enumerate()
        .filter_map(|(i, tags)| {
            by_tags.remove(&tags).map(|mut p| {
                p.id = format!("{name}#{i}");
                p
            })
        })
        .collect()
}

/// A credential whose `Debug` and `Display` never show the value (the workspace's one
/// redacting type).
pub use pipeline::secret::Secret;

/// The parsed base URL of a backend and an HTTP client for it (60 s timeout).
pub(crate) fn http_endpoint(
    backend: &'static str,
    base_url: &str,
) -> Result<(url::Url, reqwest::Client), MetricsError> {
    let base = url::Url::parse(base_url).map_err(|e| MetricsError::Query {
        metric: String::new(),
        message: format!("invalid {backend} URL {base_url:?}: {e}"),
    })?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|source| MetricsError::Transport { backend, source })?;
    Ok((base, client))
}

/// Sends a backend query and returns the status and body of a 2xx answer. Transport failures
/// and other statuses become [`MetricsError`]s through [`MetricsError::from_status`] (with
/// `bad_query` the statuses that mean the query itself is wrong, and Datadog's
/// `X-RateLimit-Reset` hint when the backend sends one).
pub(crate) async fn send_query(
    backend: &'static str,
    request: reqwest::RequestBuilder,
    bad_query: &[u16],
    query: &str,
) -> Result<(u16, String), MetricsError> {
    let transport = |source| MetricsError::Transport { backend, source };
    let response = request.send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let reset = response
        .headers()
        .get("X-RateLimit-Reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = response.text().await.map_err(transport)?;
    if !(200..300).contains(&status) {
        let message = error_message(&body);
        return Err(MetricsError::from_status(
            backend,
            status,
            bad_query,
            query.to_owned(),
            message,
            reset,
        ));
    }
    Ok((status, body))
}

/// The error text of a non-success body: Datadog's `{"errors": [...]}`, Prometheus'
/// `{"error": "..."}`, or the body itself (truncated).
pub(crate) fn error_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        if let Some(errors) = value.get("errors").and_then(|e| e.as_array()) {
            let texts: Vec<String> = errors
                .iter()
                .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                .collect();
            return texts.join("; ");
        }
        if let Some(error) = value.get("error").and_then(|e| e.as_str()) {
            return error.to_owned();
        }
    }
    body.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(tags: &[(&str, &str)], values: &[f64]) -> MetricSet {
        MetricSet {
            name: "m".into(),
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            values: values.to_vec(),
            start_millis: 0,
            step_millis: 60_000,
            query: String::new(),
        }
    }

    #[test]
    fn pairs_by_tags_and_fills_missing_side() {
        let pairs = pair_sets(
            "m",
            vec![set(&[("az", "a")], &[1.0]), set(&[("az", "b")], &[2.0])],
            vec![set(&[("az", "b")], &[3.0])],
        );
        assert_eq!(pairs.len(), 2);
        assert_eq!(
            (pairs[0].control.clone(), pairs[0].experiment.clone()),
            (vec![1.0], vec![])
        );
        assert_eq!(
            (pairs[1].control.clone(), pairs[1].experiment.clone()),
            (vec![2.0], vec![3.0])
        );
    }

    #[test]
    fn error_messages_follow_documented_shapes() {
        assert_eq!(error_message(r#"{"errors": ["Forbidden"]}"#), "Forbidden");
        assert_eq!(error_message(r#"{"status":"error","error":"bad"}"#), "bad");
        assert_eq!(error_message("plain"), "plain");
    }
}
