//! The range check: every entry of C against the largest value A and B allow for it
//! (O(mn) from the row and column norms). Huge entries — cancelling or not — and NaN
//! or ∞ are certainly wrong unless the inputs allow an f32 overflow.

use super::bounds::Bounds;
use super::norms::Norms;
use super::{Finding, MatmulCheck};

/// What the range check leaves for the later checks.
#[derive(Debug)]
pub(super) struct Range {
    /// Per row, Σ_j of the range bound: bounds Σ_j |ĉ_ij| from the inputs alone.
    pub(super) c_sum: Vec<f64>,
    /// A non-finite entry the inputs allow (an honest f32 overflow).
    pub(super) overflow: Option<Finding>,
}

/// `Err` with the first entry beyond its range or non-finite without excuse.
pub(super) fn check_range(check: &MatmulCheck<'_>, norms: &Norms, bounds: &Bounds) -> Result<Range, Finding> {
    let n = check.n;
    let mut c_sum = Vec::with_capacity(check.m);
    let mut overflow = None;
    for (row, values) in check.c.chunks_exact(n).enumerate() {
        let mut sum = 0.0f64;
        for (col, &value) in values.iter().enumerate() {
            let bound = bounds.range(norms.entry_max(row, col));
            sum += bound;
            if !value.is_finite() {
                if bound < f64::from(f32::MAX) {
                    return Err(Finding::NonFinite { row, col });
                }
                overflow.get_or_insert(Finding::NonFinite { row, col });
            } else if f64::from(value.abs()) > bound {
                return Err(Finding::OutOfRange { row, col, value, bound });
            }
        }
        c_sum.push(sum);
    }
    Ok(Range { c_sum, overflow })
}
