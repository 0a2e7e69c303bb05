//! The two-sample Mann-Whitney / Wilcoxon rank-sum test with its confidence interval
//! and Hodges-Lehmann shift estimate, as R's
//! `wilcox.test(x, y, conf.int = TRUE, correct = TRUE, exact = FALSE)` computes them.
//!
//! R (and Kayenta, which ports it) finds the interval by root-finding on the shifted,
//! continuity- and tie-corrected statistic
//! `f(mu) = (W(mu) - nx*ny/2 - 0.5*sign(.)) / sigma(mu) - zq`, where `W(mu)` is the
//! rank-sum statistic of `x - mu` against `y`. `W(mu)` only changes at a pairwise
//! difference `x_i - y_j`, so `f` is a step function whose sign change sits exactly
//! on an order statistic of the pairwise differences. We locate that order statistic
//! directly ([`super::pair_differences`]: counting passes over the sorted samples in
//! O(n + m), never materialising the n*m differences). Iterative solvers (R's
//! `uniroot`, tolerance 1e-4; Kayenta's Brent solver, 1e-6) stop within their
//! tolerance of this same point; we return the point itself. The endpoint checks
//! `f(min(x) - max(y))` and `f(max(x) - min(y))` follow the exact statistic,
//! cross-sample ties included, as R does (computed only when a cheap bound cannot
//! decide them).

use super::normal;
use super::pair_differences::{self, PairSearch};
use super::sort::SortBuffers;

/// The outcome of the test: experiment (`x`) against control (`y`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitneyResult {
    /// Lower end of the confidence interval for the shift `x - y`.
    pub lower_confidence: f64,
    /// Upper end of the confidence interval for the shift `x - y`.
    pub upper_confidence: f64,
    /// Hodges-Lehmann estimate of the shift: the median of the pairwise differences.
    pub estimate: f64,
    /// Two-sided p-value of the normal approximation (continuity and tie corrected).
    pub p_value: f64,
    /// The Mann-Whitney statistic `W` of `x` (pairs with `x > y`, ties counted half).
    pub statistic: f64,
}

