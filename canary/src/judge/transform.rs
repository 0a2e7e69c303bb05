//! Step 1 of the judge: NaN handling and IQR outlier removal (Kayenta's
//! `Transforms` and `IQRDetector` in reduced-sensitivity mode).
//!
//! The output is sorted ascending: every later step either ignores order or wants it sorted.

use super::sort::SortBuffers;
use crate::config::NanStrategy;

/// A percentile (0..=100) of a sorted sample, estimated the way Apache Commons Math's
/// default `Percentile` does (Kayenta calls `StatUtils.percentile`): position
/// `p * (n + 1) / 100`, clamped to the ends, linear between neighbours. NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let (Some(&first), Some(&last)) = (sorted.first(), sorted.last()) else {
        return f64::NAN;
    };
    if n == 1 {
        return first;
    }
    let pos = p * (n as f64 + 1.0) / 100.0;
    if pos < 1.0 {
        return first;
    }
    if pos >= n as f64 {
        return last;
    }
    let floor = pos.floor();
    let index = floor as usize;
    let (Some(&lower), Some(&upper)) = (sorted.get(index - 1), sorted.get(index)) else {
        return f64::NAN;
    };
    lower + (pos - floor) * (upper - lower)
}

/// Applies the NaN strategy, sorts, and optionally removes outliers.
pub fn transform(values: &[f64], nan: NanStrategy, remove_outliers: bool, factor: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    transform_into(
        values,
        nan,
        remove_outliers,
        factor,
        &mut out,
        &mut SortBuffers::default(),
    );
    out
}

/// [`transform`] into `out`, reusing `buffers`: the judge calls this once per side and
/// metric without allocating.
pub fn transform_into(
    values: &[f64],
    nan: NanStrategy,
    remove_outliers: bool,
    factor: f64,
    out: &mut Vec<f64>,
    buffers: &mut SortBuffers,
) {
    match nan {
        NanStrategy::Remove => buffers.sort_mapped(values, |v| (!v.is_nan()).then_some(v), out),
        NanStrategy::Replace => {
            buffers.sort_mapped(values, |v| Some(if v.is_nan() { 0.0 } else { v }), out);
        }
    }
    if remove_outliers {
        let (lower, upper) = fences(out, factor);
        // Outliers of a sorted sample sit at its two ends.
        let start = out.partition_point(|&v| v < lower);
        let end = out.partition_point(|&v| v <= upper).max(start);
        out.truncate(end);
        out.drain(..start);
    }
}

/// The reduced-sensitivity fences: `min(P1, Q1 - f*IQR)` and `max(P99, Q3 + f*IQR)`.
pub fn fences(sorted: &[f64], factor: f64) -> (f64, f64) {
    let q1 = percentile(sorted, 25.0);
    let q3 = percentile(sorted, 75.0);
    let iqr = q3 - q1;
    let lower = percentile(sorted, 1.0).min(q1 - factor * iqr);
    let upper = percentile(sorted, 99.0).max(q3 + factor * iqr);
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_follows_commons_math_positions() {
        let s = [1.0, 2.0, 3.0, 4.0];
        // pos = 25 * 5 / 100 = 1.25 -> 1 + 0.25 * (2 - 1)
        assert_eq!(percentile(&s, 25.0), 1.25);
        assert_eq!(percentile(&s, 75.0), 3.75);
        assert_eq!(percentile(&s, 1.0), 1.0);
        assert_eq!(percentile(&s, 99.0), 4.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn nan_strategies_and_outliers() {
        let values = [3.0, f64::NAN, 1.0, 2.0];
        assert_eq!(
            transform(&values, NanStrategy::Remove, false, 3.0),
            vec![1.0, 2.0, 3.0]
        );
        assert_eq!(
            transform(&values, NanStrategy::Replace, false, 3.0),
            vec![0.0, 1.0, 2.0, 3.0]
        );
        let mut with_outlier: Vec<f64> = (1..=100).map(f64::from).collect();
        with_outlier.push(10_000.0);
        let kept = transform(&with_outlier, NanStrategy::Remove, true, 3.0);
        assert_eq!(kept.len(), 100);
        assert_eq!(kept.last(), Some(&100.0));
    }
}
