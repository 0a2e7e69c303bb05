//! Order statistics of the pairwise differences `x_i - y_j` of two sorted samples,
//! found without materialising the `n * m` differences: the Hodges-Lehmann estimate and
//! the confidence-interval ends of the rank-sum test are such order statistics.
//!
//! The search brackets each target rank `k` between two probe values `lo < hi` with
//! `count(lo) < k <= count(hi)`, where `count(v)` is the number of pairs with
//! `y_j >= x_i - v` (the pair's difference is at most `v`; deciding it on `y_j` keeps
//! every comparison exact). One counting pass walks the rows `x_i` in order and, per
//! probe, advances the boundary `j_i(v)` (the first `j` with `y_j >= x_i - v`), which
//! only moves forward: O(n + m) per probe and up to [`LANES`] probes interleaved in
//! one pass. The boundaries are kept: once the target is near a bracket end, its
//! candidates are read off row by row in a band next to that end's boundaries (or
//! between the boundaries of both ends of a narrow bracket) and the target is picked
//! with a selection, with no further counting pass.
//!
//! Probes come from a deterministic sample of pairs (the first round, which also counts
//! one extra value for the caller, the p-value's `mu = 0`) and then from one probe per
//! target interpolated inside its bracket: for the rank-sum test on samples of
//! thousands of points, two passes of four and three probes.

use super::sort::SortBuffers;

/// Most probes counted in one pass.
const LANES: usize = 8;
/// Pairs drawn to seed the first probes.
const SAMPLE: usize = 4096;

/// What one counting pass found for one probe `v`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Count {
    /// Pairs with `y_j < x_i - v` (the difference exceeds `v`).
    pub(crate) below: u64,
    /// Whether some `y_j == x_i - v`.
    pub(crate) tied: bool,
}

/// Work done by the last [`PairSearch::select`], for diagnostics and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchWork {
    /// Counting passes over the samples.
    pub passes: usize,
    /// Probes counted (a pass counts up to eight).
    pub probes: usize,
    /// Candidate differences enumerated for the final selections.
    pub candidates: usize,
    /// Candidate sets read off next to a bracket's upper end (`.0`) or lower end
    /// (`.1`), and whole brackets enumerated (`.2`).
    pub read_offs: (usize, usize, usize),
    /// Bands that fell short of their target and were widened.
    pub widened: usize,
}

/// Reusable state of the search: judging many metrics allocates once.
#[derive(Debug, Default)]
pub struct PairSearch {
    /// Sorted sample of pairwise differences.
    sample: Vec<f64>,
    sort: SortBuffers,
    /// Row boundaries of counted probes: slot `s` is `rows[s * n..(s + 1) * n]`.
    rows: Vec<u32>,
    /// Slots handed out in the current search.
    slots: usize,
    brackets: Vec<Bracket>,
    probes: Vec<f64>,
    candidates: Vec<f64>,
    work: SearchWork,
}

/// Bracket of one target rank: `count_lo < k <= count_hi`, with the row slots of its
/// ends when a probe recorded them (`None` at the infinite starting ends).
#[derive(Debug, Clone, Copy)]
struct Bracket {
    k: u64,
    lo: f64,
    count_lo: u64,
    lo_slot: Option<usize>,
    hi: f64,
    count_hi: u64,
    hi_slot: Option<usize>,
    /// A probe that is itself the target.
    exact: Option<f64>,
    /// Width at the previous refinement, to notice slow convergence.
    last_width: u64,
}

impl Bracket {
    fn open(k: u64, pairs: u64) -> Self {
        Self {
            k,
            // Open ends: `mu_max` computed as a difference need not pass the membership
            // rule for the largest pair itself, so only infinity is safe here.
            lo: f64::NEG_INFINITY,
            count_lo: 0,
            lo_slot: None,
            hi: f64::INFINITY,
            count_hi: pairs,
            hi_slot: None,
            exact: None,
            last_width: u64::MAX,
        }
    }