/// Why the test could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum MannWhitneyError {
    /// One of the samples has no observations.
    #[error("the {0} sample is empty")]
    EmptySample(&'static str),
    /// A sample holds NaN, which has no rank.
    #[error("the {0} sample contains NaN")]
    NotANumber(&'static str),
    /// The variance of the statistic is zero.
    #[error("cannot compute confidence interval when all observations are tied")]
    AllTied,
    /// A sample has 2^32 observations or more.
    #[error("the {0} sample has more than 4294967295 observations")]
    TooLarge(&'static str),
}

/// Runs the test on unsorted samples. `x` is the experiment, `y` the control.
///
/// # Errors
/// Empty samples, NaN values, or samples whose observations are all tied.
pub fn mann_whitney(
    x: &[f64],
    y: &[f64],
    confidence_level: f64,
) -> Result<MannWhitneyResult, MannWhitneyError> {
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    let mut sort = SortBuffers::default();
    sort.sort(&mut xs);
    sort.sort(&mut ys);
    mann_whitney_sorted(&xs, &ys, confidence_level)
}

/// Runs the test on samples already sorted ascending (the judge sorts once and reuses).
///
/// # Errors
/// Empty samples, NaN values, or samples whose observations are all tied.
pub fn mann_whitney_sorted(
    x: &[f64],
    y: &[f64],
    confidence_level: f64,
) -> Result<MannWhitneyResult, MannWhitneyError> {
    mann_whitney_sorted_with(x, y, confidence_level, &mut PairSearch::default())
}

/// [`mann_whitney_sorted`] reusing `search`'s buffers (the judge keeps one per judgment).
///
/// # Errors
/// Empty samples, NaN values, samples whose observations are all tied, or a sample of
/// 2^32 observations or more.
pub fn mann_whitney_sorted_with(
    x: &[f64],
    y: &[f64],
    confidence_level: f64,
    search: &mut PairSearch,
) -> Result<MannWhitneyResult, MannWhitneyError> {
    check_sample(x, "experiment")?;
    check_sample(y, "control")?;
    let pairs = (x.len() as u64) * (y.len() as u64);
    let (nx, ny) = (x.len() as f64, y.len() as f64);
    let half = nx * ny / 2.0;

    let within = within_tie_sum(x) + within_tie_sum(y);

    // Between pairwise differences only within-sample ties remain.
    let sigma_open = sigma(nx, ny, within);
    if sigma_open == 0.0 {
        return Err(MannWhitneyError::AllTied);
    }

    let (x_min, x_max, y_min, y_max) = (x[0], x[x.len() - 1], y[0], y[y.len() - 1]);
    let mu_min = x_min - y_max;
    let mu_max = x_max - y_min;
    let mut at_min = Endpoint::new(x, y, mu_min, within, true);
    let mut at_max = Endpoint::new(x, y, mu_max, within, false);

    let alpha = 1.0 - confidence_level;
    let zq_upper = normal::quantile(1.0 - alpha / 2.0);
    let mut ranks = Vec::with_capacity(4);
    let mut roots = [Root::Value(0.0); 2];
    for (slot, zq) in [zq_upper, -zq_upper].into_iter().enumerate() {
        roots[slot] = if at_min.f_at_most_zero(zq, half, sigma_open)? {
            Root::Value(mu_min)
        } else if at_max.f_at_least_zero(zq, half, sigma_open)? {
            Root::Value(mu_max)
        } else {
            match jump_rank(pairs, half, sigma_open, zq) {
                Some(k) => {
                    ranks.push(k);
                    Root::Rank(k)
                }
                None => Root::Value(mu_min),
            }
        };
    }
    let (median_low, median_high) = if pairs % 2 == 1 {
        (pairs / 2 + 1, pairs / 2 + 1)
    } else {
        (pairs / 2, pairs / 2 + 1)
    };
    ranks.push(median_low);
    ranks.push(median_high);

    // mu = 0 (the p-value) rides along with the first round of probes.
    let mut values = [f64::NAN; 4];
    let values = values.get_mut(..ranks.len()).unwrap_or_default();
    let zero = search.select(x, y, &ranks, (mu_min, mu_max), 0.0, values);
    let at_zero = match zero {
        Some(count) if !count.tied => Shifted {
            w: count.below as f64,
            tie_sum: within,
        },
        // Cross-sample ties at 0 (common with whole-number data): rank them all.
        Some(_) => shifted_statistic(x, y, 0.0),
        None => fast_shifted_statistic(x, y, 0.0, within),
    };
    let sigma_zero = sigma(nx, ny, at_zero.tie_sum);
    if sigma_zero == 0.0 {
        return Err(MannWhitneyError::AllTied);
    }
    let z = corrected(at_zero.w - half) / sigma_zero;
    let p_value = (2.0 * normal::cdf(z).min(normal::cdf(-z))).min(1.0);
    let value_of = |k: u64| -> f64 {
        ranks
            .iter()
            .position(|&r| r == k)
            .and_then(|i| values.get(i).copied())
            .unwrap_or(f64::NAN)
    };
    let resolve = |root: Root| match root {
        Root::Value(v) => v,
        Root::Rank(k) => value_of(k).clamp(mu_min, mu_max),
    };
    let estimate = (value_of(median_low) + value_of(median_high)) / 2.0;

    Ok(MannWhitneyResult {
        lower_confidence: resolve(roots[0]),
        upper_confidence: resolve(roots[1]),
        estimate,
        p_value,
        statistic: at_zero.w,
    })
}

#[derive(Debug, Clone, Copy)]
enum Root {
    Value(f64),
    Rank(u64),
}

fn check_sample(sample: &[f64], which: &'static str) -> Result<(), MannWhitneyError> {
    if sample.is_empty() {
        return Err(MannWhitneyError::EmptySample(which));
    }
    if u32::try_from(sample.len()).is_err() {
        return Err(MannWhitneyError::TooLarge(which));
    }
    if sample.iter().any(|v| v.is_nan()) {
        return Err(MannWhitneyError::NotANumber(which));
    }
    Ok(())
}

/// `d - 0.5 * sign(d)`: R's continuity correction for a two-sided test.
fn corrected(d: f64) -> f64 {
    if d > 0.0 {
        d - 0.5
    } else if d < 0.0 {
        d + 0.5
    } else {
        0.0
    }
}

/// Standard deviation of `W` with the tie correction `sum(t^3 - t)`.
fn sigma(nx: f64, ny: f64, tie_sum: f64) -> f64 {
    let n = nx + ny;
    let var = (nx * ny / 12.0) * ((n + 1.0) - tie_sum / (n * (n - 1.0)));
    if var <= 0.0 { 0.0 } else { var.sqrt() }
}

/// `W` of `x - mu` against `y`, and the tie sum of the combined sample.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shifted {
    /// Sum of the ranks of `x - mu` minus `nx(nx+1)/2`.
    pub(crate) w: f64,
    /// `sum(t^3 - t)` over groups of tied values in the combined sample.
    pub(crate) tie_sum: f64,
}

/// Ranks `x - mu` and `y` together by merging the two sorted samples.
pub(crate) fn shifted_statistic(x: &[f64], y: &[f64], mu: f64) -> Shifted {
    let (mut i, mut j) = (0usize, 0usize);
    let mut rank_base = 0.0_f64;
    let mut rank_sum_x = 0.0_f64;
    let mut tie_sum = 0.0_f64;
    while i < x.len() || j < y.len() {
        let xv = x.get(i).map(|v| v - mu);
        let yv = y.get(j).copied();
        let value = match (xv, yv) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        let mut cx = 0.0;
        while let Some(v) = x.get(i) {
            if v - mu == value {
                cx += 1.0;
                i += 1;
            } else {
                break;
            }
        }
        let mut cy = 0.0;
        while let Some(&v) = y.get(j) {
            if v == value {
                cy += 1.0;
                j += 1;
            } else {
                break;
            }
        }
        let t = cx + cy;
        rank_sum_x += cx * (rank_base + (t + 1.0) / 2.0);
        tie_sum += t * t * t - t;
        rank_base += t;
    }
    let nx = x.len() as f64;
    Shifted {
        w: rank_sum_x - nx * (nx + 1.0) / 2.0,
        tie_sum,
    }
}

/// [`shifted_statistic`] without a merge when no `x_i - mu` equals a `y_j`: then the
/// ties are the within-sample ones, `within` (one counting pass).
fn fast_shifted_statistic(x: &[f64], y: &[f64], mu: f64, within: f64) -> Shifted {
    let count = pair_differences::count_below(x, y, mu);
    if count.tied {
        shifted_statistic(x, y, mu)
    } else {
        Shifted {
            w: count.below as f64,
            tie_sum: within,
        }
    }
}

/// `f` is decided by a bound only when the bound clears zero by this much; closer
/// calls take the exact statistic.
const DECISIVE: f64 = 1e-6;

/// The statistic at an end of the search range, `mu = min(x) - max(y)` (lower) or
/// `max(x) - min(y)` (upper). There almost every pair lies on one side, so a scan of
/// the few pairs at the boundary bounds `W`; R's endpoint checks are nearly always
/// decided by that bound. The exact statistic (a full merge when a cross-sample tie
/// appears) is computed only when the bound cannot decide.
struct Endpoint<'a> {
    x: &'a [f64],
    y: &'a [f64],
    mu: f64,
    within: f64,
    lower: bool,
    /// Lower end: pairs with `y_j >= x_i - mu`; upper end: pairs with `y_j <= x_i - mu`.
    boundary: u64,
    /// Whether some `y_j == x_i - mu` among them.
    ties: bool,
    exact: Option<Shifted>,
}

