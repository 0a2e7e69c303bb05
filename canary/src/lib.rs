//! Kayenta-compatible automated canary analysis: the NetflixACAJudge-v1.0 judge,
//! metric sources (Prometheus, Datadog) and a file-based entry point for the CLI.
//!
//! # Layout
//! * [`config`]: the canary config JSON (§6.1 of the Spinnaker reference).
//! * [`judge`]: the pure judge, `judge(&CanaryConfig, &[MetricSetPair], thresholds)`.
//! * [`result`]: Kayenta's `judgeResult` JSON shape.
//! * [`metrics`]: the [`metrics::MetricsSource`] trait and one module per backend.
//! * [`cli`]: `judge_files`, behind `spinhcl canary judge`.

pub mod cli;
pub mod config;
pub mod judge;
pub mod metrics;
pub mod result;

pub use config::{CanaryConfig, CanaryMetricConfig, ScoreThresholds};
pub use judge::{JudgeError, MetricSetPair, judge};
pub use result::CanaryJudgeResult;
