//! The seeded inputs of a matmul job: A (m×k) from the job's seed and B (k×n) from a
//! seed derived from it, both row-major, by a counter-based generator (SplitMix64 of
//! `seed + index·φ`), so node and coordinator derive identical matrices without sending
//! them, and any element can be produced on its own. This module is *the* definition:
//! changing it changes every job's answer.

/// The golden-ratio increment of SplitMix64.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function (Steele, Lea, Flood 2014).
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `index`-th raw 64-bit value of the stream `seed`.
pub const fn stream_u64(seed: u64, index: u64) -> u64 {
    mix64(seed.wrapping_add(index.wrapping_mul(GOLDEN)))
}

/// The `index`-th value of the stream `seed`: a float in [-1, 1) made from 24 random
/// bits, so every value is exactly representable in f32 (and in f64).
pub fn seeded_value(seed: u64, index: u64) -> f32 {
    ((stream_u64(seed, index) >> 40) as f32 / (1u64 << 23) as f32) - 1.0
}

/// `len` values of the stream `seed` (the same as the core's `bench::seeded_matrix`).
pub fn seeded_matrix(seed: u64, len: usize) -> Vec<f32> {
    (0..len as u64).map(|i| seeded_value(seed, i)).collect()
}

/// The seed of B for a job whose seed (and A's) is `seed`: a different stream, not a
/// shifted copy of A's.
pub const fn b_seed(seed: u64) -> u64 {
    mix64(seed ^ 0xB5AD_4ECE_DA1C_E2A9)
}

/// A (m×k, row-major) and B (k×n, row-major) of the matmul job with `seed`.
pub fn matmul_inputs(seed: u64, m: u32, n: u32, k: u32) -> (Vec<f32>, Vec<f32>) {
    let (m, n, k) = (m as usize, n as usize, k as usize);
    (seeded_matrix(seed, m * k), seeded_matrix(b_seed(seed), k * n))
}

/// The `index`-th value of the stream `seed` for f16 jobs: a float in [-1, 1) made
/// from 11 random bits (a multiple of 2⁻¹⁰), so every value is exactly representable
/// in f16, and the product of two is exact in f32.
pub fn seeded_value_f16(seed: u64, index: u64) -> f32 {
    ((stream_u64(seed, index) >> 53) as f32 / 1024.0) - 1.0
}

/// A and B of the f16 matmul job with `seed` (same streams as [`matmul_inputs`],
/// values from [`seeded_value_f16`]), as f32 values the wire carries.
pub fn matmul_inputs_f16(seed: u64, m: u32, n: u32, k: u32) -> (Vec<f32>, Vec<f32>) {
    let (m, n, k) = (u64::from(m), u64::from(n), u64::from(k));
    (
        (0..m * k).map(|i| seeded_value_f16(seed, i)).collect(),
        (0..k * n).map(|i| seeded_value_f16(b_seed(seed), i)).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_in_range_and_matches_known_values() {
        let a = seeded_matrix(7, 10_000);
        assert_eq!(a, seeded_matrix(7, 10_000));
        assert_ne!(a, seeded_matrix(8, 10_000));
        assert!(a.iter().all(|x| (-1.0..1.0).contains(x)));
        let mean: f32 = a.iter().sum::<f32>() / a.len() as f32;
        assert!(mean.abs() < 0.05, "mean {mean}");
        // Known answers: a change to the generator breaks every job; this catches it.
        assert_eq!(stream_u64(0, 0), 0);
        assert_eq!(stream_u64(0, 1), 0xE220_A839_7B1D_CDAF); // SplitMix64(0)'s first output
        let first: Vec<u32> = seeded_matrix(42, 4).iter().map(|x| x.to_bits()).collect();
        let again: Vec<u32> = (0..4).map(|i| seeded_value(42, i).to_bits()).collect();
        assert_eq!(first, again);
    }

    #[test]
    fn f16_inputs_are_exact_in_f16_and_in_range() {
        let (a, b) = matmul_inputs_f16(3, 20, 30, 40);
        assert_eq!((a.len(), b.len()), (800, 1200));
        for &x in a.iter().chain(&b) {
            assert!((-1.0..1.0).contains(&x), "{x}");
            // A multiple of 2^-10 in [-1, 1): at most 11 significant bits.
            assert_eq!((x * 1024.0).fract(), 0.0, "{x}");
        }
        assert!(a.iter().any(|&x| x != a[0]), "not constant");
        assert_ne!(a[..20], b[..20]);
    }

    #[test]
    fn a_and_b_come_from_different_streams() {
        let (a, b) = matmul_inputs(5, 3, 4, 2);
        assert_eq!((a.len(), b.len()), (6, 8));
        assert_eq!(a, seeded_matrix(5, 6));
        assert_eq!(b, seeded_matrix(b_seed(5), 8));
        assert_ne!(&a[..6], &b[..6]);
    }
}
