//! Freivalds' check of a matmul result: C = A·B holds (up to f32 rounding) if
//! A(Br) = Cr for random vectors r. That costs O(mk + kn + mn) per round instead of the
//! O(mnk) of recomputing C, so verifying costs the coordinator almost nothing.
//!
//! # Tolerance
//! An honest C is computed in f32 and differs from the exact product by rounding, so
//! A(Br) and Cr (computed here in f64, exactly enough) differ a little too. The check
//! allows row i a tolerance derived from the data rather than a magic constant:
//!
//! - Computing c_ij = Σ_p a_ip·b_pj in f32 makes k roundings (products and running
//!   sums), each at most u·(|A||B|)_ij with u = 2⁻²⁴, whatever the summation order,
//!   blocking or FMA use. The classic worst case adds them up: γ_k·(|A||B|)_ij with
//!   γ_k ≈ k·u. That is far too loose to catch small errors once it is summed over the
//!   n columns of a row of Cr.
//! - But r_j = ±1 are random signs the node did not know, and rounding errors behave
//!   as mean-independent random variables (Higham & Mary, "A new approach to
//!   probabilistic rounding error analysis", SISC 2019). Then (Cr − ABr)_i is a sum of
//!   n·k zero-mean increments, each bounded by 2u·(|A||B|)_ij, and Azuma–Hoeffding
//!   bounds it by λ·2u·√k·√(Σ_j (|A||B|)²_ij) except with probability 2·exp(−λ²/2).
//! - Σ_j x_j² ≤ max_j x_j · Σ_j x_j, with Σ_j (|A||B|)_ij = (|A|(|B|·1))_i and
//!   max_j (|A||B|)_ij ≤ (|A|·rowmax|B|)_i: both O(mk + kn) to compute.
//!
//! So tol_i = λ·2u·√k·√((|A|(|B|·1))_i · (|A|·rowmax|B|)_i), λ = [`LAMBDA`] = 8: an
//! honest row fails with probability below 3·10⁻¹⁴. For inputs in [-1, 1) and
//! m = n = k = N this is ≈ 5.7·u·N² (≈ 0.02 at N = 256, ≈ 0.35 at N = 1024), against
//! max|C| ≈ 20 at N = 256: a single element off by 10⁻³·max|C| is caught up to
//! N ≈ 256 (`job_sized_256_margins`), a smaller lone error only on smaller jobs. Errors
//! spread over a row (lower precision, skipped work, garbage, zeros, swapped rows) add
//! up over its n columns and are caught far below that. A row with several wrong values
//! that cancel for one sign pattern escapes a round with probability at most ½, so
//! `rounds` independent rounds
//! leave at most 2^−rounds.

use crate::inputs::stream_u64;

/// Unit round-off of f32.
const U_F32: f64 = 1.0 / (1u64 << 24) as f64;
/// Unit round-off of f64 (this check's own arithmetic).
const U_F64: f64 = 1.0 / (1u64 << 53) as f64;

/// Standard deviations of slack: an honest row fails with probability ≤ 2·e^(−λ²/2).
pub const LAMBDA: f64 = 8.0;

/// Why a result failed verification.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifyError {
    /// A, B or C does not have the size m, n, k say.
    #[error("{matrix} has {got} values, expected {expected}")]
    Shape {
        /// "A", "B" or "C".
        matrix: &'static str,
        /// Values given.
        got: usize,
        /// m·k, k·n or m·n.
        expected: usize,
    },
    /// Zero rounds cannot verify anything.
    #[error("at least one verification round is needed")]
    NoRounds,
    /// C holds a NaN or an infinity (A and B are in [-1, 1), so C cannot).
    #[error("C[{index}] is not finite")]
    NonFinite {
        /// Flat index into C.
        index: usize,
    },
    /// A(Br) and Cr differ by more than the tolerance in some row.
    #[error("C ≠ A·B: row {row} differs by {difference:.3e} (tolerance {tolerance:.3e}) in round {round}")]
    Mismatch {
        /// The failing round.
        round: u32,
        /// The first failing row.
        row: usize,
        /// |A(Br) − Cr| in that row.
        difference: f64,
        /// The allowed difference.
        tolerance: f64,
    },
}

