//! Exact recomputation of a few entries of C chosen from the seed, each judged against
//! its own bounds. In f64 every product a_ip·b_pj is exact and the sum errs by at most
//! 2(k+1)·2⁻⁵³·g, so the difference seen is the node's error. This is the check that
//! catches lower precision (its errors are below the row tolerance of Freivalds' check
//! at large k, but 10–10⁴× above an entry's own probable bound).

use super::bounds::Bounds;
use super::{Finding, MatmulCheck};
use crate::inputs::stream_u64;

/// What the exact terms of one entry say: its value in f64, g = Σ|x_p|, and M, the bound
/// of the intermediates of a sensible summation order (module docs).
#[derive(Debug, Clone, Copy)]
pub(super) struct Exact {
    pub(super) value: f64,
    pub(super) g: f64,
    pub(super) partial: f64,
}

/// The exact terms of C[i, j] = Σ_p a_ip·b_pj.
pub(super) fn exact_entry(check: &MatmulCheck<'_>, i: usize, j: usize) -> Exact {
    let (n, k) = (check.n, check.k);
    let (mut sum, mut sq, mut g, mut peak) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (p, &x) in check.a[i * k..(i + 1) * k].iter().enumerate() {
        let t = f64::from(x) * f64::from(check.b[p * n + j]);
        sum += t;
        sq += t * t;
        g += t.abs();
        peak = peak.max(sum.abs());
    }
    let partial = g.min((sum.abs() + 2.0 * sq.sqrt()).max(2.0 * peak));
    Exact { value: sum, g, partial }
}

/// Checks `check.entries` entries drawn from `seed` (with replacement): `Err` with the
/// first one beyond its worst case, `Ok(Some)` with the first beyond its probable bound.
pub(super) fn check_entries(check: &MatmulCheck<'_>, bounds: &Bounds, seed: u64) -> Result<Option<Finding>, Finding> {
    let cells = (check.m * check.n) as u64;
    let mut doubt = None;
    for t in 0..u64::from(check.entries) {
        let index = (stream_u64(seed, t) % cells) as usize;
        let (row, col) = (index / check.n, index % check.n);
        let exact = exact_entry(check, row, col);
        let (accept, reject) = bounds.entry(exact.g, exact.partial);
        let difference = (f64::from(check.c[index]) - exact.value).abs();
        if difference > reject {
            return Err(Finding::Entry { row, col, difference, accept, reject });
        }
        if difference > accept && doubt.is_none() {
            doubt = Some(Finding::Entry { row, col, difference, accept, reject });
        }
    }
    Ok(doubt)
}