    /// Narrows the bracket with probe `v`: `le` pairs are `<= v`, `lt` are `< v`.
    fn observe(&mut self, v: f64, le: u64, lt: u64, slot: usize) {
        if self.exact.is_some() {
            return;
        }
        if lt < self.k && le >= self.k {
            self.exact = Some(v);
        } else if le < self.k {
            if v > self.lo {
                (self.lo, self.count_lo, self.lo_slot) = (v, le, Some(slot));
            }
        } else if v < self.hi {
            (self.hi, self.count_hi, self.hi_slot) = (v, le, Some(slot));
        }
    }

    fn width(&self) -> u64 {
        if self.exact.is_some() {
            0
        } else {
            self.count_hi - self.count_lo
        }
    }

    /// How many candidates a one-sided read-off from the nearer end with recorded rows
    /// must collect at least (`u64::MAX` when neither end has rows).
    fn reach(&self) -> u64 {
        let from_hi = self.hi_slot.map(|_| self.count_hi - self.k + 1);
        let from_lo = self.lo_slot.map(|_| self.k - self.count_lo);
        from_hi.into_iter().chain(from_lo).min().unwrap_or(u64::MAX)
    }

    /// Whether the target is close enough to be read off without more probes: the
    /// bracket is narrow, or it is finite (so a band's width can be estimated) with the
    /// target near an end.
    fn settled(&self, enough: u64) -> bool {
        self.width() <= enough
            || (self.lo.is_finite() && self.hi.is_finite() && self.reach() <= enough)
    }
}

impl PairSearch {
    /// The work done by the last [`Self::select`].
    pub fn work(&self) -> SearchWork {
        self.work
    }

    /// Writes to `out[r]` the ascending order statistic `ranks[r]` (1-based) of the
    /// pairwise differences of `x` and `y` (both sorted ascending, no NaN, lengths below
    /// 2^32). `mu_min`/`mu_max` are `x_min - y_max` and `x_max - y_min`.
    ///
    /// `extra` is counted with the first probes; its [`Count`] comes back when it was
    /// (it is not when there are too few pairs to sample).
    pub(crate) fn select(
        &mut self,
        x: &[f64],
        y: &[f64],
        ranks: &[u64],
        (mu_min, mu_max): (f64, f64),
        extra: f64,
        out: &mut [f64],
    ) -> Option<Count> {
        self.slots = 0;
        self.work = SearchWork::default();
        let pairs = (x.len() as u64) * (y.len() as u64);
        // Enumerating a bracket costs one sweep plus its size; stop narrowing at about that.
        let enough = ((x.len() + y.len()) as u64).max(1024);
        self.brackets.clear();
        self.brackets
            .extend(ranks.iter().map(|&k| Bracket::open(k, pairs)));

        self.seed_probes(x, y, ranks, enough);
        let extra_count = if self.probes.is_empty() {
            None
        } else {
            self.probes.push(extra);
            self.probes.sort_unstable_by(f64::total_cmp);
            self.probes.dedup();
            let probes = std::mem::take(&mut self.probes);
            let found = self.probe(x, y, &probes, Some(extra));
            self.probes = probes;
            found
        };

        for _ in 0..100 {
            if !self.plan_refinement(x, y, (mu_min, mu_max), enough) {
                break;
            }
            let probes = std::mem::take(&mut self.probes);
            self.probe(x, y, &probes, None);
            self.probes = probes;
        }

        self.read_off(x, y, out);
        extra_count
    }

