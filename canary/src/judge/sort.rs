//! Sorting samples of `f64` ascending in IEEE total order, faster than a comparison sort:
//! values become order-preserving `u64` keys, one counting pass spreads them over
//! about `n / 2` buckets by their leading significant bits, and each bucket is finished
//! with an insertion sort (or `sort_unstable` when it holds many values).
//!
//! Latency-like samples are smooth, so the buckets hold two or three values each and
//! the whole sort costs about three linear passes. Samples with few distinct values or
//! a huge dynamic range put many values in few buckets; those fall back to
//! `sort_unstable` on integer keys, which is never slower than sorting the doubles.
//! The output is bit-for-bit that of `sort_unstable_by(f64::total_cmp)`.

/// Reusable buffers, so that sorting many samples allocates once.
#[derive(Debug, Default)]
pub struct SortBuffers {
    keys: Vec<u64>,
    spare: Vec<u64>,
    starts: Vec<u32>,
    cursor: Vec<u32>,
}

/// Below this many values a plain sort of the keys is quicker than bucketing.
const SMALL: usize = 256;
/// Buckets at most this full are finished by insertion sort.
const INSERTION: usize = 24;

/// The `u64` whose unsigned order is the total order of `f64` (as `f64::total_cmp`).
pub fn key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The inverse of [`key`].
pub fn from_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

impl SortBuffers {
    /// Sorts `values` ascending in total order.
    pub fn sort(&mut self, values: &mut [f64]) {
        self.keys.clear();
        self.keys.extend(values.iter().map(|&v| key(v)));
        self.sort_keys();
        for (out, &k) in values.iter_mut().zip(&self.keys) {
            *out = from_key(k);
        }
    }

    /// Replaces `out` with `values` sorted ascending, each value first mapped by
    /// `map` (`None` drops it): NaN handling and sorting in one copy.
    pub fn sort_mapped(
        &mut self,
        values: &[f64],
        map: impl Fn(f64) -> Option<f64>,
        out: &mut Vec<f64>,
    ) {
        self.keys.clear();
        self.keys
            .extend(values.iter().filter_map(|&v| map(v)).map(key));
        self.sort_keys();
        out.clear();
        out.extend(self.keys.iter().map(|&k| from_key(k)));
    }

    /// Sorts `self.keys` ascending.
    fn sort_keys(&mut self) {
        let keys = &mut self.keys;
        let n = keys.len();
        if n < SMALL || u32::try_from(n).is_err() {
            keys.sort_unstable();
            return;
        }
        let (lo, hi) = keys
            .iter()
            .fold((u64::MAX, 0), |(lo, hi), &k| (lo.min(k), hi.max(k)));
        // Bucket b holds the keys with (key - lo) >> shift == b: ranges of equal width
        // over [lo, hi], about n / 2 of them.
        let span_bits = u64::BITS - (hi - lo).leading_zeros();
        let bucket_bits = (n / 2).ilog2().min(span_bits);
        let shift = span_bits - bucket_bits;
        let buckets = ((hi - lo) >> shift) as usize + 1;
        let bucket = |k: u64| ((k - lo) >> shift) as usize;

        // Counting pass: starts[b + 1] counts bucket b; after the prefix sums bucket b
        // is starts[b]..starts[b + 1].
        let starts = &mut self.starts;
        starts.clear();
        starts.resize(buckets + 1, 0);
        for &k in keys.iter() {
            if let Some(c) = starts.get_mut(bucket(k) + 1) {
                *c += 1;
            }
        }
        let mut sum = 0u32;
        for c in starts.iter_mut() {
            sum += *c;
            *c = sum;
        }
        // Scatter: cursor[b] is the next free slot of bucket b.
        let cursor = &mut self.cursor;
        cursor.clear();
        cursor.extend_from_slice(starts.get(..buckets).unwrap_or_default());
        let spare = &mut self.spare;
        spare.clear();
        spare.resize(n, 0);
        for &k in keys.iter() {
            if let Some(at) = cursor.get_mut(bucket(k)) {
                if let Some(slot) = spare.get_mut(*at as usize) {
                    *slot = k;
                }
                *at += 1;
            }
        }
        for w in starts.windows(2) {
            if let Some(run) = spare.get_mut(w[0] as usize..w[1] as usize) {
                finish_bucket(run);
            }
        }
        std::mem::swap(keys, spare);
    }
}

/// Sorts one bucket: insertion sort when small (it is nearly always 0-5 keys), else the
/// standard library's sort.
fn finish_bucket(run: &mut [u64]) {
    if run.len() > INSERTION {
        run.sort_unstable();
        return;
    }
    for i in 1..run.len() {
        let k = run[i];
        // Invariant: run[..i] is sorted; shift its elements greater than k right by one.
        let mut j = i;
        while j > 0 && run[j - 1] > k {
            run[j] = run[j - 1];
            j -= 1;
        }
        run[j] = k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: Vec<f64>) {
        let mut expected = values.clone();
        expected.sort_unstable_by(f64::total_cmp);
        let mut got = values.clone();
        SortBuffers::default().sort(&mut got);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&expected));
    }

    #[test]
    fn keys_preserve_total_order() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            1.0,
            1e300,
            f64::INFINITY,
        ];
        for w in values.windows(2) {
            assert!(key(w[0]) < key(w[1]), "{} < {}", w[0], w[1]);
        }
        for v in values {
            assert_eq!(from_key(key(v)).to_bits(), v.to_bits());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Smooth, tied, signed and tiny samples all sort like `total_cmp`.
        #[test]
        fn sorts_like_total_cmp(
            seed in 0u64..1_000_000,
            len in 0usize..3000,
            shape in 0u8..5,
        ) {
            let mut state = seed;
            let mut unit = || {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
            };
            let values: Vec<f64> = (0..len)
                .map(|_| match shape {
                    0 => 100.0 * (0.1 * (unit() - 0.5)).exp(),
                    1 => (unit() * 7.0).floor(),
                    2 => unit() - 0.5,
                    3 => (unit() * 60.0 - 30.0).exp2() * if unit() < 0.5 { -1.0 } else { 1.0 },
                    _ => if unit() < 0.5 { 0.0 } else { -0.0 },
                })
                .collect();
            check(values);
        }
    }

    #[test]
    fn sort_mapped_drops_and_replaces() {
        let mut buffers = SortBuffers::default();
        let mut out = Vec::new();
        let values = [3.0, f64::NAN, 1.0, 2.0];
        buffers.sort_mapped(&values, |v| (!v.is_nan()).then_some(v), &mut out);
        assert_eq!(out, vec![1.0, 2.0, 3.0]);
        buffers.sort_mapped(
            &values,
            |v| Some(if v.is_nan() { 0.0 } else { v }),
            &mut out,
        );
        assert_eq!(out, vec![0.0, 1.0, 2.0, 3.0]);
    }
}
