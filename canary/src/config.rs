//! Kayenta's canary config JSON (`CanaryConfig`, spinnaker.md §6.1), read and written
//! losslessly: fields we do not model are kept in `extra` and written back unchanged.
//!
//! The per-metric judge settings (`analysisConfigurations.canary`) stay raw JSON in the
//! config and are read with Kayenta's defaults by [`CanaryMetricConfig::analysis`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A whole canary config, as stored by Kayenta or Front50.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CanaryConfig {
    /// Set by Kayenta, or taken from the body on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `[A-Za-z0-9_-]`, unique among configs sharing an application.
    #[serde(default)]
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Usually "1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_version: Option<String>,
    /// Applications that may use the config.
    #[serde(default)]
    pub applications: Vec<String>,
    /// The judge; only `NetflixACAJudge-v1.0` exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<CanaryJudgeConfig>,
    /// Metrics compared between control and experiment.
    #[serde(default)]
    pub metrics: Vec<CanaryMetricConfig>,
    /// Named filter templates with `${var}` placeholders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub templates: BTreeMap<String, String>,
    /// Group weights and default thresholds.
    #[serde(default)]
    pub classifier: CanaryClassifierConfig,
    /// Everything else (timestamps, fields of newer Kayenta versions).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `judge`: which judge and its (always empty) configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CanaryJudgeConfig {
    /// `NetflixACAJudge-v1.0`.
    #[serde(default)]
    pub name: String,
    /// Should be an empty object.
    #[serde(default)]
    pub judge_configurations: Map<String, Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `classifier`: group weights and the config-level default thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CanaryClassifierConfig {
    /// Weight of each group; should total 100. Unlisted groups share what is left.
    #[serde(default)]
    pub group_weights: BTreeMap<String, f64>,
    /// Default thresholds; a stage or request overrides them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_thresholds: Option<ScoreThresholds>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The summary score thresholds: `score >= pass` passes, `score >= marginal` is marginal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreThresholds {
    /// Pass threshold (default 75).
    pub pass: f64,
    /// Marginal threshold (default 50).
    pub marginal: f64,
}

impl Default for ScoreThresholds {
    fn default() -> Self {
        Self {
            pass: 75.0,
            marginal: 50.0,
        }
    }
}

/// One `metrics[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CanaryMetricConfig {
    /// Unique within the config.
    #[serde(default)]
    pub name: String,
    /// How a metric source fetches it.
    #[serde(default)]
    pub query: MetricQuery,
    /// Groups the metric scores in.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Which request scope it uses (default `"default"`).
    #[serde(default = "default_scope_name")]
    pub scope_name: String,
    /// `{ "canary": { direction, nanStrategy, critical, ... } }`, kept raw.
    #[serde(default)]
    pub analysis_configurations: Map<String, Value>,
    /// Unmodelled fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn default_scope_name() -> String {
    "default".to_owned()
}

/// A metric's `query`: polymorphic on `type` in Kayenta. The fields shared by the
/// sources we implement are typed; source-specific ones (`labelBindings`,
/// `resourceType`, ...) stay in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MetricQuery {
    /// The metric source type: `prometheus`, `datadog`, `atlas`, ...
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Metric name (Prometheus) or query prefix such as `avg:system.cpu.user` (Datadog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    /// An inline template; takes precedence over `customFilterTemplate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_inline_template: Option<String>,
    /// The name of an entry in the config's `templates`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_filter_template: Option<String>,
    /// Source-specific fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which way a change is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Only a rise fails.
    Increase,
    /// Only a fall fails.
    Decrease,
    /// Both fail.
    Either,
}

/// What to do with NaN (missing) points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NanStrategy {
    /// Drop them.
    Remove,
    /// Replace them with 0.0.
    Replace,
}

/// How the effect size is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectMeasure {
    /// `mean(experiment) / mean(control)`.
    MeanRatio,
    /// Common-language effect size: share of pairs with experiment > control.
    Cles,
}