impl<'a> Endpoint<'a> {
    fn new(x: &'a [f64], y: &'a [f64], mu: f64, within: f64, lower: bool) -> Self {
        let (boundary, ties) = if lower {
            // Rows from the smallest x: y_j >= x_i - mu are the y from the first such on.
            scan_boundary(x.iter(), |xi| {
                let a = xi - mu;
                let first = y.partition_point(|&yj| yj < a);
                let count = y.len() - first;
                (count as u64, y.get(first) == Some(&a))
            })
        } else {
            // Rows from the largest x: y_j <= x_i - mu are the y up to the last such.
            scan_boundary(x.iter().rev(), |xi| {
                let a = xi - mu;
                let count = y.partition_point(|&yj| yj <= a);
                (
                    count as u64,
                    count.checked_sub(1).and_then(|l| y.get(l)) == Some(&a),
                )
            })
        };
        Self {
            x,
            y,
            mu,
            within,
            lower,
            boundary,
            ties,
            exact: None,
        }
    }

    /// Bounds on `W`: every pair off the boundary counts fully (lower end) or not at
    /// all (upper end); boundary pairs count 0, 1/2 or 1.
    fn w_bounds(&self) -> (f64, f64) {
        let pairs = (self.x.len() as u64) * (self.y.len() as u64);
        if self.lower {
            ((pairs - self.boundary) as f64, pairs as f64)
        } else {
            (0.0, self.boundary as f64)
        }
    }

