//! The NetflixACAJudge-v1.0 as a pure function over paired control and experiment
//! series (spinnaker.md §6.2): transform, describe, classify each metric, then score.
//!
//! The judge never performs I/O; metric sources live in [`crate::metrics`].

pub mod classify;
pub mod effect_size;
pub mod mann_whitney;
pub mod normal;
pub mod pair_differences;
pub mod score;
pub mod sort;
pub mod stats;
pub mod transform;

use std::collections::BTreeMap;

use crate::config::{CanaryConfig, ScoreThresholds};
use crate::result::{
    CanaryAnalysisResult, CanaryJudgeGroupScore, CanaryJudgeResult, CanaryJudgeScore, JUDGE_NAME,
    Ratio, ResultMetadata, StatsMetadata,
};

/// One metric's series for the control ("Baseline") and the experiment ("Canary"),
/// Kayenta's `MetricSetPair`. NaN marks a missing point.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricSetPair {
    /// The metric's name in the canary config.
    pub name: String,
    /// An id for the pair (Kayenta uses a UUID).
    pub id: String,
    /// Tags of the series (a metric may yield one pair per tag set).
    pub tags: BTreeMap<String, String>,
    /// Control values.
    pub control: Vec<f64>,
    /// Experiment values.
    pub experiment: Vec<f64>,
}

/// Buffers reused from metric to metric within one judgment, so that judging
/// allocates per judgment rather than per metric.
#[derive(Debug, Default)]
struct Scratch {
    sort: sort::SortBuffers,
    control: Vec<f64>,
    experiment: Vec<f64>,
    search: pair_differences::PairSearch,
}

/// Why a judgement could not be made.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum JudgeError {
    /// A pair names a metric the config does not have.
    #[error("could not find metric config for {name:?}")]
    UnknownMetric {
        /// The pair's metric name.
        name: String,
    },
}

/// Judges the pairs against the config with the given thresholds.
///
/// # Errors
/// [`JudgeError::UnknownMetric`] when a pair's name is not in `config.metrics`.
pub fn judge(
    config: &CanaryConfig,
    pairs: &[MetricSetPair],
    thresholds: ScoreThresholds,
) -> Result<CanaryJudgeResult, JudgeError> {
    let mut results = Vec::with_capacity(pairs.len());
    let mut scratch = Scratch::default();
    for pair in pairs {
        let metric = config
            .metrics
            .iter()
            .find(|m| m.name == pair.name)
            .ok_or_else(|| JudgeError::UnknownMetric {
                name: pair.name.clone(),
            })?;
        let analysis = metric.analysis();
        let Scratch {
            sort,
            control,
            experiment,
            search,
        } = &mut scratch;
        for (values, out) in [
            (&pair.control, &mut *control),
            (&pair.experiment, &mut *experiment),
        ] {
            transform::transform_into(
                values,
                analysis.nan_strategy,
                analysis.remove_outliers,
                analysis.outlier_factor,
                out,
                sort,
            );
        }
        let control_stats = stats::summary(control);
        let experiment_stats = stats::summary(experiment);
        let outcome = classify::classify(
            &pair.name,
            control,
            experiment,
            &analysis,
            Some((control_stats.mean, experiment_stats.mean)),
            search,
        );
        results.push(CanaryAnalysisResult {
            name: pair.name.clone(),
            id: pair.id.clone(),
            tags: pair.tags.clone(),
            classification: outcome.classification,
            classification_reason: outcome.reason,
            groups: metric.groups.clone(),
            experiment_metadata: StatsMetadata {
                stats: experiment_stats.into(),
            },
            control_metadata: StatsMetadata {
                stats: control_stats.into(),
            },
            result_metadata: ResultMetadata {
                ratio: Ratio(outcome.ratio),
            },
            critical: outcome.critical,
            muted: analysis.muted,
        });
    }

    let scored: Vec<score::Scored<'_>> = results
        .iter()
        .filter(|r| !r.muted)
        .map(|r| score::Scored {
            classification: r.classification,
            critical: r.critical,
            groups: &r.groups,
            reason: r.classification_reason.as_deref(),
        })
        .collect();
    let summary = score::score(&scored, &config.classifier.group_weights);
    let classification = score::classify_summary(summary.score, thresholds);

    Ok(CanaryJudgeResult {
        judge_name: JUDGE_NAME.to_owned(),
        group_scores: summary
            .groups
            .iter()
            .map(|g| CanaryJudgeGroupScore {
                name: g.name.clone(),
                score: g.score,
                classification: String::new(),
                classification_reason: String::new(),
            })
            .collect(),
        score: CanaryJudgeScore {
            score: summary.score,
            classification: classification.as_str().to_owned(),
            classification_reason: summary.reason.unwrap_or_default(),
        },
        results,
    })
}