    /// First probes, from the quantiles of a sample of pairs: one at each target's
    /// estimate, pushed outwards at the two ends, so that together they bracket every
    /// target with high probability. Adjacent targets (the two middle ranks) share.
    fn seed_probes(&mut self, x: &[f64], y: &[f64], ranks: &[u64], enough: u64) {
        self.probes.clear();
        sample_differences(x, y, &mut self.sample);
        let sample = &mut self.sample;
        if sample.len() < 2 {
            return;
        }
        self.sort.sort(sample);
        let pairs = (x.len() as u64) * (y.len() as u64);
        let s = sample.len() as f64;
        let mut seeded: Vec<u64> = ranks.to_vec();
        seeded.sort_unstable();
        seeded.dedup_by(|a, b| a.abs_diff(*b) <= enough);
        let last = seeded.len().saturating_sub(1);
        for (i, &k) in seeded.iter().enumerate() {
            let p = k as f64 / pairs as f64;
            let margin = 2.5 * (p * (1.0 - p) / s).sqrt() + 1.0 / s;
            let qs = match (i == 0, i == last) {
                (true, true) => [Some(p - margin), Some(p + margin)],
                (true, false) => [Some(p - margin), None],
                (false, true) => [Some(p + margin), None],
                (false, false) => [Some(p), None],
            };
            for q in qs.into_iter().flatten() {
                if q > 0.0 && q < 1.0 {
                    // Midway between neighbouring sample values: unlikely to be a pair
                    // difference itself, so no tie pass is needed.
                    let idx = ((q * s) as usize).min(sample.len() - 2);
                    if let (Some(&a), Some(&b)) = (sample.get(idx), sample.get(idx + 1)) {
                        self.probes.push(a + (b - a) / 2.0);
                    }
                }
            }
        }
    }

    /// Plans the next round into `self.probes`; false when every bracket is settled.
    /// Each open bracket gets one probe interpolated at its target, which settles it
    /// from whichever side it lands; a bracket that did not halve since its last round
    /// is also bisected.
    fn plan_refinement(
        &mut self,
        x: &[f64],
        y: &[f64],
        (mu_min, mu_max): (f64, f64),
        enough: u64,
    ) -> bool {
        self.probes.clear();
        for idx in 0..self.brackets.len() {
            let Some(&b) = self.brackets.get(idx) else {
                break;
            };
            // Adjacent ranks (the two middle ones) share a bracket; one plan serves both.
            let shared = self
                .brackets
                .get(..idx)
                .unwrap_or_default()
                .iter()
                .any(|p| {
                    !p.settled(enough)
                        && p.lo == b.lo
                        && p.hi == b.hi
                        && p.k.abs_diff(b.k) <= enough
                });
            if b.settled(enough) || shared {
                continue;
            }
            if !b.lo.is_finite() {
                // Every difference is >= mu_min: probing it resolves the rank or gives
                // a finite lower end.
                self.probes.push(mu_min);
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
                if let Some(bracket) = self.brackets.get_mut(idx) {
                    bracket.exact = Some(pair_in_window(x, y, lo, b.hi).unwrap_or(hi));
                }
                continue;
            }
            let width = b.width();
            let frac = ((b.k as f64 - 0.5 - b.count_lo as f64) / width as f64).clamp(0.0, 1.0);
            let at = lo + (hi - lo) * frac;
            let at = if at > lo && at < hi { at } else { mid };
            self.probes.push(at);
            if width.saturating_mul(2) > b.last_width {
                self.probes.push(mid);
            }
            if let Some(bracket) = self.brackets.get_mut(idx) {
                bracket.last_width = width;
            }
        }
        self.probes.sort_unstable_by(f64::total_cmp);
        self.probes.dedup();
        !self.probes.is_empty()
    }

    /// Counts `probes` (ascending, distinct) and narrows every bracket. The count `< v`
    /// is only needed to recognise `v` as an exact order statistic, so it is taken only
    /// when some `y_j` equals some `x_i - v` and a bracket could be resolved by it.
    /// Returns the count of `extra` when it is among the probes.
    fn probe(&mut self, x: &[f64], y: &[f64], probes: &[f64], extra: Option<f64>) -> Option<Count> {
        let n = x.len();
        let pairs = (n as u64) * (y.len() as u64);
        let mut extra_count = None;
        for chunk in probes.chunks(LANES) {
            let first_slot = self.slots;
            self.slots += chunk.len();
            let needed = self.slots * n;
            if self.rows.len() < needed {
                self.rows.resize(needed, 0);
            }
            let rows = self
                .rows
                .get_mut(first_slot * n..needed)
                .unwrap_or_default();
            let mut counts = [Count {
                below: 0,
                tied: false,
            }; LANES];
            count_many(x, y, chunk, rows, &mut counts);
            self.work.passes += 1;
            self.work.probes += chunk.len();
            for (lane, (&v, count)) in chunk.iter().zip(counts).enumerate() {
                if extra.is_some_and(|e| e.to_bits() == v.to_bits()) {
                    extra_count = Some(count);
                }
                let le = pairs - count.below;
                let needs_lt = count.tied
                    && self
                        .brackets
                        .iter()
                        .any(|b| b.exact.is_none() && b.k <= le && v < b.hi);
                let lt = if needs_lt {
                    pairs - below_or_equal(x, y, v)
                } else {
                    le
                };
                for b in &mut self.brackets {
                    b.observe(v, le, lt, first_slot + lane);
                }
            }
        }
        extra_count
    }

