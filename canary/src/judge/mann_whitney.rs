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
//! directly by root-finding on the pair count `#{x_i - y_j <= v}`, evaluated with a
//! two-pointer sweep over the sorted samples in O(n + m), never materialising the
//! n*m differences. Iterative solvers (R's `uniroot`, tolerance 1e-4; Kayenta's
//! Brent solver, 1e-6) stop within their tolerance of this same point; we return
//! the point itself. The endpoint checks `f(min(x) - max(y))` and
//! `f(max(x) - min(y))` use the exact statistic, cross-sample ties included, as R does.

use std::rc::Rc;

use super::normal;

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
    xs.sort_unstable_by(f64::total_cmp);
    ys.sort_unstable_by(f64::total_cmp);
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
    let at_min = endpoint_statistic(x, y, mu_min, within, true);
    let at_max = endpoint_statistic(x, y, mu_max, within, false);
    let endpoint_f = |s: &Shifted, zq: f64| -> Result<f64, MannWhitneyError> {
        let sd = sigma(nx, ny, s.tie_sum);
        if sd == 0.0 {
            return Err(MannWhitneyError::AllTied);
        }
        Ok(corrected(s.w - half) / sd - zq)
    };

    let alpha = 1.0 - confidence_level;
    let zq_upper = normal::quantile(1.0 - alpha / 2.0);
    let mut ranks = Vec::with_capacity(3);
    let mut roots = [Root::Value(0.0); 2];
    for (slot, zq) in [zq_upper, -zq_upper].into_iter().enumerate() {
        roots[slot] = if endpoint_f(&at_min, zq)? <= 0.0 {
            Root::Value(mu_min)
        } else if endpoint_f(&at_max, zq)? >= 0.0 {
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
    let (values, zero) = select_pair_differences(x, y, &ranks, mu_min, mu_max, 0.0);
    let at_zero = match zero {
        Some((below, false)) => Shifted {
            w: below as f64,
            tie_sum: within,
        },
        _ => fast_shifted_statistic(x, y, 0.0, within),
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
/// ties are the within-sample ones, `within` (two branch-free counts).
fn fast_shifted_statistic(x: &[f64], y: &[f64], mu: f64, within: f64) -> Shifted {
    let (below, ties) = below_shifted_with_ties(x, y, mu);
    if !ties {
        Shifted {
            w: below as f64,
            tie_sum: within,
        }
    } else {
        shifted_statistic(x, y, mu)
    }
}

/// The statistic at `mu = min(x) - max(y)` (`at_min`) or `max(x) - min(y)`: there
/// almost every pair is on one side, so only the few pairs at the boundary are
/// inspected. Falls back to the full merge when a cross-sample tie appears.
fn endpoint_statistic(x: &[f64], y: &[f64], mu: f64, within: f64, at_min: bool) -> Shifted {
    let (n, m) = (x.len(), y.len());
    let pairs = (n as u64) * (m as u64);
    // At the lower end count pairs with y_j >= x_i - mu (the rest have y_j < x_i - mu);
    // at the upper end count pairs with y_j <= x_i - mu.
    let mut not_below = 0u64;
    let mut ties = 0u64;
    if at_min {
        for &xi in x {
            let a = xi - mu;
            let mut counted = 0u64;
            for &yj in y.iter().rev() {
                if yj < a {
                    break;
                }
                counted += 1;
                if yj == a {
                    ties += 1;
                }
            }
            if counted == 0 {
                break;
            }
            not_below += counted;
        }
        if ties > 0 {
            return shifted_statistic(x, y, mu);
        }
        Shifted {
            w: (pairs - not_below) as f64,
            tie_sum: within,
        }
    } else {
        let mut below_or_equal = 0u64;
        for &xi in x.iter().rev() {
            let a = xi - mu;
            let mut counted = 0u64;
            for &yj in y {
                if yj > a {
                    break;
                }
                counted += 1;
                if yj == a {
                    ties += 1;
                }
            }
            if counted == 0 {
                break;
            }
            below_or_equal += counted;
        }
        if ties > 0 {
            return shifted_statistic(x, y, mu);
        }
        Shifted {
            w: below_or_equal as f64,
            tie_sum: within,
        }
    }
}

/// `sum(t^3 - t)` over runs of equal values in one sorted sample.
fn within_tie_sum(sorted: &[f64]) -> f64 {
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

/// `sum_i #{j : y_j < x_i - mu}` (or `<=` when `inclusive`), by a branch-free merge
/// of the two sorted samples: O(n + m) with no data-dependent branch.
fn below_shifted(x: &[f64], y: &[f64], mu: f64, inclusive: bool) -> u64 {
    let (n, m) = (x.len(), y.len());
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0u64;
    while i < n && j < m {
        let a = x[i] - mu;
        let b = y[j];
        let y_first = usize::from(if inclusive { b <= a } else { b < a });
        total += (j as u64) * (1 - y_first) as u64;
        j += y_first;
        i += 1 - y_first;
    }
    total + (n - i) as u64 * j as u64
}

/// `sum_i #{j : y_j < x_i - mu}`, and whether some `y_j == x_i - mu` (one branch-free
/// merge).
fn below_shifted_with_ties(x: &[f64], y: &[f64], mu: f64) -> (u64, bool) {
    let (n, m) = (x.len(), y.len());
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0u64;
    let mut ties = 0usize;
    while i < n && j < m {
        let a = x[i] - mu;
        let b = y[j];
        let y_first = usize::from(b < a);
        ties |= usize::from(b == a);
        total += (j as u64) * (1 - y_first) as u64;
        j += y_first;
        i += 1 - y_first;
    }
    (total + (n - i) as u64 * j as u64, ties != 0)
}

/// Counts of pairwise differences `x_i - y_j` that are `<= v` and `< v`, compared as
/// `y_j >= x_i - v` and `y_j > x_i - v`.
#[cfg(test)]
fn count_pairs(x: &[f64], y: &[f64], v: f64) -> (u64, u64) {
    let pairs = (x.len() as u64) * (y.len() as u64);
    let le = pairs - below_shifted(x, y, v, false);
    let lt = pairs - below_shifted(x, y, v, true);
    (le, lt)
}

/// Most probes counted in one pass.
const LANES: usize = 8;

/// [`below_shifted_with_ties`] for several shifts at once: the merges are independent,
/// so interleaving them lets the CPU overlap their dependency chains.
///
/// Each lane also records, per `x_i`, where its `y` boundary fell (the first `j` with
/// `y_j >= x_i - mu`): the two boundaries of a bracket delimit its candidates row by
/// row, so enumerating them needs no further merge.
fn below_shifted_many(
    x: &[f64],
    y: &[f64],
    mus: &[f64],
) -> ([u64; LANES], [bool; LANES], Vec<Rc<Vec<u32>>>) {
    struct Lane {
        mu: f64,
        i: usize,
        j: usize,
        total: u64,
        ties: usize,
        bounds: Vec<u32>,
    }
    let (n, m) = (x.len(), y.len());
    let mut lanes: Vec<Lane> = mus
        .iter()
        .take(LANES)
        .map(|&mu| Lane {
            mu,
            i: 0,
            j: 0,
            total: 0,
            ties: 0,
            bounds: vec![0u32; n],
        })
        .collect();
    for _ in 0..(n + m) {
        for lane in &mut lanes {
            let (ii, jj) = (lane.i, lane.j);
            let (Some(&xv), Some(&b)) = (x.get(ii), y.get(jj)) else {
                continue;
            };
            let a = xv - lane.mu;
            let y_first = usize::from(b < a);
            lane.ties |= usize::from(b == a);
            lane.total += (jj as u64) * (1 - y_first) as u64;
            // Overwritten until the x step; the last write is the boundary.
            if let Some(slot) = lane.bounds.get_mut(ii) {
                *slot = jj as u32;
            }
            lane.j = jj + y_first;
            lane.i = ii + 1 - y_first;
        }
    }
    let mut totals = [0u64; LANES];
    let mut flags = [false; LANES];
    let mut all_bounds = Vec::with_capacity(lanes.len());
    for (l, mut lane) in lanes.into_iter().enumerate() {
        let rest = (n - lane.i.min(n)) as u64 * lane.j as u64;
        if let (Some(t), Some(f)) = (totals.get_mut(l), flags.get_mut(l)) {
            *t = lane.total + rest;
            *f = lane.ties != 0;
        }
        for slot in lane.bounds.iter_mut().skip(lane.i) {
            *slot = lane.j as u32;
        }
        all_bounds.push(Rc::new(lane.bounds));
    }
    (totals, flags, all_bounds)
}

/// Counts the differences `<= v` for each probe and updates every bracket. The count
/// `< v` is only needed to recognise `v` as an exact order statistic, so it is taken
/// only when some `y_j` equals some `x_i - v` and a bracket could be resolved by it.
///
/// Returns each probe with its count of pairs `y_j < x_i - v` and whether it tied.
fn probe_many(
    x: &[f64],
    y: &[f64],
    probes: &[f64],
    brackets: &mut [Bracket],
) -> Vec<(f64, u64, bool)> {
    let pairs = (x.len() as u64) * (y.len() as u64);
    let mut seen = Vec::with_capacity(probes.len());
    for chunk in probes.chunks(LANES) {
        #[cfg(test)]
        SWEEPS.with(|c| c.set(c.get() + 1));
        let (below, ties, bounds) = below_shifted_many(x, y, chunk);
        for (l, &v) in chunk.iter().enumerate() {
            seen.push((v, below[l], ties[l]));
            let le = pairs - below[l];
            let needs_lt = ties[l]
                && brackets
                    .iter()
                    .any(|b| b.exact.is_none() && b.k <= le && v < b.hi);
            let lt = if needs_lt {
                pairs - below_shifted(x, y, v, true)
            } else {
                le
            };
            for b in brackets.iter_mut() {
                b.observe(v, le, lt, bounds.get(l));
            }
        }
    }
    seen
}

#[cfg(test)]
thread_local! {
    static SWEEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static CANDIDATES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Collects the differences `x_i - y_j` with `from[i] <= j < to[i]`: the candidates of a
/// bracket from the boundaries its two end probes recorded.
fn differences_by_bounds(x: &[f64], y: &[f64], from: &[u32], to: &[u32], out: &mut Vec<f64>) {
    for ((&xi, &a), &b) in x.iter().zip(from).zip(to) {
        if let Some(ys) = y.get(a as usize..b as usize) {
            out.extend(ys.iter().map(|&yj| xi - yj));
        }
    }
    #[cfg(test)]
    CANDIDATES.with(|c| c.set(c.get() + out.len()));
}

/// Collects the differences in `(lo, hi]`, membership decided as in [`probe_many`]
/// (`x_i - hi <= y_j < x_i - lo`).
fn differences_between(x: &[f64], y: &[f64], lo: f64, hi: f64, out: &mut Vec<f64>) {
    let m = y.len();
    let (mut a, mut b) = (0usize, 0usize);
    for &xi in x {
        let (from, to) = (xi - hi, xi - lo);
        while a < m && y[a] < from {
            a += 1;
        }
        if b < a {
            b = a;
        }
        while b < m && y[b] < to {
            b += 1;
        }
        out.extend(y[a..b].iter().map(|&yj| xi - yj));
    }
    #[cfg(test)]
    CANDIDATES.with(|c| c.set(c.get() + out.len()));
}

/// Bracket of one target rank: `count_le(lo) < k <= count_le(hi)`, with the per-row
/// `y` boundaries of its ends when a probe recorded them (`None` at infinite ends).
#[derive(Debug, Clone)]
struct Bracket {
    k: u64,
    lo: f64,
    count_lo: u64,
    lo_bounds: Option<Rc<Vec<u32>>>,
    hi: f64,
    count_hi: u64,
    hi_bounds: Option<Rc<Vec<u32>>>,
    exact: Option<f64>,
}

impl Bracket {
    fn observe(&mut self, v: f64, le: u64, lt: u64, bounds: Option<&Rc<Vec<u32>>>) {
        if self.exact.is_some() {
            return;
        }
        if lt < self.k && le >= self.k {
            self.exact = Some(v);
        } else if le < self.k {
            if v > self.lo {
                self.lo = v;
                self.count_lo = le;
                self.lo_bounds = bounds.cloned();
            }
        } else if v < self.hi {
            self.hi = v;
            self.count_hi = le;
            self.hi_bounds = bounds.cloned();
        }
    }

    fn width(&self) -> u64 {
        if self.exact.is_some() {
            0
        } else {
            self.count_hi - self.count_lo
        }
    }
}

/// Selects the ascending order statistics `ranks` (1-based) of the pairwise differences.
///
/// `extra` is counted with the first probes when there are any; its count of pairs
/// `y_j < x_i - extra` and tie flag come back beside the order statistics.
fn select_pair_differences(
    x: &[f64],
    y: &[f64],
    ranks: &[u64],
    mu_min: f64,
    mu_max: f64,
    extra: f64,
) -> (Vec<f64>, Option<(u64, bool)>) {
    let pairs = (x.len() as u64) * (y.len() as u64);
    // Enumerating a bracket costs one sweep plus its size; stop narrowing at about that.
    let enough = ((x.len() + y.len()) as u64).max(1024);
    let mut brackets: Vec<Bracket> = ranks
        .iter()
        .map(|&k| Bracket {
            k,
            // Open ends: `mu_max` computed as a difference need not pass the membership
            // rule for the largest pair itself, so only infinity is safe here.
            lo: f64::NEG_INFINITY,
            count_lo: 0,
            lo_bounds: None,
            hi: f64::INFINITY,
            count_hi: pairs,
            hi_bounds: None,
            exact: None,
        })
        .collect();

    // Seed the brackets from a small deterministic sample of pairs: its quantiles give
    // two probes per target that bracket it with high probability.
    let sample = sample_differences(x, y, 4096);
    let mut probes = Vec::with_capacity(ranks.len() + 2);
    if !sample.is_empty() {
        let s = sample.len() as f64;
        let mut seeded: Vec<u64> = ranks.to_vec();
        seeded.sort_unstable();
        // Adjacent ranks (the two middle ones) share their probes.
        seeded.dedup_by(|a, b| a.abs_diff(*b) <= enough);
        let last = seeded.len().saturating_sub(1);
        for (i, &k) in seeded.iter().enumerate() {
            let p = k as f64 / pairs as f64;
            let margin = 2.5 * (p * (1.0 - p) / s).sqrt() + 1.0 / s;
            // One probe at each target's estimate, pushed outwards at the two ends, so
            // the probes bracket every target with high probability.
            let qs = match (i == 0, i == last) {
                (true, true) => vec![p - margin, p + margin],
                (true, false) => vec![p - margin],
                (false, true) => vec![p + margin],
                (false, false) => vec![p],
            };
            for q in qs {
                if q > 0.0 && q < 1.0 {
                    // Midway between neighbouring sample values: unlikely to be a pair
                    // difference itself, so no tie pass is needed.
                    let idx = ((q * s) as usize).min(sample.len() - 2);
                    probes.push(sample[idx] + (sample[idx + 1] - sample[idx]) / 2.0);
                }
            }
        }
    }
    if !probes.is_empty() {
        probes.push(extra);
    }
    probes.sort_unstable_by(f64::total_cmp);
    probes.dedup();
    let extra_count = probe_many(x, y, &probes, &mut brackets)
        .into_iter()
        .find(|(v, _, _)| v.to_bits() == extra.to_bits())
        .map(|(_, below, ties)| (below, ties));

    // Refine every open bracket per round with two interpolated probes aimed a little
    // either side of the target, so that accurate interpolations close it at once;
    // a bracket that did not halve since the last round is bisected instead.
    let overshoot = (enough / 10) as f64;
    let mut last_width = vec![u64::MAX; brackets.len()];
    for _ in 0..100 {
        probes.clear();
        let mut planned: Vec<(f64, f64, u64)> = Vec::new();
        for (idx, b) in brackets.iter_mut().enumerate() {
            let width = b.width();
            let shared = planned
                .iter()
                .any(|&(lo, hi, k)| lo == b.lo && hi == b.hi && k.abs_diff(b.k) <= enough);
            if width <= enough || shared {
                // Adjacent ranks (the two middle ones) share a bracket; one plan serves both.
                continue;
            }
            planned.push((b.lo, b.hi, b.k));
            if !b.lo.is_finite() {
                // Every difference is >= mu_min: probing it resolves the rank or gives
                // a finite lower end.
                probes.push(mu_min);
                continue;
            }
            let (lo, hi) = (
                b.lo,
                if b.hi.is_finite() {
                    b.hi
                } else {
                    mu_max.max(b.lo)
                },
            );
            let mid = lo + (hi - lo) / 2.0;
            if !(mid > lo && mid < hi) {
                // No float strictly inside (lo, hi): the remaining candidates all sit
                // within rounding of `hi`; any of them is the answer.
                b.exact = Some(pair_in_window(x, y, lo, b.hi).unwrap_or(hi));
                continue;
            }
            let span = (b.count_hi - b.count_lo) as f64;
            let at = |rank: f64| {
                let frac = ((rank - b.count_lo as f64) / span).clamp(0.0, 1.0);
                let v = lo + (hi - lo) * frac;
                if v > lo && v < hi { v } else { mid }
            };
            if width.saturating_mul(2) > last_width[idx] {
                probes.push(mid);
                probes.push(at(b.k as f64 - 0.5));
            } else {
                probes.push(at(b.k as f64 - 0.5 - overshoot));
                probes.push(at(b.k as f64 - 0.5 + overshoot));
            }
            last_width[idx] = width;
        }
        if probes.is_empty() {
            break;
        }
        probes.sort_unstable_by(f64::total_cmp);
        probes.dedup();
        probe_many(x, y, &probes, &mut brackets);
    }

    let mut out = Vec::with_capacity(brackets.len());
    let mut candidates = Vec::new();
    let mut enumerated: Option<(f64, f64)> = None;
    for b in &brackets {
        if let Some(v) = b.exact {
            // `v` may be a probe that only equals a difference after rounding; report
            // the difference itself.
            out.push(pair_in_window(x, y, v, v).unwrap_or(v));
            continue;
        }
        if enumerated != Some((b.lo, b.hi)) {
            candidates.clear();
            match (&b.hi_bounds, &b.lo_bounds) {
                (Some(from), Some(to)) => differences_by_bounds(x, y, from, to, &mut candidates),
                _ => differences_between(x, y, b.lo, b.hi, &mut candidates),
            }
            enumerated = Some((b.lo, b.hi));
        }
        let index = (b.k - b.count_lo - 1) as usize;
        if index < candidates.len() {
            let (_, nth, _) = candidates.select_nth_unstable_by(index, f64::total_cmp);
            out.push(*nth);
        } else {
            out.push(f64::NAN);
        }
    }
    (out, extra_count)
}

/// Some difference `x_i - y_j` with `x_i - hi <= y_j < x_i - lo` (with `lo == hi`:
/// `y_j == x_i - hi`), the membership rule of [`probe_many`].
fn pair_in_window(x: &[f64], y: &[f64], lo: f64, hi: f64) -> Option<f64> {
    let m = y.len();
    let mut a = 0usize;
    for &xi in x {
        let from = xi - hi;
        while a < m && y[a] < from {
            a += 1;
        }
        let yj = *y.get(a)?;
        let inside = if lo == hi { yj == from } else { yj < xi - lo };
        if inside {
            return Some(xi - yj);
        }
    }
    None
}

/// A sorted sample of pairwise differences on a fixed lattice of indices.
fn sample_differences(x: &[f64], y: &[f64], size: usize) -> Vec<f64> {
    let (n, m) = (x.len(), y.len());
    let pairs = n.saturating_mul(m);
    if pairs <= size {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(size);
    // A multiplicative congruential walk over pair indices; deterministic and cheap.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..size {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let idx = ((state >> 11) % pairs as u64) as usize;
        let (i, j) = (idx / m, idx % m);
        if let (Some(a), Some(b)) = (x.get(i), y.get(j)) {
            out.push(a - b);
        }
    }
    out.sort_unstable_by(f64::total_cmp);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over all pairs, for small samples.
    fn kth(x: &[f64], y: &[f64], k: usize) -> f64 {
        let mut d: Vec<f64> = x
            .iter()
            .flat_map(|a| y.iter().map(move |b| a - b))
            .collect();
        d.sort_unstable_by(f64::total_cmp);
        d[k - 1]
    }

    #[test]
    fn selection_agrees_with_brute_force() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 33) % 50) as f64 / 4.0
        };
        let mut x: Vec<f64> = (0..300).map(|_| next()).collect();
        let mut y: Vec<f64> = (0..250).map(|_| next() + 1.0).collect();
        x.sort_unstable_by(f64::total_cmp);
        y.sort_unstable_by(f64::total_cmp);
        let pairs = 300 * 250;
        let ranks = [1u64, 2, 17, 5000, 37_500, 37_501, 70_000, pairs];
        let (got, _) = select_pair_differences(&x, &y, &ranks, x[0] - y[249], x[299] - y[0], 0.0);
        for (k, v) in ranks.iter().zip(got) {
            assert_eq!(v, kth(&x, &y, *k as usize), "rank {k}");
        }
    }

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
        let y: Vec<f64> = (0..10_000)
            .map(|_| 100.0 * (0.1 * normal()).exp())
            .collect();
        let x: Vec<f64> = (0..10_000)
            .map(|_| 102.0 * (0.1 * normal()).exp())
            .collect();
        let t = std::time::Instant::now();
        let (mut xs, mut ys) = (x.clone(), y.clone());
        xs.sort_unstable_by(f64::total_cmp);
        ys.sort_unstable_by(f64::total_cmp);
        let sort = t.elapsed();
        let mut best_test = std::time::Duration::MAX;
        for _ in 0..20 {
            let t = std::time::Instant::now();
            let _ = mann_whitney_sorted(&xs, &ys, 0.98);
            best_test = best_test.min(t.elapsed());
        }
        eprintln!("test on sorted 10k+10k: best {best_test:?}");
        let t = std::time::Instant::now();
        let r = mann_whitney_sorted(&xs, &ys, 0.98).unwrap();
        let test = t.elapsed();
        let t = std::time::Instant::now();
        let c = count_pairs(&xs, &ys, 1.8);
        let sweep = t.elapsed();
        let t = std::time::Instant::now();
        let sh = shifted_statistic(&xs, &ys, 1.8);
        let shifted = t.elapsed();
        eprintln!(
            "sort {sort:?} test {test:?} sweep {sweep:?} {c:?} shifted {shifted:?} {}",
            sh.w
        );
        let sweeps = SWEEPS.with(std::cell::Cell::get);
        let candidates = CANDIDATES.with(std::cell::Cell::get);
        eprintln!("{r:?} sweeps={sweeps} candidates={candidates}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
        /// The order-statistic search against sorting all differences, with and
        /// without ties, on samples large enough to exercise the probing.
        #[test]
        fn selection_matches_sorting(
            x in proptest::collection::vec(-50i32..50, 70..160),
            y in proptest::collection::vec(-50i32..50, 70..160),
            scale in proptest::sample::select(vec![0.5, 1.0, 0.37, 1e-3]),
            jitter in proptest::bool::ANY,
        ) {
            let spread = |v: &[i32], salt: f64| -> Vec<f64> {
                let mut out: Vec<f64> = v
                    .iter()
                    .enumerate()
                    .map(|(i, &a)| f64::from(a) * scale + if jitter { (i as f64 * salt).sin() * 1e-3 } else { 0.0 })
                    .collect();
                out.sort_unstable_by(f64::total_cmp);
                out
            };
            let (xs, ys) = (spread(&x, 0.7), spread(&y, 1.3));
            let pairs = (xs.len() * ys.len()) as u64;
            let ranks = [1, pairs / 100 + 1, pairs / 2, pairs / 2 + 1, pairs - pairs / 50, pairs];
            let (got, _) = select_pair_differences(&xs, &ys, &ranks, xs[0] - ys[ys.len() - 1], xs[xs.len() - 1] - ys[0], 0.0);
            // Pair membership is decided as `y_j >= x_i - v`, which can disagree with the
            // rounded `x_i - y_j <= v` by an ulp; the values then differ by about that.
            let magnitude = xs[xs.len() - 1].abs().max(xs[0].abs()) + ys[ys.len() - 1].abs().max(ys[0].abs());
            for (k, v) in ranks.iter().zip(got) {
                let expected = kth(&xs, &ys, *k as usize);
                proptest::prop_assert!(
                    (v - expected).abs() <= 4.0 * f64::EPSILON * magnitude,
                    "rank {}: {} vs {}", k, v, expected
                );
            }
        }
    }

    #[test]
    fn counts_agree_with_brute_force() {
        let x = [1.0, 2.0, 2.0, 5.0];
        let y = [0.0, 1.0, 3.0];
        for v in [-5.0, -1.0, 0.0, 1.0, 1.5, 2.0, 4.0, 5.0, 9.0] {
            let le = x
                .iter()
                .flat_map(|a| y.iter().map(move |b| a - b))
                .filter(|d| *d <= v)
                .count();
            let lt = x
                .iter()
                .flat_map(|a| y.iter().map(move |b| a - b))
                .filter(|d| *d < v)
                .count();
            assert_eq!(count_pairs(&x, &y, v), (le as u64, lt as u64), "v = {v}");
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
