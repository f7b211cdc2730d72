//! Freivalds' rounds: A(Br) against Cr for a vector r from the seed, row by row, in f64.
//! r_j = ±(1 + U)/2 with U uniform on 2⁵² points of [0, 1): a random sign and a random
//! magnitude in [½, 1), so a lone error is never hidden by a small r_j and errors that
//! cancel for one r survive another only with probability ≤ 4·tolerance/|error|.

use super::bounds::{Bounds, U_F64};
use super::norms::Norms;
use super::range::Range;
use super::{Finding, MatmulCheck};
use crate::inputs::stream_u64;

/// Σ x_i·y_i in f64 over four accumulators (vectorised; any order errs by at most
/// len·u₆₄·Σ|x_i·y_i|, which the bounds allow).
fn dot(x: &[f32], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (xs, ys) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xs.remainder().iter().zip(ys.remainder()).map(|(&a, &b)| f64::from(a) * b).sum();
    for (a, b) in xs.zip(ys) {
        for ((s, &a), &b) in acc.iter_mut().zip(a).zip(b) {
            *s += f64::from(a) * b;
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The j-th entry of round `round`'s vector r.
pub(super) fn r_entry(seed: u64, round: u32, n: usize, j: usize) -> f64 {
    let bits = stream_u64(seed, u64::from(round) * n as u64 + j as u64);
    let magnitude = (1.0 + (bits & ((1u64 << 52) - 1)) as f64 / (1u64 << 52) as f64) / 2.0;
    if bits >> 63 == 0 { magnitude } else { -magnitude }
}

/// Runs `check.rounds` rounds: `Err` with the first row beyond its worst case,
/// `Ok(Some)` with the first beyond its probable bound.
pub(super) fn check_rounds(
    check: &MatmulCheck<'_>,
    norms: &Norms,
    bounds: &Bounds,
    range: &Range,
    seed: u64,
) -> Result<Option<Finding>, Finding> {
    let (m, n, k) = (check.m, check.n, check.k);
    // The f64 evaluation of A(Br) and Cr errs by ≤ (k+n+2)·u₆₄ of Σ_j g_ij and Σ_j |ĉ_ij|.
    let own_scale = 2.0 * (k + n + 2) as f64 * U_F64;
    let row_bounds: Vec<(f64, f64)> = (0..m)
        .map(|i| bounds.row(norms.g_sum[i], norms.g_max[i], n, own_scale * (norms.g_sum[i] + range.c_sum[i])))
        .collect();
    let mut r = vec![0.0f64; n];
    let mut br = vec![0.0f64; k];
    let mut doubt = None;
    for round in 0..check.rounds {
        for (j, rj) in r.iter_mut().enumerate() {
            *rj = r_entry(seed, round, n, j);
        }
        for (p, out) in br.iter_mut().enumerate() {
            *out = dot(&check.b[p * n..(p + 1) * n], &r);
        }
        for (row, &(accept, reject)) in row_bounds.iter().enumerate() {
            let abr = dot(&check.a[row * k..(row + 1) * k], &br);
            let cr = dot(&check.c[row * n..(row + 1) * n], &r);
            let difference = (abr - cr).abs();
            if difference.is_nan() || difference > reject {
                return Err(Finding::Row { round, row, difference, accept, reject });
            }
            if difference > accept && doubt.is_none() {
                doubt = Some(Finding::Row { round, row, difference, accept, reject });
            }
        }
    }
    Ok(doubt)
}
