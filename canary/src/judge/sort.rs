//! Sorting samples of `f64` ascending in IEEE total order, faster than a comparison sort:
//! values become order-preserving `u64` keys, a least-significant-digit radix sort
//! orders them by their leading 33 significant bits (three passes of 11-bit digits,
//! counted in one pass; the lowest is skipped when the counts show the keys spread
//! thinly enough over the leading 22), and an insertion pass fixes the rare keys that
//! share the sorted bits but differ below them.
//!
//! Keys are roughly logarithmic in the value, so latency-like samples spread over the
//! 2^33 prefixes and the insertion pass moves almost nothing. Samples whose values
//! crowd into few prefixes (a huge dynamic range with a dense cluster) would make the
//! insertion pass quadratic; it stops after a budget of moves and the keys are then
//! sorted by `sort_unstable`, so the worst case stays O(n log n).
//! The output is bit-for-bit that of `sort_unstable_by(f64::total_cmp)`.

/// Reusable buffers, so that sorting many samples allocates once.
#[derive(Debug, Default)]
pub struct SortBuffers {
    keys: Vec<u64>,
    spare: Vec<u64>,
}

/// Below this many values a comparison sort of the keys is quicker.
const SMALL: usize = 256;
/// Bits per radix digit.
const DIGIT_BITS: u32 = 11;
/// Radix passes: the number of leading significant bits sorted is three digits.
const PASSES: usize = 3;
/// Moves per key the insertion pass may make before giving up.
const MOVES_PER_KEY: usize = 2;

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
        // The radix is (key - lo) >> shift: the leading PASSES * DIGIT_BITS bits of
        // the offset from the smallest key (all of it when the span is that narrow).
        let span_bits = u64::BITS - (hi - lo).leading_zeros();
        let shift = span_bits.saturating_sub(PASSES as u32 * DIGIT_BITS);
        let mask = (1usize << DIGIT_BITS) - 1;
        let digit = |k: u64, pass: usize| {
            (((k - lo) >> shift) >> (pass as u32 * DIGIT_BITS)) as usize & mask
        };

        let mut counts = [[0u32; 1 << DIGIT_BITS]; PASSES];
        for &k in keys.iter() {
            for (pass, count) in counts.iter_mut().enumerate() {
                if let Some(c) = count.get_mut(digit(k, pass)) {
                    *c += 1;
                }
            }
        }
        // Keys sharing their top two digits are about sum(c^2) / 2^(DIGIT_BITS + 1)
        // pairs over the top digit's counts c, half of them out of order: when that is
        // small, the lowest digit's pass is left to the insertion pass.
        let crowding: u64 = counts.last().map_or(u64::MAX, |top| {
            top.iter().map(|&c| u64::from(c).pow(2)).sum()
        });
        let skip_lowest = crowding >> (DIGIT_BITS + 2) < (n as u64) / 16;
        let spare = &mut self.spare;
        spare.clear();
        spare.resize(n, 0);
        for (pass, count) in counts.iter_mut().enumerate() {
            if pass == 0 && skip_lowest {
                continue;
            }
            if count.iter().any(|&c| c as usize == n) {
                // Every key has the same digit here: the pass would not move anything.
                continue;
            }
            // Exclusive prefix sums: count[d] becomes the first slot of digit d.
            let mut sum = 0u32;
            for c in count.iter_mut() {
                (*c, sum) = (sum, sum + *c);
            }
            // Stable scatter: keys keep the order of the previous passes within a digit.
            for &k in keys.iter() {
                if let Some(at) = count.get_mut(digit(k, pass)) {
                    if let Some(slot) = spare.get_mut(*at as usize) {
                        *slot = k;
                    }
                    *at += 1;
                }
            }
            std::mem::swap(keys, spare);
        }
        if (shift > 0 || skip_lowest) && !insertion_sort(keys, MOVES_PER_KEY * n) {
            keys.sort_unstable();
        }
    }
}

/// Insertion sort of nearly sorted keys; false (keys left permuted but intact) once it
/// would move more than `budget` keys.
fn insertion_sort(keys: &mut [u64], budget: usize) -> bool {
    let mut moves = 0usize;
    for i in 1..keys.len() {
        let k = keys[i];
        // Invariant: keys[..i] is sorted; shift its elements greater than k right by one.
        let mut j = i;
        while j > 0 && keys[j - 1] > k {
            keys[j] = keys[j - 1];
            j -= 1;
        }
        keys[j] = k;
        moves += i - j;
        if moves > budget {
            return false;
        }
    }
    true
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
        /// Smooth, tied, signed, zero-padded and tiny samples all sort like `total_cmp`.
        #[test]
        fn sorts_like_total_cmp(
            seed in 0u64..1_000_000,
            len in 0usize..3000,
            shape in 0u8..6,
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
                    4 => if unit() < 0.5 { 0.0 } else { -0.0 },
                    // Missing points replaced by zeros beside smooth values.
                    _ => if unit() < 0.05 { 0.0 } else { 100.0 * (0.1 * (unit() - 0.5)).exp() },
                })
                .collect();
            check(values);
        }
    }

    #[test]
    fn dense_cluster_in_a_huge_range_falls_back() {
        // All but two keys share their leading 33 bits: the insertion pass gives up.
        let mut values: Vec<f64> = (0..5000u64)
            .map(|i| f64::from_bits(1.0f64.to_bits() + (i * 7919) % 5000))
            .collect();
        values.extend([1e300, -1e300]);
        check(values);
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
