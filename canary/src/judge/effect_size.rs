//! Effect sizes: the mean ratio (also reported as `resultMetadata.ratio`) and the
//! common-language effect size (CLES, Vargha-Delaney A).

use super::stats;

/// `mean(experiment) / mean(control)`; NaN when either mean is 0 (Kayenta's
/// `EffectSizes.meanRatio`).
pub fn mean_ratio(control: &[f64], experiment: &[f64]) -> f64 {
    ratio_of_means(stats::mean(control), stats::mean(experiment))
}

/// [`mean_ratio`] from the two means.
pub fn ratio_of_means(c: f64, e: f64) -> f64 {
    if c == 0.0 || e == 0.0 || c.is_nan() || e.is_nan() {
        f64::NAN
    } else {
        e / c
    }
}

/// Share of (experiment, control) pairs where the experiment is larger, ties counted
/// half. Both samples must be sorted ascending; O(n + m).
pub fn cles_sorted(control: &[f64], experiment: &[f64]) -> f64 {
    if control.is_empty() || experiment.is_empty() {
        return f64::NAN;
    }
    let (mut below, mut not_above) = (0usize, 0usize);
    let mut wins = 0.0_f64;
    for &e in experiment {
        while below < control.len() && control[below] < e {
            below += 1;
        }
        if not_above < below {
            not_above = below;
        }
        while not_above < control.len() && control[not_above] <= e {
            not_above += 1;
        }
        wins += below as f64 + 0.5 * (not_above - below) as f64;
    }
    wins / (control.len() as f64 * experiment.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_and_cles() {
        assert_eq!(mean_ratio(&[2.0, 2.0], &[3.0, 5.0]), 2.0);
        assert!(mean_ratio(&[0.0], &[1.0]).is_nan());
        // pairs: (1>0)(1=1)(1<2) (3>0)(3>1)(3>2) -> 4 + 0.5 = 4.5 of 6
        assert_eq!(cles_sorted(&[0.0, 1.0, 2.0], &[1.0, 3.0]), 0.75);
    }
}
