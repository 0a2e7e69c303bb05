//! Prometheus metric source: range queries over `GET /api/v1/query_range`
//! (Kayenta's `PrometheusMetricsService`).
//!
//! Query building follows Kayenta: a custom template (inline or named) that starts
//! with `PromQL:` is the whole query; otherwise its comma-separated filters, then the
//! query's `labelBindings`, go inside `metricName{...}`, which is wrapped in `avg(...)`
//! and followed by ` by (groupByFields)`. Without a template, `resourceType`
//! `gce_instance` or `aws_ec2_instance` adds Kayenta's scope and zone filters. With
//! neither, Kayenta refuses the query; this source does too unless it was given a
//! default scope label, in which case it filters on `<label>="<scope>"`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::{
    CanaryScope, MetricSet, MetricsError, MetricsSource, http_endpoint, send_query, template,
};
use crate::config::{CanaryConfig, CanaryMetricConfig};

const BACKEND: &str = "prometheus";

/// A Prometheus server.
#[derive(Debug, Clone)]
pub struct PrometheusSource {
    base: url::Url,
    client: reqwest::Client,
    scope_label: String,
    default_scope_label: Option<String>,
}

impl PrometheusSource {
    /// A source for the server at `base_url` (e.g. `http://127.0.0.1:9090`).
    ///
    /// # Errors
    /// An unparsable URL or a client that cannot be built.
    pub fn new(base_url: &str) -> Result<Self, MetricsError> {
        let (base, client) = http_endpoint(BACKEND, base_url)?;
        Ok(Self {
            base,
            client,
            scope_label: "instance".to_owned(),
            default_scope_label: None,
        })
    }

    /// The label Kayenta's `gce_instance` filter matches the scope against
    /// (Kayenta's `scopeLabel`, default `instance`).
    #[must_use]
    pub fn with_scope_label(mut self, label: impl Into<String>) -> Self {
        self.scope_label = label.into();
        self
    }

    /// Filter on `<label>="<scope>"` when a metric has neither a template nor a
    /// `resourceType` (an extension; Kayenta rejects such a metric).
    #[must_use]
    pub fn with_default_scope_label(mut self, label: impl Into<String>) -> Self {
        self.default_scope_label = Some(label.into());
        self
    }