    /// Resolves every bracket to its order statistic: exact probes directly, the others
    /// by selecting among candidates read off next to their ends.
    fn read_off(&mut self, x: &[f64], y: &[f64], out: &mut [f64]) {
        // self.candidates holds the differences ranked base + 1 ..= base + len.
        let mut base: Option<u64> = None;
        for idx in 0..self.brackets.len() {
            let (Some(&b), Some(slot)) = (self.brackets.get(idx), out.get_mut(idx)) else {
                break;
            };
            if let Some(v) = b.exact {
                // `v` may be a probe that only equals a difference after rounding;
                // report the difference itself.
                *slot = pair_in_window(x, y, v, v).unwrap_or(v);
                continue;
            }
            let len = self.candidates.len() as u64;
            if !base.is_some_and(|base| b.k > base && b.k - base <= len) {
                base = Some(self.enumerate(x, y, &b));
                self.work.candidates += self.candidates.len();
            }
            let index = base
                .and_then(|base| b.k.checked_sub(base + 1))
                .map_or(usize::MAX, |i| i as usize);
            *slot = if index < self.candidates.len() {
                let (_, nth, _) = self
                    .candidates
                    .select_nth_unstable_by(index, f64::total_cmp);
                *nth
            } else {
                f64::NAN
            };
        }
    }

    /// Fills `self.candidates` with a run of consecutive order statistics that contains
    /// the bracket's target, and returns the rank just below the run.
    ///
    /// From the nearer end with recorded rows, a band of differences is read off that
    /// should hold the target with some margin, its width taken from the bracket's mean
    /// density; a band that falls short is widened. A band reaching the far end, or a
    /// bracket without rows at its ends, is enumerated whole.
    fn enumerate(&mut self, x: &[f64], y: &[f64], b: &Bracket) -> u64 {
        let n = x.len();
        let rows = |s: Option<usize>| s.and_then(|s| self.rows.get(s * n..(s + 1) * n));
        let (hi_rows, lo_rows) = (rows(b.hi_slot), rows(b.lo_slot));
        let candidates = &mut self.candidates;
        candidates.clear();
        let need = b.reach();
        let width = b.width();
        let density = width as f64 / (b.hi - b.lo);
        let from_hi = hi_rows.is_some() && need == b.count_hi - b.k + 1;
        let mut want = need.saturating_add(need / 8 + 256);
        while want < width / 2 && density.is_finite() && density > 0.0 {
            let delta = want as f64 / density;
            if from_hi {
                let w = b.hi - delta;
                if w <= b.lo {
                    break;
                }
                differences_above_rows(x, y, hi_rows.unwrap_or_default(), w, candidates);
                if candidates.len() as u64 >= need {
                    self.work.read_offs.0 += 1;
                    return b.count_hi - candidates.len() as u64;
                }
            } else {
                let w = b.lo + delta;
                if w >= b.hi {
                    break;
                }
                differences_below_rows(x, y, lo_rows.unwrap_or_default(), w, candidates);
                if candidates.len() as u64 >= need {
                    self.work.read_offs.1 += 1;
                    return b.count_lo;
                }
            }
            self.work.widened += 1;
            candidates.clear();
            want = want.saturating_mul(2);
        }
        match (hi_rows, lo_rows) {
            (Some(from), Some(to)) => differences_by_rows(x, y, from, to, candidates),
            _ => differences_between(x, y, b.lo, b.hi, candidates),
        }
        self.work.read_offs.2 += 1;
        b.count_lo
    }
}