    /// The exact `f(mu) = corrected(W - nx*ny/2) / sigma(mu) - zq`.
    fn f(&mut self, zq: f64) -> Result<f64, MannWhitneyError> {
        let (x, y) = (self.x, self.y);
        let s = *self.exact.get_or_insert_with(|| {
            if self.ties {
                shifted_statistic(x, y, self.mu)
            } else {
                let (low, high) = (
                    x.len() as u64 * y.len() as u64 - self.boundary,
                    self.boundary,
                );
                Shifted {
                    w: if self.lower { low as f64 } else { high as f64 },
                    tie_sum: self.within,
                }
            }
        });
        let (nx, ny) = (x.len() as f64, y.len() as f64);
        let sd = sigma(nx, ny, s.tie_sum);
        if sd == 0.0 {
            return Err(MannWhitneyError::AllTied);
        }
        Ok(corrected(s.w - nx * ny / 2.0) / sd - zq)
    }

    /// Whether `f(mu) <= 0`. Ties only merge rank groups, so `sigma(mu) <= sigma_open`;
    /// with `W >= w_low` and `corrected` monotone on half-integers, a positive
    /// `corrected(w_low - half) / sigma_open - zq` proves `f(mu) > 0`.
    fn f_at_most_zero(
        &mut self,
        zq: f64,
        half: f64,
        sigma_open: f64,
    ) -> Result<bool, MannWhitneyError> {
        let c = corrected(self.w_bounds().0 - half);
        if c > 0.0 && c / sigma_open - zq > DECISIVE {
            return Ok(false);
        }
        Ok(self.f(zq)? <= 0.0)
    }

    /// Whether `f(mu) >= 0`, with the mirror-image bound from `W <= w_high`.
    fn f_at_least_zero(
        &mut self,
        zq: f64,
        half: f64,
        sigma_open: f64,
    ) -> Result<bool, MannWhitneyError> {
        let c = corrected(self.w_bounds().1 - half);
        if c < 0.0 && c / sigma_open - zq < -DECISIVE {
            return Ok(false);
        }
        Ok(self.f(zq)? >= 0.0)
    }
}

/// Sums the boundary pairs of rows visited from the end where pairs are on the
/// boundary; the first row with none ends the scan, since later rows lie further away.
/// Equal rows have equal counts, so each run of them is counted once (heavily tied
/// samples would otherwise cost one search per row).
fn scan_boundary<'b>(
    rows: impl Iterator<Item = &'b f64>,
    row_pairs: impl Fn(f64) -> (u64, bool),
) -> (u64, bool) {
    let (mut total, mut ties) = (0u64, false);
    let mut last: Option<(f64, u64)> = None;
    for &xi in rows {
        let count = match last {
            Some((value, count)) if value == xi => count,
            _ => {
                let (count, tied) = row_pairs(xi);
                ties |= tied;
                last = Some((xi, count));
                count
            }
        };
        if count == 0 {
            break;
        }
        total += count;
    }
    (total, ties)
}

/// `sum(t^3 - t)` over runs of equal values in one sorted sample.
fn within_tie_sum(sorted: &[f64]) -> f64 {
    // Runs of one add nothing; most samples have no others, which one branch-free
    // count of equal neighbours shows.
    let neighbours = sorted.iter().zip(sorted.get(1..).unwrap_or_default());
    if neighbours.map(|(a, b)| usize::from(a == b)).sum::<usize>() == 0 {
        return 0.0;
    }
    let mut sum = 0.0;
    let mut start = 0;
    while start < sorted.len() {
        let mut end = start + 1;
        while end < sorted.len() && sorted[end] == sorted[start] {
            end += 1;
        }
        let t = (end - start) as f64;
        sum += t * t * t - t;
        start = end;
    }
    sum
}

