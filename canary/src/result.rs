//! The judge's output in Kayenta's `judgeResult` JSON shape (`CanaryJudgeResult`,
//! `CanaryAnalysisResult`, `CanaryJudgeGroupScore`, `CanaryJudgeScore`).
//!
//! Kayenta serialises with Jackson, which writes a NaN double as the string `"NaN"`;
//! [`Ratio`] does the same so an undefined mean ratio survives a round trip.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::judge::classify::Classification;
use crate::judge::stats::MetricStatistics;

/// Name of the only judge.
pub const JUDGE_NAME: &str = "NetflixACAJudge-v1.0";

/// `judgeResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryJudgeResult {
    /// `NetflixACAJudge-v1.0`.
    pub judge_name: String,
    /// One entry per metric, in input order.
    pub results: Vec<CanaryAnalysisResult>,
    /// One entry per group, in first-seen order.
    pub group_scores: Vec<CanaryJudgeGroupScore>,
    /// The summary.
    pub score: CanaryJudgeScore,
}

/// `results[]`: one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryAnalysisResult {
    /// Metric name.
    pub name: String,
    /// Metric set pair id.
    pub id: String,
    /// Series tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `Pass`, `High`, `Low`, `Nodata`, `NodataFailMetric` or `Error`.
    pub classification: Classification,
    /// Why, when there is a reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification_reason: Option<String>,
    /// The metric's groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// `{ "stats": {...} }` of the experiment after transformation.
    pub experiment_metadata: StatsMetadata,
    /// `{ "stats": {...} }` of the control after transformation.
    pub control_metadata: StatsMetadata,
    /// `{ "ratio": mean ratio }`.
    pub result_metadata: ResultMetadata,
    /// Whether this result alone fails the canary.
    pub critical: bool,
    /// Muted metrics are reported but not scored.
    pub muted: bool,
}

/// `{ "stats": {...} }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatsMetadata {
    /// Descriptive statistics.
    pub stats: Stats,
}

/// `min`, `max`, `mean`, `std`, `count`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub std: f64,
    /// Number of values.
    pub count: usize,
}

impl From<MetricStatistics> for Stats {
    fn from(s: MetricStatistics) -> Self {
        Self {
            min: s.min,
            max: s.max,
            mean: s.mean,
            std: s.std,
            count: s.count,
        }
    }
}

/// `{ "ratio": ... }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResultMetadata {
    /// `mean(experiment) / mean(control)`.
    pub ratio: Ratio,
}

/// A double that is written as `"NaN"` when not a number, as Jackson does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio(pub f64);

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            serializer.serialize_f64(self.0)
        } else if self.0.is_nan() {
            serializer.serialize_str("NaN")
        } else if self.0 > 0.0 {
            serializer.serialize_str("Infinity")
        } else {
            serializer.serialize_str("-Infinity")
        }
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(Self(n)),
            Raw::Text(t) => match t.as_str() {
                "NaN" => Ok(Self(f64::NAN)),
                "Infinity" => Ok(Self(f64::INFINITY)),
                "-Infinity" => Ok(Self(f64::NEG_INFINITY)),
                other => Err(serde::de::Error::custom(format!("invalid ratio {other:?}"))),
            },
        }
    }
}

/// `groupScores[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryJudgeGroupScore {
    /// Group name.
    pub name: String,
    /// Group score, 0..=100.
    pub score: f64,
    /// Always empty.
    pub classification: String,
    /// Always empty.
    pub classification_reason: String,
}

/// `score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryJudgeScore {
    /// Summary score, 0..=100, two decimals.
    pub score: f64,
    /// `Pass`, `Marginal` or `Fail`.
    pub classification: String,
    /// Set when an override (critical metric, NODATA) decided the score; else empty.
    pub classification_reason: String,
}