/// Counts every probe of `probes` (at most [`LANES`]) in one pass, writing each probe's
/// row boundaries to its `n`-long part of `rows` and its [`Count`] to `counts`.
fn count_many(x: &[f64], y: &[f64], probes: &[f64], rows: &mut [u32], counts: &mut [Count]) {
    macro_rules! lanes {
        ($($l:literal)*) => {
            match probes.len() {
                $($l => if let Ok(mus) = <&[f64; $l]>::try_from(probes) {
                    let found = count_rows::<$l>(x, y, mus, rows);
                    for (c, f) in counts.iter_mut().zip(found) {
                        *c = f;
                    }
                },)*
                _ => {}
            }
        };
    }
    lanes!(1 2 3 4 5 6 7 8);
}

/// The counting pass for `L` probes at once. The probes' walks are independent, so
/// interleaving them lets the CPU overlap their dependency chains.
fn count_rows<const L: usize>(
    x: &[f64],
    y: &[f64],
    mus: &[f64; L],
    rows: &mut [u32],
) -> [Count; L] {
    let n = x.len();
    let mut parts = rows.chunks_exact_mut(n.max(1));
    let bounds: [&mut [u32]; L] = std::array::from_fn(|_| parts.next().unwrap_or_default());
    let mut j = [0usize; L];
    let mut below = [0u64; L];
    // Bit l: probe l met a y_j equal to some x_i - mu.
    let mut tied = 0u32;
    for (i, &xi) in x.iter().enumerate() {
        for l in 0..L {
            // Invariant: j[l] is the boundary of row i - 1, and y[..j[l]] < x_i - mu.
            let a = xi - mus[l];
            let (jl, tie) = advance(y, j[l], a);
            j[l] = jl;
            below[l] += jl as u64;
            tied |= u32::from(tie) << l;
            if let Some(slot) = bounds[l].get_mut(i) {
                *slot = jl as u32;
            }
        }
    }
    std::array::from_fn(|l| Count {
        below: below[l],
        tied: tied >> l & 1 == 1,
    })
}

/// The first `j >= from` with `!(y[j] < a)`, given `y[..from] < a` and `y` ascending,
/// and whether `y[j] == a`.
#[inline(always)]
fn advance(y: &[f64], mut j: usize, a: f64) -> (usize, bool) {
    // Four comparisons per step, no branch on their outcome: the true ones form a
    // prefix of the block, so their number is how far the boundary moves. An equal
    // value in the block can only be the one the boundary stops at.
    while let Some(&[b0, b1, b2, b3]) = y.get(j..).and_then(<[f64]>::first_chunk::<4>) {
        let step =
            usize::from(b0 < a) + usize::from(b1 < a) + usize::from(b2 < a) + usize::from(b3 < a);
        j += step;
        if step < 4 {
            return (j, (b0 == a) | (b1 == a) | (b2 == a) | (b3 == a));
        }
    }
    while y.get(j).is_some_and(|&b| b < a) {
        j += 1;
    }
    (j, y.get(j) == Some(&a))
}

/// `sum_i #{j : y_j <= x_i - mu}`: the pairs whose difference is `< mu`.
pub(crate) fn below_or_equal(x: &[f64], y: &[f64], mu: f64) -> u64 {
    let mut j = 0usize;
    let mut total = 0u64;
    for &xi in x {
        let a = xi - mu;
        // Invariant: y[..j] <= x_i - mu.
        while y.get(j).is_some_and(|&b| b <= a) {
            j += 1;
        }
        total += j as u64;
    }
    total
}

/// Counts pairs with `y_j < x_i - mu` for one shift, and whether some `y_j` equals
/// `x_i - mu`.
pub(crate) fn count_below(x: &[f64], y: &[f64], mu: f64) -> Count {
    let mut j = 0usize;
    let mut below = 0u64;
    let mut tied = false;
    for &xi in x {
        let (at, tie) = advance(y, j, xi - mu);
        j = at;
        below += j as u64;
        tied |= tie;
    }
    Count { below, tied }
}