/// Per-row tolerances (see the module docs).
fn tolerances(a: &[f32], b: &[f32], c: &[f32], m: usize, n: usize, k: usize) -> Vec<f64> {
    let mut rowsum_b = vec![0.0f64; k];
    let mut rowmax_b = vec![0.0f64; k];
    for (p, row) in b.chunks_exact(n.max(1)).take(k).enumerate() {
        let (mut s, mut mx) = (0.0f64, 0.0f64);
        for &x in row {
            let x = f64::from(x.abs());
            s += x;
            mx = mx.max(x);
        }
        rowsum_b[p] = s;
        rowmax_b[p] = mx;
    }
    let sqrt_k = (k as f64).sqrt();
    (0..m)
        .map(|i| {
            let (mut t, mut w) = (0.0f64, 0.0f64);
            for (p, &x) in a[i * k..(i + 1) * k].iter().enumerate() {
                let x = f64::from(x.abs());
                t += x * rowsum_b[p];
                w += x * rowmax_b[p];
            }
            let c_abs: f64 = c[i * n..(i + 1) * n].iter().map(|&x| f64::from(x.abs())).sum();
            // The f64 evaluation of A(Br) and Cr errs by at most ~(k+n)·u64 of these sums.
            let own = 2.0 * (k + n) as f64 * U_F64 * (t + c_abs);
            LAMBDA * 2.0 * U_F32 * sqrt_k * (t * w).sqrt() + own + f64::from(f32::MIN_POSITIVE)
        })
        .collect()
}

