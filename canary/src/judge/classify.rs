//! Step 3 of the judge: classify one metric as Pass, High, Low, Nodata,
//! NodataFailMetric or Error (Kayenta's `MannWhitneyClassifier`, spinnaker.md §6.2).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::effect_size;
use super::mann_whitney::{self, MannWhitneyResult};
use super::pair_differences::PairSearch;
use crate::config::{Direction, EffectMeasure, MetricAnalysis, NanStrategy};

/// Fraction of the Hodges-Lehmann estimate that the interval must clear.
pub const TOLERANCE: f64 = 0.25;
/// Confidence level of the interval.
pub const CONFIDENCE_LEVEL: f64 = 0.98;

/// A metric's label, spelt as Kayenta spells it in `classification`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Classification {
    /// No significant difference.
    Pass,
    /// The experiment is significantly higher.
    High,
    /// The experiment is significantly lower.
    Low,
    /// A side had no data; not scored.
    Nodata,
    /// A side had no data and the metric must have data; scored as a failure.
    NodataFailMetric,
    /// The classification failed.
    Error,
}

impl Classification {
    /// Kayenta's string for the label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "Pass",
            Self::High => "High",
            Self::Low => "Low",
            Self::Nodata => "Nodata",
            Self::NodataFailMetric => "NodataFailMetric",
            Self::Error => "Error",
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome for one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricClassification {
    /// The label.
    pub classification: Classification,
    /// Why, when Kayenta gives a reason.
    pub reason: Option<String>,
    /// The mean ratio (`resultMetadata.ratio`); NaN when undefined.
    pub ratio: f64,
    /// Whether this result fails the canary on its own.
    pub critical: bool,
    /// The test's numbers when it ran.
    pub test: Option<MannWhitneyResult>,
}

impl MetricClassification {
    fn simple(
        classification: Classification,
        reason: Option<String>,
        ratio: f64,
        critical: bool,
    ) -> Self {
        Self {
            classification,
            reason,
            ratio,
            critical,
            test: None,
        }
    }
}

/// Classifies one metric from its transformed, sorted samples. `means` are the
/// samples' means when the caller has them (`(control, experiment)`); `search` holds
/// buffers reused from metric to metric.
pub fn classify(
    name: &str,
    control: &[f64],
    experiment: &[f64],
    analysis: &MetricAnalysis,
    means: Option<(f64, f64)>,
    search: &mut PairSearch,
) -> MetricClassification {
    if experiment.is_empty() || control.is_empty() {
        return match analysis.nan_strategy {
            NanStrategy::Remove => {
                let reason = Some(format!("Missing data for {name}"));
                if analysis.must_have_data && !analysis.critical {
                    MetricClassification::simple(
                        Classification::NodataFailMetric,
                        reason,
                        1.0,
                        false,
                    )
                } else {
                    MetricClassification::simple(
                        Classification::Nodata,
                        reason,
                        1.0,
                        analysis.critical,
                    )
                }
            }
            NanStrategy::Replace => {
                MetricClassification::simple(Classification::Pass, None, 1.0, false)
            }
        };
    }
    if experiment == control {
        let reason = Some("The Canary and Baseline data are identical".to_owned());
        return MetricClassification::simple(Classification::Pass, reason, 1.0, false);
    }
    let single_experiment = is_constant(experiment);
    let single_control = is_constant(control);
    if single_experiment && single_control && experiment.first() == control.first() {
        return MetricClassification::simple(Classification::Pass, None, 1.0, false);
    }

    // Both sides constant: Kayenta adds Gaussian noise (sd = value * 1e-5) so the
    // interval exists. We draw it from a fixed-seed generator to stay deterministic.
    let noisy;
    let means = if single_experiment && single_control {
        None
    } else {
        means
    };
    let (control, experiment) = if single_experiment && single_control {
        let mut rng = NoiseRng::new(name);
        noisy = (
            add_noise(control, &mut rng),
            add_noise(experiment, &mut rng),
        );
        (noisy.0.as_slice(), noisy.1.as_slice())
    } else {
        (control, experiment)
    };

    let test =
        match mann_whitney::mann_whitney_sorted_with(experiment, control, CONFIDENCE_LEVEL, search)
        {
            Ok(test) => test,
            Err(err) => {
                tracing::warn!(metric = name, error = %err, "metric classification failed");
                return MetricClassification::simple(
                    Classification::Error,
                    Some("Metric Classification Failed".to_owned()),
                    f64::NAN,
                    analysis.critical,
                );
            }
        };
    let ratio = match means {
        Some((c, e)) => effect_size::ratio_of_means(c, e),
        None => effect_size::mean_ratio(control, experiment),
    };
    let effect = match analysis.effect_measure {
        EffectMeasure::MeanRatio => ratio,
        EffectMeasure::Cles => effect_size::cles_sorted(control, experiment),
    };

    let critical_value = TOLERANCE * test.estimate.abs();
    let (lower_bound, upper_bound) = (-critical_value, critical_value);
    let up = matches!(analysis.direction, Direction::Increase | Direction::Either);
    let down = matches!(analysis.direction, Direction::Decrease | Direction::Either);
    let high = up
        && test.lower_confidence > upper_bound
        && (effect.is_nan() || effect >= analysis.allowed_increase);
    let low = down
        && test.upper_confidence < lower_bound
        && (effect.is_nan() || effect <= analysis.allowed_decrease);

    let (classification, reason) = if high {
        (
            Classification::High,
            Some(format!("{name} was classified as High")),
        )
    } else if low {
        (
            Classification::Low,
            Some(format!("{name} was classified as Low")),
        )
    } else {
        (Classification::Pass, None)
    };

    let critical_high = analysis.critical
        && classification == Classification::High
        && (effect.is_nan() || effect >= analysis.critical_increase);
    let critical_low = analysis.critical
        && classification == Classification::Low
        && (effect.is_nan() || effect <= analysis.critical_decrease);
    let (reason, critical) = if critical_high || critical_low {
        (
            Some(format!(
                "The metric {name} was classified as {classification} (Critical)"
            )),
            true,
        )
    } else {
        (reason, false)
    };
    MetricClassification {
        classification,
        reason,
        ratio,
        critical,
        test: Some(test),
    }
}

fn is_constant(sorted: &[f64]) -> bool {
    match (sorted.first(), sorted.last()) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn add_noise(values: &[f64], rng: &mut NoiseRng) -> Vec<f64> {
    let sd = values.first().copied().unwrap_or(0.0) * 1e-5;
    let mut out: Vec<f64> = values.iter().map(|v| v + sd * rng.gaussian()).collect();
    out.sort_unstable_by(f64::total_cmp);
    out
}

/// splitmix64 seeded from the metric name, with Box-Muller for normal draws.
struct NoiseRng(u64);

impl NoiseRng {
    fn new(name: &str) -> Self {
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Self(seed)
    }

    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // (0, 1]: never 0, so ln is finite.
        ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f64 {
        let (u1, u2) = (self.next_unit(), self.next_unit());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}
