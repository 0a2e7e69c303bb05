//! Datadog metric source: `GET /api/v1/query?from=&to=&query=` with the account's
//! API and application keys as `DD-API-KEY` / `DD-APPLICATION-KEY` headers
//! (Kayenta's `DatadogMetricsService`, spinnaker.md §6.4).
//!
//! The query is `<metricName>{<scope>}`, or the expanded custom template as a whole.
//! Each returned series becomes a set with `stepMillis = interval * 1000`; null points
//! become NaN. Errors use Datadog's documented `{"errors": [...]}` body: 400 (bad
//! query), 403 (bad keys), 429 (rate limit, with `X-RateLimit-Reset`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Deserialize;

use super::{
    CanaryScope, MetricSet, MetricsError, MetricsSource, Secret, http_endpoint, send_query,
    template,
};
use crate::config::{CanaryConfig, CanaryMetricConfig};

const BACKEND: &str = "datadog";

/// Datadog's public API endpoint (US1 site).
pub const DEFAULT_BASE_URL: &str = "https://api.datadoghq.com";

/// A Datadog account.
#[derive(Debug, Clone)]
pub struct DatadogSource {
    base: url::Url,
    api_key: Secret,
    application_key: Secret,
    client: reqwest::Client,
}

impl DatadogSource {
    /// A source for the API at `base_url` with the account's keys.
    ///
    /// # Errors
    /// An unparsable URL or a client that cannot be built.
    pub fn new(
        base_url: &str,
        api_key: Secret,
        application_key: Secret,
    ) -> Result<Self, MetricsError> {
        let (base, client) = http_endpoint(BACKEND, base_url)?;
        Ok(Self {
            base,
            api_key,
            application_key,
            client,
        })
    }
}

#[async_trait]
impl MetricsSource for DatadogSource {
    fn source_type(&self) -> &'static str {
        BACKEND
    }

    fn build_query(
        &self,
        config: &CanaryConfig,
        metric: &CanaryMetricConfig,
        scope: &CanaryScope,
    ) -> Result<String, MetricsError> {
        let template_error = |source| MetricsError::Template {
            metric: metric.name.clone(),
            source,
        };
        if let Some(t) = template::select(config, &metric.query).map_err(template_error)? {
            let bindings = template::bindings(scope, &[]);
            return template::expand(&t, &bindings).map_err(template_error);
        }
        let name = metric
            .query
            .metric_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| MetricsError::Query {
                metric: metric.name.clone(),
                message: "query.metricName is required".to_owned(),
            })?;
        Ok(format!("{name}{{{}}}", scope.scope))
    }

    async fn fetch(
        &self,
        config: &CanaryConfig,
        metric: &CanaryMetricConfig,
        scope: &CanaryScope,
    ) -> Result<Vec<MetricSet>, MetricsError> {
        let query = self.build_query(config, metric, scope)?;
        let from = scope.start.as_second();
        let to = scope.end.as_second();
        let mut url = self.base.clone();
        url.set_path(&format!(
            "{}/api/v1/query",
            self.base.path().trim_end_matches('/')
        ));
        tracing::debug!(metric = %metric.name, %query, from, to, "datadog query");
        let request = self
            .client
            .get(url)
            .header("DD-API-KEY", self.api_key.expose())
            .header("DD-APPLICATION-KEY", self.application_key.expose())
            .query(&[
                ("from", from.to_string()),
                ("to", to.to_string()),
                ("query", query.clone()),
            ]);
        let (status, body) = send_query(BACKEND, request, &[400], &query).await?;
        let parsed: QueryResponse =
            serde_json::from_str(&body).map_err(|e| MetricsError::Decode {
                backend: BACKEND,
                message: e.to_string(),
            })?;
        if parsed.status.as_deref() == Some("error") {
            return Err(MetricsError::BadQuery {
                backend: BACKEND,
                status,
                query,
                message: parsed
                    .error
                    .unwrap_or_else(|| "status \"error\"".to_owned()),
            });
        }
        let start_millis = from.saturating_mul(1000);
        let several = parsed.series.len() > 1;
        let mut sets: Vec<MetricSet> = parsed
            .series
            .into_iter()
            .enumerate()
            .map(|(i, series)| {
                let mut tags = BTreeMap::new();
                if several {
                    // Control and experiment scopes differ, so the scope cannot pair
                    // series; their order does.
                    tags.insert("series".to_owned(), i.to_string());
                }
                MetricSet {
                    name: metric.name.clone(),
                    tags,
                    values: series
                        .pointlist
                        .iter()
                        .map(|p| p.get(1).copied().flatten().unwrap_or(f64::NAN))
                        .collect(),
                    start_millis: series
                        .pointlist
                        .first()
                        .and_then(|p| p.first().copied().flatten())
                        .map_or(start_millis, |ms| ms as i64),
                    step_millis: (series.interval.unwrap_or(0.0) * 1000.0) as i64,
                    query: query.clone(),
                }
            })
            .collect();
        if sets.is_empty() {
            sets.push(MetricSet {
                name: metric.name.clone(),
                tags: BTreeMap::new(),
                values: Vec::new(),
                start_millis,
                step_millis: i64::try_from(scope.step_secs)
                    .unwrap_or(0)
                    .saturating_mul(1000),
                query,
            });
        }
        Ok(sets)
    }
}

#[derive(Debug, Deserialize)]
struct QueryResponse {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    series: Vec<Series>,
}

#[derive(Debug, Deserialize)]
struct Series {
    #[serde(default)]
    pointlist: Vec<Vec<Option<f64>>>,
    #[serde(default)]
    interval: Option<f64>,
}