/// Checks that C (m×n) = A (m×k) · B (k×n), all row-major, to f32 accuracy, with
/// `rounds` rounds of Freivalds' check whose random ±1 vectors come from `rng_seed`
/// (pick it at random after the result arrived, so the node cannot aim at it).
#[allow(clippy::too_many_arguments)] // the shape is the job's (m, n, k), kept explicit
pub fn verify_matmul(
    a: &[f32],
    b: &[f32],
    c: &[f32],
    m: usize,
    n: usize,
    k: usize,
    rounds: u32,
    rng_seed: u64,
) -> Result<(), VerifyError> {
    for (matrix, got, expected) in [("A", a.len(), m * k), ("B", b.len(), k * n), ("C", c.len(), m * n)] {
        if got != expected {
            return Err(VerifyError::Shape { matrix, got, expected });
        }
    }
    if rounds == 0 {
        return Err(VerifyError::NoRounds);
    }
    if let Some(index) = c.iter().position(|x| !x.is_finite()) {
        return Err(VerifyError::NonFinite { index });
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    let tol = tolerances(a, b, c, m, n, k);
    let mut r = vec![0.0f64; n];
    let mut br = vec![0.0f64; k];
    for round in 0..rounds {
        for (j, rj) in r.iter_mut().enumerate() {
            let bits = stream_u64(rng_seed, u64::from(round) * n as u64 + j as u64);
            *rj = if bits >> 63 == 0 { 1.0 } else { -1.0 };
        }
        for (p, out) in br.iter_mut().enumerate() {
            *out = b[p * n..(p + 1) * n].iter().zip(&r).map(|(&x, &s)| f64::from(x) * s).sum();
        }
        for (row, &tolerance) in tol.iter().enumerate() {
            let abr: f64 = a[row * k..(row + 1) * k].iter().zip(&br).map(|(&x, &y)| f64::from(x) * y).sum();
            let cr: f64 = c[row * n..(row + 1) * n].iter().zip(&r).map(|(&x, &s)| f64::from(x) * s).sum();
            let difference = (abr - cr).abs();
            if difference.is_nan() || difference > tolerance {
                return Err(VerifyError::Mismatch { round, row, difference, tolerance });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::matmul_inputs;
    use proptest::prelude::*;

    /// What an honest f32 node computes: naive f32 accumulation, in either order.
    fn cpu_matmul_f32(a: &[f32], b: &[f32], m: usize, n: usize, k: usize, reverse: bool) -> Vec<f32> {
        let mut c = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0.0f32;
                for q in 0..k {
                    let p = if reverse { k - 1 - q } else { q };
                    acc += a[i * k + p] * b[p * n + j];
                }
                c[i * n + j] = acc;
            }
        }
        c
    }

    fn max_abs(c: &[f32]) -> f32 {
        c.iter().fold(0.0f32, |m, x| m.max(x.abs()))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn a_correct_result_passes(m in 1usize..40, n in 1usize..40, k in 1usize..64, seed: u64, rng: u64, reverse: bool) {
            let (a, b) = matmul_inputs(seed, m as u32, n as u32, k as u32);
            let c = cpu_matmul_f32(&a, &b, m, n, k, reverse);
            prop_assert_eq!(verify_matmul(&a, &b, &c, m, n, k, 4, rng), Ok(()));
        }

        #[test]
        fn one_wrong_element_fails(m in 1usize..40, n in 1usize..40, k in 1usize..64, seed: u64, rng: u64,
                                   at in any::<prop::sample::Index>(), rel in 1e-3f32..1.0, up: bool) {
            let (a, b) = matmul_inputs(seed, m as u32, n as u32, k as u32);
            let mut c = cpu_matmul_f32(&a, &b, m, n, k, false);
            let delta = rel * max_abs(&c);
            prop_assume!(delta > 0.0);
            let i = at.index(c.len());
            c[i] += if up { delta } else { -delta };
            let got = verify_matmul(&a, &b, &c, m, n, k, 1, rng);
            prop_assert!(matches!(got, Err(VerifyError::Mismatch { .. })), "{:?}", got);
        }

        #[test]
        fn swapped_rows_fail(m in 2usize..40, n in 1usize..40, k in 1usize..64, seed: u64, rng: u64,
                             x in any::<prop::sample::Index>(), y in any::<prop::sample::Index>()) {
            let (a, b) = matmul_inputs(seed, m as u32, n as u32, k as u32);
            let mut c = cpu_matmul_f32(&a, &b, m, n, k, false);
            let (i1, i2) = (x.index(m), y.index(m));
            prop_assume!(i1 != i2);
            let diff = (0..n).map(|j| (c[i1 * n + j] - c[i2 * n + j]).abs()).fold(0.0f32, f32::max);
            prop_assume!(diff > 1e-3 * max_abs(&c));
            for j in 0..n {
                c.swap(i1 * n + j, i2 * n + j);
            }
            prop_assert!(verify_matmul(&a, &b, &c, m, n, k, 4, rng).is_err());
        }

        #[test]
        fn all_zeros_fail(m in 1usize..40, n in 1usize..40, k in 1usize..64, seed: u64, rng: u64) {
            let (a, b) = matmul_inputs(seed, m as u32, n as u32, k as u32);
            let c = cpu_matmul_f32(&a, &b, m, n, k, false);
            prop_assume!(max_abs(&c) > 1e-3);
            let zeros = vec![0.0f32; m * n];
            prop_assert!(verify_matmul(&a, &b, &zeros, m, n, k, 4, rng).is_err());
        }
    }

    #[test]
    fn shapes_rounds_and_non_finite_values_are_refused() {
        let (a, b) = matmul_inputs(1, 4, 4, 4);
        let mut c = cpu_matmul_f32(&a, &b, 4, 4, 4, false);
        assert!(matches!(verify_matmul(&a, &b, &c[..15], 4, 4, 4, 2, 0), Err(VerifyError::Shape { matrix: "C", .. })));
        assert_eq!(verify_matmul(&a, &b, &c, 4, 4, 4, 0, 0), Err(VerifyError::NoRounds));
        c[5] = f32::NAN;
        assert_eq!(verify_matmul(&a, &b, &c, 4, 4, 4, 2, 0), Err(VerifyError::NonFinite { index: 5 }));
    }

    /// At a real job size (256³): honest results in two summation orders pass with a
    /// wide margin, and one element off by 10⁻³·max|C| fails.
    #[test]
    fn job_sized_256_margins() {
        let s = 256;
        let (a, b) = matmul_inputs(99, s as u32, s as u32, s as u32);
        let c = cpu_matmul_f32(&a, &b, s, s, s, false);
        let tol = tolerances(&a, &b, &c, s, s, s);
        let max_tol = tol.iter().fold(0.0f64, |m, &x| m.max(x));
        assert_eq!(verify_matmul(&a, &b, &c, s, s, s, 8, 1), Ok(()));
        assert_eq!(verify_matmul(&a, &b, &cpu_matmul_f32(&a, &b, s, s, s, true), s, s, s, 8, 2), Ok(()));
        let mut bad = c.clone();
        bad[s * 17 + 3] += 1e-3 * max_abs(&c);
        assert!(verify_matmul(&a, &b, &bad, s, s, s, 1, 3).is_err(), "max tolerance {max_tol}, max|C| {}", max_abs(&c));
    }
}
