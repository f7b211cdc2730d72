//! The honest error bounds of one precision at one k (derived in the parent module's
//! docs): the worst case γ·g that no honest node exceeds, and the probable bounds of
//! the rounding-error model, per entry and per row of Freivalds' check.

use super::LAMBDA;
use crate::precision::Precision;

/// Unit round-off of f32: accumulation is f32 in every precision.
const U_F32: f64 = 1.0 / (1u64 << 24) as f64;
/// Unit round-off of f64, this check's own arithmetic.
pub(super) const U_F64: f64 = 1.0 / (1u64 << 53) as f64;
/// Relative slack for the f64 rounding of the bounds themselves.
const INFLATE: f64 = 1.0 + 1e-6;

/// Rounding error of one f32 operation, in units of u, for each precision: 1 for IEEE
/// round-to-nearest (F32; Vulkan requires correctly rounded f32 add and multiply); 4 for
/// F16, whose accumulation may run on tensor cores that round toward zero (< 2u) after
/// aligning and truncating the operands of a multi-term add (another 2u).
pub(super) const fn op_factor(precision: Precision) -> f64 {
    match precision {
        Precision::F32 => 1.0,
        Precision::F16 => 4.0,
    }
}

/// x·y with 0·∞ = 0: a zero magnitude has zero error, however large γ is.
fn mul0(x: f64, y: f64) -> f64 {
    if x == 0.0 || y == 0.0 { 0.0 } else { x * y }
}

/// Bounds for one (precision, k).
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounds {
    precision: Precision,
    k: f64,
    /// γ = k·f·u/(1 − k·f·u): worst-case relative error against g (∞ when meaningless).
    pub(super) gamma: f64,
    /// Absolute error from flushed subnormals, per entry: (2k+2)·2⁻¹²⁶.
    pub(super) eta: f64,
}

impl Bounds {
    pub(super) fn new(precision: Precision, k: usize) -> Self {
        let kf = k as f64;
        let x = kf * op_factor(precision) * U_F32;
        let gamma = if x < 0.5 { x / (1.0 - x) } else { f64::INFINITY };
        Self { precision, k: kf, gamma, eta: (2.0 * kf + 2.0) * f64::from(f32::MIN_POSITIVE) }
    }

    /// The largest |ĉ_ij| an honest node can give when U_ij ≥ |(AB)_ij|.
    pub(super) fn range(&self, entry_max: f64) -> f64 {
        (entry_max + mul0(entry_max, self.gamma) + self.eta) * INFLATE
    }

    /// An entry's (accept, reject) bounds, from its exact terms: g = Σ|x_p|, `partial`
    /// the M of the module docs, `own` the f64 recomputation's error.
    pub(super) fn entry(&self, g: f64, partial: f64) -> (f64, f64) {
        let own = 2.0 * (self.k + 1.0) * U_F64 * g;
        let reject = mul0(self.gamma, g);
        let probable = match self.precision {
            Precision::F32 => LAMBDA * U_F32 * (2.0 * self.k).sqrt() * partial,
            Precision::F16 => mul0(self.gamma, partial),
        };
        let accept = probable.min(reject);
        ((accept + self.eta + own) * INFLATE, (reject + self.eta + own) * INFLATE)
    }

    /// A row's (accept, reject) bounds in one Freivalds round, from Σ_j g_ij, an upper
    /// bound of max_j g_ij, n and `own`, the f64 evaluation error of A(Br) and Cr.
    pub(super) fn row(&self, g_sum: f64, g_max: f64, n: usize, own: f64) -> (f64, f64) {
        let per_entry = match self.precision {
            Precision::F32 => (U_F32 * (2.0 * self.k).sqrt()).min(self.gamma),
            Precision::F16 => self.gamma,
        };
        let slack = n as f64 * self.eta + own;
        let reject = mul0(self.gamma, g_sum);
        let accept = mul0(LAMBDA * per_entry, (g_sum * g_max).sqrt()).min(reject);
        ((accept + slack) * INFLATE, (reject + slack) * INFLATE)
    }
}
