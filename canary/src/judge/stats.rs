//! Step 2 of the judge: descriptive statistics reported per side
//! (`controlMetadata.stats` / `experimentMetadata.stats`).

use serde::Serialize;

/// Kayenta's `MetricStatistics`: zeros for an empty sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct MetricStatistics {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 denominator; 0 for one value).
    pub std: f64,
    /// Number of values.
    pub count: usize,
}

/// Mean with the second-pass correction Commons Math applies.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let n = values.len() as f64;
    let first = values.iter().sum::<f64>() / n;
    let correction = values.iter().map(|v| v - first).sum::<f64>() / n;
    first + correction
}

/// Bias-corrected variance (two-pass, corrected), 0 for a single value.
pub fn variance(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return if n == 1 { 0.0 } else { f64::NAN };
    }
    let m = mean(values);
    let (squares, sum) = values.iter().fold((0.0, 0.0), |(sq, s), v| {
        let d = v - m;
        (sq + d * d, s + d)
    });
    (squares - sum * sum / n as f64) / (n as f64 - 1.0)
}

/// Summarises a sample (sorted or not).
pub fn summary(values: &[f64]) -> MetricStatistics {
    if values.is_empty() {
        return MetricStatistics::default();
    }
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    MetricStatistics {
        min,
        max,
        mean: mean(values),
        std: variance(values).sqrt(),
        count: values.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_small_sample() {
        let s = summary(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!((s.min, s.max, s.mean, s.count), (2.0, 9.0, 5.0, 8));
        assert!((s.std - (32.0_f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(summary(&[]), MetricStatistics::default());
        assert_eq!(summary(&[3.0]).std, 0.0);
    }
}