/// Collects the differences `x_i - y_j` with `from[i] <= j < to[i]`: the candidates of
/// a bracket from the row boundaries its two end probes recorded.
fn differences_by_rows(x: &[f64], y: &[f64], from: &[u32], to: &[u32], out: &mut Vec<f64>) {
    let total: usize = from
        .iter()
        .zip(to)
        .map(|(&a, &b)| b.saturating_sub(a) as usize)
        .sum();
    let start = out.len();
    // One spare slot for the speculative write below.
    out.resize(start + total + 1, 0.0);
    let mut next = start;
    for ((&xi, &a), &b) in x.iter().zip(from).zip(to) {
        let (a, b) = (a as usize, b as usize);
        let len = b.saturating_sub(a);
        // Invariant: out[start..next] holds the candidates of the rows before this one.
        // A row nearly always has zero or one candidate; its first is written
        // unconditionally and kept only if it exists, which avoids a branch that would
        // be mispredicted on every other row.
        if let (Some(slot), Some(&yj)) = (out.get_mut(next), y.get(a)) {
            *slot = xi - yj;
        }
        next += len.min(1);
        if len > 1 {
            let rest = out.get_mut(next..next + len - 1).unwrap_or_default();
            for (slot, &yj) in rest.iter_mut().zip(y.get(a + 1..b).unwrap_or_default()) {
                *slot = xi - yj;
            }
            next += len - 1;
        }
    }
    out.truncate(next);
}

/// Collects the differences in `(w, v]` where `from[i]` is the row boundary of `v`
/// (`y[from[i]..]` are the `y_j >= x_i - v`): per row, the `y_j` from there on while
/// `y_j < x_i - w`.
fn differences_above_rows(x: &[f64], y: &[f64], from: &[u32], w: f64, out: &mut Vec<f64>) {
    let member = |j: usize, d: usize, t: f64| {
        let yj = y.get(j + d).copied().unwrap_or(f64::NAN);
        (yj, yj < t)
    };
    collect_runs(x, from, out, w, member);
}

/// Collects the differences in `(v, w]` where `to[i]` is the row boundary of `v`
/// (`y[..to[i]]` are the `y_j < x_i - v`): per row, the `y_j` below there while
/// `y_j >= x_i - w`.
fn differences_below_rows(x: &[f64], y: &[f64], to: &[u32], w: f64, out: &mut Vec<f64>) {
    let member = |j: usize, d: usize, t: f64| {
        let yj = j
            .checked_sub(d + 1)
            .and_then(|k| y.get(k))
            .copied()
            .unwrap_or(f64::NAN);
        (yj, yj >= t)
    };
    collect_runs(x, to, out, w, member);
}

/// Appends `x_i - y` for each row's run of `y` values next to its boundary:
/// `member(boundary_i, d, x_i - w)` is the `d`-th value from the boundary and whether
/// it belongs to the run (the run ends at the first that does not).
///
/// Rows nearly always hold zero or one candidate, so the first two are written
/// unconditionally and kept by adding their presence to the length: a branch on them
/// would be mispredicted on every other row. Longer runs take a loop.
fn collect_runs(
    x: &[f64],
    boundaries: &[u32],
    out: &mut Vec<f64>,
    w: f64,
    member: impl Fn(usize, usize, f64) -> (f64, bool),
) {
    let mut next = out.len();
    for (&xi, &j) in x.iter().zip(boundaries) {
        if next + 2 > out.len() {
            out.resize(2 * out.len() + 1024, 0.0);
        }
        let (j, t) = (j as usize, xi - w);
        // Invariant: out[..next] holds the candidates of the rows before this one.
        let (first, first_in) = member(j, 0, t);
        let (second, second_in) = member(j, 1, t);
        let kept_first = usize::from(first_in);
        let kept_second = kept_first & usize::from(second_in);
        if let Some(slot) = out.get_mut(next) {
            *slot = xi - first;
        }
        next += kept_first;
        if let Some(slot) = out.get_mut(next) {
            *slot = xi - second;
        }
        next += kept_second;
        if kept_second == 1 {
            let mut d = 2;
            loop {
                let (yj, inside) = member(j, d, t);
                if !inside {
                    break;
                }
                if next + 1 > out.len() {
                    out.resize(2 * out.len(), 0.0);
                }
                if let Some(slot) = out.get_mut(next) {
                    *slot = xi - yj;
                }
                next += 1;
                d += 1;
            }
        }
    }
    out.truncate(next);
}

