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
    variance_around(values, mean(values))
}

/// [`variance`] given the sample's mean.
fn variance_around(values: &[f64], m: f64) -> f64 {
    let n = values.len();
    if n < 2 {
        return if n == 1 { 0.0 } else { f64::NAN };
    }
    let (squares, sum) = values.iter().fold((0.0, 0.0), |(sq, s), v| {
        let d = v - m;
        (sq + d * d, s + d)
    });
    (squares - sum * sum / n as f64) / (n as f64 - 1.0)
}

/// Summarises a sample sorted ascending (the judge's transform sorts).
pub fn summary(sorted: &[f64]) -> MetricStatistics {
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return MetricStatistics::default();
    };
    let mean = mean(sorted);
    MetricStatistics {
        min,
        max,
        mean,
        std: variance_around(sorted, mean).sqrt(),
        count: sorted.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_small_sample() {
        let s = summary(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(variance(&[1.0, 3.0]), 2.0);
        assert_eq!((s.min, s.max, s.mean, s.count), (2.0, 9.0, 5.0, 8));
        assert!((s.std - (32.0_f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(summary(&[]), MetricStatistics::default());
        assert_eq!(summary(&[3.0]).std, 0.0);
    }
}