    fn query_error(metric: &CanaryMetricConfig, message: impl Into<String>) -> MetricsError {
        MetricsError::Query {
            metric: metric.name.clone(),
            message: message.into(),
        }
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl MetricsSource for PrometheusSource {
    fn source_type(&self) -> &'static str {
        BACKEND
    }

    fn build_query(
        &self,
        config: &CanaryConfig,
        metric: &CanaryMetricConfig,
        scope: &CanaryScope,
    ) -> Result<String, MetricsError> {
        let query = &metric.query;
        let extra_str = |key: &str| {
            query
                .extra
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let resource_type = extra_str("resourceType")
            .or_else(|| {
                scope
                    .extended_scope_params
                    .get("resourceType")
                    .map(String::as_str)
            })
            .filter(|s| !s.is_empty());
        let project = scope
            .extended_scope_params
            .get("project")
            .map(String::as_str);
        let template_text =
            template::select(config, query).map_err(|source| MetricsError::Template {
                metric: metric.name.clone(),
                source,
            })?;
        let custom_filter = match template_text {
            Some(t) => {
                let bindings = template::bindings(
                    scope,
                    &[("project", project), ("resourceType", resource_type)],
                );
                Some(
                    template::expand(&t, &bindings).map_err(|source| MetricsError::Template {
                        metric: metric.name.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        }
        .filter(|f| !f.is_empty());

        if let Some(promql) = custom_filter
            .as_deref()
            .and_then(|f| f.strip_prefix("PromQL:"))
        {
            return Ok(promql.to_owned());
        }
        let metric_name = query
            .metric_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Self::query_error(metric, "query.metricName is required"))?;

        let mut filters = string_list(query.extra.get("labelBindings"));
        match custom_filter {
            Some(custom) => {
                let tokens: Vec<String> = custom.split(',').map(str::to_owned).collect();
                filters.splice(0..0, tokens);
            }
            None => match resource_type {
                Some("gce_instance") => {
                    if scope.location.is_empty() {
                        return Err(Self::query_error(
                            metric,
                            "location (i.e. region) is required when resourceType is 'gce_instance'",
                        ));
                    }
                    if !scope.scope.is_empty() {
                        filters.push(format!("{}=~\"{}-.{{4}}\"", self.scope_label, scope.scope));
                    }
                    let mut zone = ".+/".to_owned();
                    if let Some(p) = project.filter(|p| !p.is_empty()) {
                        zone.push_str(&format!("projects/{p}/"));
                    }
                    zone.push_str(&format!("zones/{}-.{{1}}", scope.location));
                    filters.push(format!("zone=~\"{zone}\""));
                }
                Some("aws_ec2_instance") => {
                    if scope.location.is_empty() {
                        return Err(Self::query_error(
                            metric,
                            "location (i.e. region) is required when resourceType is 'aws_ec2_instance'",
                        ));
                    }
                    if !scope.scope.is_empty() {
                        filters.push(format!("asg_groupName=\"{}\"", scope.scope));
                    }
                    filters.push(format!("zone=~\"{}.{{1}}\"", scope.location));
                }
                Some(other) => {
                    return Err(Self::query_error(
                        metric,
                        format!(
                            "there is no explicit support for resourceType '{other}'; use label bindings and a custom filter template"
                        ),
                    ));
                }
                None => match &self.default_scope_label {
                    Some(label) => filters.push(format!("{label}=\"{}\"", scope.scope)),
                    None => {
                        return Err(Self::query_error(
                            metric,
                            "either a resource type or a custom filter is required",
                        ));
                    }
                },
            },
        }

        let mut built = metric_name.to_owned();
        if !filters.is_empty() {
            built.push('{');
            built.push_str(&filters.join(","));
            built.push('}');
        }
        let mut built = format!("avg({built})");
        let group_by = string_list(query.extra.get("groupByFields"));
        if !group_by.is_empty() {
            built.push_str(&format!(" by ({})", group_by.join(",")));
        }
        Ok(built)
    }

    async fn fetch(
        &self,
        config: &CanaryConfig,
        metric: &CanaryMetricConfig,
        scope: &CanaryScope,
    ) -> Result<Vec<MetricSet>, MetricsError> {
        let query = self.build_query(config, metric, scope)?;
        let step = scope.step_secs.max(1);
        let start = scope.start.as_second();
        let end = scope.end.as_second();
        let mut url = self.base.clone();
        url.set_path(&format!(
            "{}/api/v1/query_range",
            self.base.path().trim_end_matches('/')
        ));
        tracing::debug!(metric = %metric.name, %query, start, end, step, "prometheus range query");
        let request = self.client.get(url).query(&[
            ("query", query.as_str()),
            ("start", &start.to_string()),
            ("end", &end.to_string()),
            ("step", &step.to_string()),
        ]);
        let (status, body) = send_query(BACKEND, request, &[400, 422], &query).await?;
        let parsed: RangeResponse =
            serde_json::from_str(&body).map_err(|e| MetricsError::Decode {
                backend: BACKEND,
                message: e.to_string(),
            })?;
        if parsed.status != "success" {
            return Err(MetricsError::Status {
                backend: BACKEND,
                status,
                message: parsed.error.unwrap_or_else(|| parsed.status.clone()),
            });
        }
        let points = usize::try_from((end - start).max(0) as u64 / step + 1).unwrap_or(0);
        let step_millis = i64::try_from(step).unwrap_or(i64::MAX).saturating_mul(1000);
        let mut sets = Vec::new();
        for series in parsed.data.map(|d| d.result).unwrap_or_default() {
            let mut values = vec![f64::NAN; points];
            for (t, v) in series.values {
                let offset = (t - start as f64) / step as f64;
                let index = offset.round();
                if index >= 0.0
                    && let Some(slot) = values.get_mut(index as usize)
                {
                    *slot = v.parse().unwrap_or(f64::NAN);
                }
            }
            let tags: BTreeMap<String, String> = series
                .metric
                .into_iter()
                .filter(|(k, _)| k != "__name__")
                .collect();
            sets.push(MetricSet {
                name: metric.name.clone(),
                tags,
                values,
                start_millis: start.saturating_mul(1000),
                step_millis,
                query: query.clone(),
            });
        }
        if sets.is_empty() {
            sets.push(MetricSet {
                name: metric.name.clone(),
                tags: BTreeMap::new(),
                values: Vec::new(),
                start_millis: start.saturating_mul(1000),
                step_millis,
                query,
            });
        }
        Ok(sets)
    }
}

#[derive(Debug, Deserialize)]
struct RangeResponse {
    status: String,
    #[serde(default)]
    data: Option<RangeData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RangeData {
    #[serde(default)]
    result: Vec<RangeSeries>,
}

#[derive(Debug, Deserialize)]
struct RangeSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MetricQuery;

    fn scope() -> CanaryScope {
        CanaryScope {
            scope: "app-v001".into(),
            location: "us-east-1".into(),
            start: jiff::Timestamp::UNIX_EPOCH,
            end: jiff::Timestamp::UNIX_EPOCH,
            step_secs: 60,
            extended_scope_params: BTreeMap::new(),
        }
    }

    fn metric(query: serde_json::Value) -> CanaryMetricConfig {
        CanaryMetricConfig {
            name: "cpu".into(),
            query: serde_json::from_value::<MetricQuery>(query).unwrap(),
            ..Default::default()
        }
    }

    #[test]
    fn builds_kayenta_queries() {
        let source = PrometheusSource::new("http://127.0.0.1:9").unwrap();
        let config = CanaryConfig::default();
        let aws = metric(
            serde_json::json!({"type": "prometheus", "metricName": "cpu", "resourceType": "aws_ec2_instance", "groupByFields": ["a", "b"]}),
        );
        assert_eq!(
            source.build_query(&config, &aws, &scope()).unwrap(),
            "avg(cpu{asg_groupName=\"app-v001\",zone=~\"us-east-1.{1}\"}) by (a,b)"
        );
        let inline = metric(
            serde_json::json!({"type": "prometheus", "metricName": "cpu", "labelBindings": ["job=\"x\""], "customInlineTemplate": "group=\"$\\{scope}\""}),
        );
        assert_eq!(
            source.build_query(&config, &inline, &scope()).unwrap(),
            "avg(cpu{group=\"app-v001\",job=\"x\"})"
        );
        let promql = metric(
            serde_json::json!({"type": "prometheus", "customInlineTemplate": "PromQL:rate(x{g=\"${scope}\"}[1m])"}),
        );
        assert_eq!(
            source.build_query(&config, &promql, &scope()).unwrap(),
            "rate(x{g=\"app-v001\"}[1m])"
        );
        let bare = metric(serde_json::json!({"type": "prometheus", "metricName": "cpu"}));
        assert!(source.build_query(&config, &bare, &scope()).is_err());
        let labelled = source.clone().with_default_scope_label("group");
        assert_eq!(
            labelled.build_query(&config, &bare, &scope()).unwrap(),
            "avg(cpu{group=\"app-v001\"})"
        );
    }
}