/// Collects the differences in `(lo, hi]`, membership decided as in the counting pass
/// (`x_i - hi <= y_j < x_i - lo`).
fn differences_between(x: &[f64], y: &[f64], lo: f64, hi: f64, out: &mut Vec<f64>) {
    let (mut a, mut b) = (0usize, 0usize);
    for &xi in x {
        let (from, to) = (xi - hi, xi - lo);
        // Invariant: y[..a] < x_i - hi and y[..b] < x_i - lo, with a <= b.
        while y.get(a).is_some_and(|&v| v < from) {
            a += 1;
        }
        b = b.max(a);
        while y.get(b).is_some_and(|&v| v < to) {
            b += 1;
        }
        if let Some(ys) = y.get(a..b) {
            out.extend(ys.iter().map(|&yj| xi - yj));
        }
    }
}

/// Some difference `x_i - y_j` with `x_i - hi <= y_j < x_i - lo` (with `lo == hi`:
/// `y_j == x_i - hi`), the membership rule of the counting pass.
fn pair_in_window(x: &[f64], y: &[f64], lo: f64, hi: f64) -> Option<f64> {
    let mut a = 0usize;
    for &xi in x {
        let from = xi - hi;
        while y.get(a).is_some_and(|&v| v < from) {
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

/// Fills `out` with [`SAMPLE`] pairwise differences at deterministic pseudo-random
/// pairs (unsorted); empty when there are no more pairs than that.
fn sample_differences(x: &[f64], y: &[f64], out: &mut Vec<f64>) {
    out.clear();
    let (n, m) = (x.len() as u64, y.len() as u64);
    if n.saturating_mul(m) <= SAMPLE as u64 {
        return;
    }
    // A 64-bit LCG, its high bits scaled onto each index by a widening multiply.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |bound: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((u128::from(state) * u128::from(bound)) >> 64) as usize
    };
    for _ in 0..SAMPLE {
        let (i, j) = (next(n), next(m));
        if let (Some(a), Some(b)) = (x.get(i), y.get(j)) {
            out.push(a - b);
        }
    }
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

    fn select(x: &[f64], y: &[f64], ranks: &[u64]) -> Vec<f64> {
        let mut out = vec![0.0; ranks.len()];
        let bounds = (x[0] - y[y.len() - 1], x[x.len() - 1] - y[0]);
        PairSearch::default().select(x, y, ranks, bounds, 0.0, &mut out);
        out
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
        for (k, v) in ranks.iter().zip(select(&x, &y, &ranks)) {
            assert_eq!(v, kth(&x, &y, *k as usize), "rank {k}");
        }
    }

    #[test]
    fn one_search_serves_many_samples() {
        // The reused buffers must not leak state from a longer sample to a shorter one.
        let mut search = PairSearch::default();
        for len in [400usize, 90, 250] {
            let x: Vec<f64> = (0..len).map(|i| (i as f64 * 0.37).sin() * 10.0).collect();
            let y: Vec<f64> = (0..len + 7)
                .map(|i| (i as f64 * 0.61).cos() * 9.0)
                .collect();
            let (mut x, mut y) = (x, y);
            x.sort_unstable_by(f64::total_cmp);
            y.sort_unstable_by(f64::total_cmp);
            let pairs = (x.len() * y.len()) as u64;
            let ranks = [pairs / 10, pairs / 2, pairs / 2 + 1, pairs - pairs / 10];
            let mut out = [0.0; 4];
            let bounds = (x[0] - y[y.len() - 1], x[x.len() - 1] - y[0]);
            search.select(&x, &y, &ranks, bounds, 0.0, &mut out);
            for (k, v) in ranks.iter().zip(out) {
                assert_eq!(v, kth(&x, &y, *k as usize), "len {len} rank {k}");
            }
        }
    }

    #[test]
    fn bands_on_either_side_and_widening_find_the_order_statistics() {
        // Samples large enough for two probe rounds and one-sided read-offs; smooth,
        // skewed and tied shapes land the probes on different sides of their targets.
        let mut search = PairSearch::default();
        let mut total = SearchWork::default();
        for seed in 0..9u64 {
            let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut unit = || {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
            };
            let mut draw = |len: usize, shift: f64| -> Vec<f64> {
                let mut v: Vec<f64> = (0..len)
                    .map(|_| match seed % 3 {
                        0 => unit() + shift,
                        1 => (-unit().ln()) * (1.0 + shift),
                        _ => (unit() * 300.0).floor() + shift * 40.0,
                    })
                    .collect();
                v.sort_unstable_by(f64::total_cmp);
                v
            };
            let (x, y) = (draw(900, 0.1), draw(700, 0.0));
            let mut all: Vec<f64> = x
                .iter()
                .flat_map(|a| y.iter().map(move |b| a - b))
                .collect();
            let pairs = all.len() as u64;
            let ranks = [
                pairs * 2 / 5,
                pairs / 2,
                pairs / 2 + 1,
                pairs * 3 / 5 + seed,
            ];
            let mut out = [0.0; 4];
            let bounds = (x[0] - y[y.len() - 1], x[x.len() - 1] - y[0]);
            search.select(&x, &y, &ranks, bounds, 0.0, &mut out);
            for (k, v) in ranks.iter().zip(out) {
                let (_, expected, _) = all.select_nth_unstable_by(*k as usize - 1, f64::total_cmp);
                assert!(
                    (v - *expected).abs() <= 1e-12 * expected.abs().max(1.0),
                    "seed {seed} rank {k}: {v} vs {expected}"
                );
            }
            let work = search.work();
            total.read_offs.0 += work.read_offs.0;
            total.read_offs.1 += work.read_offs.1;
            total.widened += work.widened;
        }
        // Every read-off path ran (the data are fixed, so this is deterministic).
        assert!(
            total.read_offs.0 > 0 && total.read_offs.1 > 0 && total.widened > 0,
            "{total:?}"
        );
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
            let got = select(&xs, &ys, &ranks);
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

        /// The interleaved counting pass against one probe at a time and brute force.
        #[test]
        fn counting_pass_matches_brute_force(
            x in proptest::collection::vec(-20i32..20, 1..40),
            y in proptest::collection::vec(-20i32..20, 1..40),
            mus in proptest::collection::vec(-45i32..45, 1..=LANES),
        ) {
            let sorted = |v: &[i32]| {
                let mut out: Vec<f64> = v.iter().map(|&a| f64::from(a) * 0.5).collect();
                out.sort_unstable_by(f64::total_cmp);
                out
            };
            let (xs, ys) = (sorted(&x), sorted(&y));
            let mus: Vec<f64> = mus.iter().map(|&m| f64::from(m) * 0.5).collect();
            let mut rows = vec![0u32; xs.len() * mus.len()];
            let mut counts = [Count { below: 0, tied: false }; LANES];
            count_many(&xs, &ys, &mus, &mut rows, &mut counts);
            for (l, &mu) in mus.iter().enumerate() {
                let below = xs.iter().flat_map(|a| ys.iter().map(move |b| (a, b))).filter(|(a, b)| **b < **a - mu).count() as u64;
                let tied = xs.iter().any(|a| ys.contains(&(a - mu)));
                proptest::prop_assert_eq!(counts[l], Count { below, tied });
                proptest::prop_assert_eq!(count_below(&xs, &ys, mu), Count { below, tied });
                let le = xs.iter().flat_map(|a| ys.iter().map(move |b| (a, b))).filter(|(a, b)| **b <= **a - mu).count() as u64;
                proptest::prop_assert_eq!(below_or_equal(&xs, &ys, mu), le);
                for (i, &xi) in xs.iter().enumerate() {
                    let boundary = ys.iter().filter(|&&b| b < xi - mu).count() as u32;
                    proptest::prop_assert_eq!(rows[l * xs.len() + i], boundary);
                }
            }
        }
    }
}