/// The judge settings of one metric with Kayenta's defaults applied (§6.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricAnalysis {
    /// `direction`, default either.
    pub direction: Direction,
    /// `nanStrategy`, default remove.
    pub nan_strategy: NanStrategy,
    /// `critical`: a High/Low fails the whole canary.
    pub critical: bool,
    /// `mustHaveData`: missing data counts as a failure.
    pub must_have_data: bool,
    /// `muted`: reported but not scored.
    pub muted: bool,
    /// `effectSize.measure`.
    pub effect_measure: EffectMeasure,
    /// `effectSize.allowedIncrease`.
    pub allowed_increase: f64,
    /// `effectSize.allowedDecrease`.
    pub allowed_decrease: f64,
    /// `effectSize.criticalIncrease`.
    pub critical_increase: f64,
    /// `effectSize.criticalDecrease`.
    pub critical_decrease: f64,
    /// `outliers.strategy == "remove"`.
    pub remove_outliers: bool,
    /// `outliers.outlierFactor`, default 3.0.
    pub outlier_factor: f64,
}

impl CanaryMetricConfig {
    /// Reads `analysisConfigurations.canary` with Kayenta's defaults; unknown values
    /// fall back to the default, as Kayenta's parsers do.
    pub fn analysis(&self) -> MetricAnalysis {
        let canary = self.analysis_configurations.get("canary");
        let get = |path: &[&str]| -> Option<&Value> {
            let mut node = canary?;
            for key in path {
                node = node.get(key)?;
            }
            Some(node)
        };
        let string = |path: &[&str]| get(path).and_then(Value::as_str).map(str::to_owned);
        let boolean = |path: &[&str]| match get(path) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let number = |path: &[&str], default: f64| match get(path) {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(default),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(default),
            _ => default,
        };
        let direction = match string(&["direction"]).as_deref() {
            Some("increase") => Direction::Increase,
            Some("decrease") => Direction::Decrease,
            _ => Direction::Either,
        };
        let nan_strategy = match string(&["nanStrategy"]).as_deref() {
            Some("replace") => NanStrategy::Replace,
            _ => NanStrategy::Remove,
        };
        let effect_measure = match string(&["effectSize", "measure"]).as_deref() {
            Some("cles") => EffectMeasure::Cles,
            _ => EffectMeasure::MeanRatio,
        };
        let default_effect = match effect_measure {
            EffectMeasure::Cles => 0.5,
            EffectMeasure::MeanRatio => 1.0,
        };
        MetricAnalysis {
            direction,
            nan_strategy,
            critical: boolean(&["critical"]),
            must_have_data: boolean(&["mustHaveData"]),
            muted: boolean(&["muted"]),
            effect_measure,
            allowed_increase: number(&["effectSize", "allowedIncrease"], default_effect),
            allowed_decrease: number(&["effectSize", "allowedDecrease"], default_effect),
            critical_increase: number(&["effectSize", "criticalIncrease"], default_effect),
            critical_decrease: number(&["effectSize", "criticalDecrease"], default_effect),
            remove_outliers: string(&["outliers", "strategy"]).as_deref() == Some("remove"),
            outlier_factor: number(&["outliers", "outlierFactor"], 3.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_unknown_fields_and_applies_defaults() {
        let text = r#"{
          "name": "cpu", "applications": ["app"], "createdTimestamp": 5,
          "judge": {"name": "NetflixACAJudge-v1.0", "judgeConfigurations": {}},
          "metrics": [{
            "name": "cpu", "groups": ["system"],
            "query": {"type": "prometheus", "metricName": "cpu", "labelBindings": []},
            "analysisConfigurations": {"canary": {"direction": "increase", "effectSize": {"measure": "cles"}}}
          }],
          "classifier": {"groupWeights": {"system": 100}}
        }"#;
        let config: CanaryConfig = serde_json::from_str(text).unwrap();
        let analysis = config.metrics[0].analysis();
        assert_eq!(analysis.direction, Direction::Increase);
        assert_eq!(analysis.nan_strategy, NanStrategy::Remove);
        assert_eq!(analysis.allowed_increase, 0.5);
        assert_eq!(analysis.outlier_factor, 3.0);
        assert!(!analysis.remove_outliers);
        assert_eq!(config.metrics[0].scope_name, "default");
        let back = serde_json::to_value(&config).unwrap();
        assert_eq!(back["createdTimestamp"], 5);
        assert_eq!(
            back["metrics"][0]["query"]["labelBindings"],
            serde_json::json!([])
        );
    }
}