/// Where the step function `f` changes sign, as an ascending rank among the pairwise
/// differences. Between differences `W(mu)` equals `#{d > mu}` (an integer `u`), and
/// `f` is non-decreasing in `u`; with `u*` the smallest count where `f > 0`, `f` is
/// positive for `mu` below the `u*`-th largest difference and non-positive above it.
fn jump_rank(pairs: u64, half: f64, sigma_open: f64, zq: f64) -> Option<u64> {
    let positive = |u: u64| corrected(u as f64 - half) / sigma_open - zq > 0.0;
    let guess = (half + zq * sigma_open - 0.5)
        .floor()
        .clamp(0.0, pairs as f64) as u64;
    let mut u = guess;
    while u > 0 && positive(u - 1) {
        u -= 1;
    }
    while u <= pairs && !positive(u) {
        u += 1;
    }
    if u == 0 || u > pairs {
        return None;
    }
    // The u-th largest is the (pairs - u + 1)-th smallest.
    Some(pairs - u + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "diagnostic: prints the work done for 10,000 points per side"]
    fn work_for_large_samples() {
        let mut state = 42u64;
        let mut unit = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut normal = || (-2.0 * unit().ln()).sqrt() * (std::f64::consts::TAU * unit()).cos();
        let mut y: Vec<f64> = (0..10_000)
            .map(|_| 100.0 * (0.1 * normal()).exp())
            .collect();
        let mut x: Vec<f64> = (0..10_000)
            .map(|_| 102.0 * (0.1 * normal()).exp())
            .collect();
        x.sort_unstable_by(f64::total_cmp);
        y.sort_unstable_by(f64::total_cmp);
        let mut search = PairSearch::default();
        let mut best = std::time::Duration::MAX;
        let mut result = None;
        for _ in 0..20 {
            let t = std::time::Instant::now();
            result = mann_whitney_sorted_with(&x, &y, 0.98, &mut search).ok();
            best = best.min(t.elapsed());
        }
        eprintln!(
            "test on sorted 10k+10k: best {best:?}; {:?}; {result:?}",
            search.work()
        );
    }

    #[test]
    fn endpoint_bounds_agree_with_the_exact_statistic() {
        // Overlapping samples with cross-sample ties at both ends, the second with runs
        // of equal rows on the boundary; all-tied samples have no interval.
        let samples: [(&[f64], &[f64]); 3] = [
            (&[1.0, 2.0, 2.0, 3.0, 5.0, 8.0], &[0.0, 1.0, 3.0, 3.0, 4.0]),
            (&[1.0, 1.0, 1.0, 2.0, 5.0, 5.0], &[0.0, 0.0, 3.0, 4.0, 4.0]),
            (&[2.0, 2.0], &[2.0, 2.0, 2.0]),
        ];
        for (x, y) in samples {
            let (nx, ny) = (x.len() as f64, y.len() as f64);
            let within = within_tie_sum(x) + within_tie_sum(y);
            let sigma_open = sigma(nx, ny, within);
            let half = nx * ny / 2.0;
            let ends = [
                (x[0] - y[y.len() - 1], true),
                (x[x.len() - 1] - y[0], false),
            ];
            for (mu, lower) in ends {
                let exact = shifted_statistic(x, y, mu);
                let mut end = Endpoint::new(x, y, mu, within, lower);
                let (low, high) = end.w_bounds();
                assert!(
                    low <= exact.w && exact.w <= high,
                    "mu {mu}: {low} <= {} <= {high}",
                    exact.w
                );
                let sd = sigma(nx, ny, exact.tie_sum);
                for zq in [-5.0, -2.3, 0.0, 2.3, 5.0] {
                    let f = corrected(exact.w - half) / sd - zq;
                    let (at_most, at_least) = if sd == 0.0 {
                        (
                            Err(MannWhitneyError::AllTied),
                            Err(MannWhitneyError::AllTied),
                        )
                    } else {
                        (Ok(f <= 0.0), Ok(f >= 0.0))
                    };
                    assert_eq!(
                        end.f_at_most_zero(zq, half, sigma_open),
                        at_most,
                        "mu {mu} zq {zq}"
                    );
                    assert_eq!(
                        end.f_at_least_zero(zq, half, sigma_open),
                        at_least,
                        "mu {mu} zq {zq}"
                    );
                }
            }
        }
    }

    #[test]
    fn rejects_empty_and_nan() {
        assert_eq!(
            mann_whitney(&[], &[1.0], 0.98),
            Err(MannWhitneyError::EmptySample("experiment"))
        );
        assert_eq!(
            mann_whitney(&[1.0], &[f64::NAN], 0.98),
            Err(MannWhitneyError::NotANumber("control"))
        );
        assert_eq!(
            mann_whitney(&[1.0, 1.0], &[1.0], 0.98),
            Err(MannWhitneyError::AllTied)
        );
    }
}
