//! Verifying a matmul result C = A·B without redoing the O(mnk) work, with bounds that
//! depend only on what the coordinator knows — A, B, k and the job's [`Precision`] —
//! never on the submitted C, so a node cannot widen its own tolerance.
//!
//! # What is checked, in order
//! 1. **Range** (O(mn)). |(AB)_ij| ≤ g_ij := (|A||B|)_ij ≤ U_ij := min(‖a_i‖₁·max_p|b_pj|,
//!    max_p|a_ip|·‖b_·j‖₁), so an entry with |ĉ_ij| > U_ij·(1+γ) + η cannot come from
//!    any honest computation: **Reject** (this kills huge cancelling entries such as
//!    ±10³⁰ outright). A NaN/∞ is a Reject too, unless the inputs allow an overflow.
//! 2. **Exact entries** (O(k) each). `entries` entries (i, j), drawn from the seed, are
//!    recomputed in f64 (each product a_ip·b_pj is exact in f64) and compared with ĉ_ij
//!    against that entry's own bounds (below). This catches work done in a lower
//!    precision (fp16/bf16/TF32 inputs or outputs, fp16 accumulation), which errs by
//!    ~u_low·‖a_i∘b_j‖₂ where an honest f32 node errs by ~u₃₂·√k·‖a_i∘b_j‖₂.
//! 3. **Freivalds rounds** (O(mk + kn + mn) each). A(Br) is compared with Cr row by row for
//!    a vector r drawn from the seed: r_j = ±(1+U_j)/2, a random sign times a magnitude
//!    uniform in [½, 1) on a grid of 2⁵² values.
//!
//! # The bounds
//! Notation: u = 2⁻²⁴ (f32 accumulation, both precisions), f the per-operation factor
//! of the precision, γ = k·f·u/(1 − k·f·u), η = (2k+2)·2⁻¹²⁶ (flushed subnormals), λ =
//! [`LAMBDA`] = 8, x_p = a_ip·b_pj the k terms of entry (i, j), P_q their prefix sums.
//!
//! - **Worst case (deterministic)**: any f32 evaluation of Σ_p x_p — any order,
//!   blocking, split-k, with or without FMA — errs by at most γ·g_ij + η (Higham,
//!   *Accuracy and Stability of Numerical Algorithms*, §3.1). Beyond it the result is
//!   certainly wrong: **Reject**.
//! - **Probable (model)**: rounding errors behave as mean-independent zero-mean random
//!   variables (Higham & Mary, SISC 2019), each at most u·|s| for the intermediate s it
//!   rounds. Let M_ij = min(g_ij, max(|c_ij| + 2‖x‖₂, 2·max_q|P_q|)) bound the
//!   intermediates (prefix sums, block sums = differences of prefixes, and the random-walk
//!   size of other orders). Azuma–Hoeffding over the ≤ 2k roundings: |ĉ_ij − c_ij| ≤
//!   λ·u·√(2k)·M_ij except with probability 2·e^(−λ²/2) ≈ 2.5·10⁻¹⁴.
//! - **F32** (f = 1, IEEE round-to-nearest as Vulkan requires): entry accept bound
//!   min(λ·u·√(2k)·M_ij, γ·g_ij) + η; row accept bound λ·π·√(Σ_j g_ij²) with π =
//!   min(u·√(2k), γ) (Azuma over all the row's n·2k roundings with weights |r_j| ≤ 1),
//!   and Σ_j g_ij² ≤ (|A|·rowmax|B|)_i · (|A||B|·1)_i, both O(mk + kn).
//! - **F16** (f = 4): inputs are f16 values (checked), so products are exact in f32;
//!   accumulation may be a tensor core's: round-toward-zero (error < 2u per addition,
//!   and *biased*, so no √k cancellation) with the operands aligned and truncated before a
//!   multi-term add (another 2u). Hence f = 4 and a linear bound: entry accept γ·M_ij + η;
//!   row accept λ·γ·√(Σ_j g_ij²) (Hoeffding over r, valid for any fixed error, biased or not).
//! - Row reject bound: γ·(|A||B|·1)_i + n·η. Every bound adds the f64 evaluation error of
//!   this check (≤ 2(k+n+2)·2⁻⁵³ of the magnitudes involved) and is inflated by 10⁻⁶
//!   relatively for the rounding of the bounds themselves.
//!
//! # Verdict
//! [`Verdict::Accept`] when every check is within its probable bound;
//! [`Verdict::Reject`] when one is beyond its worst-case bound (certainly wrong: strike
//! the node); [`Verdict::Doubt`] in between. An honest node lands there only on inputs
//! whose rounding errors correlate in the order it happens to sum in (e.g. terms
//! alternating +0.1/−0.0999 summed in 8 interleaved lanes: 1.7× the probable bound,
//! 2 % of the worst case; a test replays it). So does cheaper work at large k: at
//! k ≥ 1024, fp16-rounded inputs or outputs err a few times beyond the probable bound
//! but within γ·g, which grows like k² (at k ≤ 256 they are beyond it: rejected). A
//! doubted result is not paid and not struck: the job goes to another node.
//!
//! # Escape probability of a wrong C (per check)
//! Let e = Ĉ − AB, fixed before the seed is drawn (the coordinator draws it after the
//! result arrived).
//! - Per round, if some row i has max_j|e_ij| = ρ·T_i (T_i its row accept bound), condition
//!   on every r but r_j and its sign: (Cr − ABr)_i = (e_ij/2)·U_j + const, and the U_j
//!   that keep it within ±T_i form an interval of length 4T_i/|e_ij|, so the round accepts
//!   with probability ≤ 4/ρ + 2⁻⁵² — for any pattern of cancellations (Schwartz–Zippel
//!   for a set of 2⁵³ values instead of ±1's ½). A lone wrong entry with ρ > 2 (plus the row's
//!   honest error) is caught every time (|r_j| ≥ ½). `rounds` independent rounds: ≤ (4/ρ + 2⁻⁵²)^rounds.
//! - If q of the mn entries are beyond their entry accept bound, `entries` independent
//!   draws miss them all with probability (1 − q/mn)^entries.
//! - The two use independent streams of the seed: a wrong C is accepted with probability
//!   ≤ (4/ρ + 2⁻⁵²)^rounds · (1 − q/mn)^entries. Cancelling ±huge entries are refused
//!   by the range check with certainty. Work skipped on purpose (zeros, k/2, a missing
//!   block, a stale or foreign C, half the rows) leaves nearly every entry far beyond
//!   its bound (q ≈ mn): 64 draws all miss with probability far below 10⁻³⁰.
//! - An honest C is doubted with probability ≤ (m·rounds + entries)·2.5·10⁻¹⁴ under
//!   the model (measured: none in `examples/verify_adversary.rs`).

mod bounds;
mod entries;
mod freivalds;
mod norms;
mod range;
#[cfg(test)]
mod tests;

use crate::inputs::mix64;
use crate::precision::Precision;
use bounds::Bounds;
use norms::Norms;

/// Standard deviations of slack: an honest value exceeds its probable bound with
/// probability ≤ 2·e^(−λ²/2) ≈ 2.5·10⁻¹⁴.
pub const LAMBDA: f64 = 8.0;

/// Entries of C recomputed exactly per check when the caller has no reason to pick
/// another number: 64 × O(k) is negligible next to one Freivalds round.
pub const DEFAULT_ENTRIES: u32 = 64;

/// The start of the reason recorded for a doubted result, so the coordinator can tell a
/// doubt (no strike) from a rejection (a strike).
pub const DOUBT_REASON: &str = "doubtful: re-checked by another node";

/// One verification of C = A·B, all row-major: A is m×k, B is k×n, C is m×n.
#[derive(Debug, Clone, Copy)]
pub struct MatmulCheck<'a> {
    /// The job's A (m×k).
    pub a: &'a [f32],
    /// The job's B (k×n).
    pub b: &'a [f32],
    /// The submitted C (m×n).
    pub c: &'a [f32],
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// The job's declared precision: it picks the honest bound.
    pub precision: Precision,
    /// Freivalds rounds (at least 1).
    pub rounds: u32,
    /// Entries of C recomputed exactly (0 turns that check off).
    pub entries: u32,
    /// Randomness drawn by the coordinator *after* the result arrived.
    pub seed: u64,
}

/// What a check found that is not an Accept.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// C[row, col] is NaN or infinite.
    NonFinite {
        /// Row of C.
        row: usize,
        /// Column of C.
        col: usize,
    },
    /// |C[row, col]| exceeds what A and B allow for that entry.
    OutOfRange {
        /// Row of C.
        row: usize,
        /// Column of C.
        col: usize,
        /// The submitted value.
        value: f32,
        /// The largest magnitude an honest computation can give.
        bound: f64,
    },
    /// A recomputed entry differs from the submitted one.
    Entry {
        /// Row of C.
        row: usize,
        /// Column of C.
        col: usize,
        /// |ĉ − c| against the f64 recomputation.
        difference: f64,
        /// Its probable (accept) bound.
        accept: f64,
        /// Its worst-case (reject) bound.
        reject: f64,
    },
    /// A Freivalds round found a row where A(Br) and Cr differ.
    Row {
        /// The round.
        round: u32,
        /// The row.
        row: usize,
        /// |A(Br) − Cr|.
        difference: f64,
        /// Its probable (accept) bound.
        accept: f64,
        /// Its worst-case (reject) bound.
        reject: f64,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NonFinite { row, col } => write!(f, "C[{row},{col}] is not finite"),
            Self::OutOfRange { row, col, value, bound } => {
                write!(f, "C[{row},{col}] = {value:.3e} is beyond what A and B allow (|c| ≤ {bound:.3e})")
            }
            Self::Entry { row, col, difference, accept, reject } => write!(
                f,
                "C ≠ A·B: C[{row},{col}] differs from its recomputation by {difference:.3e} \
                 (honest: ≤ {accept:.3e} probably, ≤ {reject:.3e} surely)"
            ),
            Self::Row { round, row, difference, accept, reject } => write!(
                f,
                "C ≠ A·B: row {row} differs by {difference:.3e} in round {round} \
                 (honest: ≤ {accept:.3e} probably, ≤ {reject:.3e} surely)"
            ),
        }
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Within the probable bound everywhere: pay.
    Accept,
    /// Beyond the probable bound but within the worst case somewhere: do not pay, do not
    /// strike; have the job done again by another node.
    Doubt(Finding),
    /// Beyond the worst case (or the inputs' range): certainly wrong.
    Reject(Finding),
}

impl Verdict {
    /// `true` for [`Verdict::Accept`].
    pub fn is_accept(&self) -> bool {
        matches!(self, Self::Accept)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Accept => f.write_str("accepted"),
            Self::Doubt(why) => write!(f, "{DOUBT_REASON}: {why}"),
            Self::Reject(why) => write!(f, "{why}"),
        }
    }
}

/// A check that cannot be run: the inputs are malformed (the caller's fault, not the
/// node's).
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
    /// m·k, k·n or m·n does not fit in memory's address space.
    #[error("the shape {m}×{n}×{k} is too large")]
    TooLarge {
        /// Rows.
        m: usize,
        /// Columns.
        n: usize,
        /// Inner dimension.
        k: usize,
    },
    /// Zero rounds cannot verify anything.
    #[error("at least one verification round is needed")]
    NoRounds,
    /// A or B holds a NaN or an infinity.
    #[error("{matrix}[{index}] is not finite")]
    NonFiniteInput {
        /// "A" or "B".
        matrix: &'static str,
        /// Flat index.
        index: usize,
    },
    /// An f16 job's input is not an f16 value.
    #[error("{matrix}[{index}] = {value} is not an f16 value, but the job is f16")]
    NotF16 {
        /// "A" or "B".
        matrix: &'static str,
        /// Flat index.
        index: usize,
        /// The value.
        value: f32,
    },
}

/// The smallest normal f16, 2⁻¹⁴.
const F16_MIN_NORMAL: f32 = 1.0 / 16384.0;

/// `true` if `x` is exactly representable in IEEE binary16.
pub fn is_f16_value(x: f32) -> bool {
    let ax = x.abs();
    if !ax.is_finite() || ax > 65504.0 {
        return false;
    }
    if ax < F16_MIN_NORMAL {
        // f16 subnormals: multiples of 2⁻²⁴ (exact in f32 for every such value).
        let scaled = f64::from(ax) * f64::from(1u32 << 24);
        return scaled == scaled.trunc();
    }
    x.to_bits() & 0x1FFF == 0
}

fn check_inputs(check: &MatmulCheck<'_>) -> Result<(), VerifyError> {
    let (m, n, k) = (check.m, check.n, check.k);
    let too_large = || VerifyError::TooLarge { m, n, k };
    let sizes = [
        ("A", check.a.len(), m.checked_mul(k).ok_or_else(too_large)?),
        ("B", check.b.len(), k.checked_mul(n).ok_or_else(too_large)?),
        ("C", check.c.len(), m.checked_mul(n).ok_or_else(too_large)?),
    ];
    for (matrix, got, expected) in sizes {
        if got != expected {
            return Err(VerifyError::Shape { matrix, got, expected });
        }
    }
    if check.rounds == 0 {
        return Err(VerifyError::NoRounds);
    }
    for (matrix, values) in [("A", check.a), ("B", check.b)] {
        if let Some(index) = values.iter().position(|x| !x.is_finite()) {
            return Err(VerifyError::NonFiniteInput { matrix, index });
        }
        let not_f16 = (check.precision == Precision::F16).then(|| values.iter().position(|&x| !is_f16_value(x)));
        if let Some(index) = not_f16.flatten() {
            return Err(VerifyError::NotF16 { matrix, index, value: values[index] });
        }
    }
    Ok(())
}

/// Checks C = A·B (see the module docs): range, `entries` exact entries, `rounds`
/// Freivalds rounds. `Err` only for malformed input; a wrong C is a [`Verdict`].
pub fn verify_matmul(check: &MatmulCheck<'_>) -> Result<Verdict, VerifyError> {
    check_inputs(check)?;
    if check.m == 0 || check.n == 0 {
        return Ok(Verdict::Accept);
    }
    Ok(match judge(check) {
        Ok(None) => Verdict::Accept,
        Ok(Some(doubt)) => Verdict::Doubt(doubt),
        Err(wrong) => Verdict::Reject(wrong),
    })
}

/// The checks in order: `Err` on the first certainly wrong finding, `Ok(Some)` with the
/// first doubtful one, `Ok(None)` if all passed.
fn judge(check: &MatmulCheck<'_>) -> Result<Option<Finding>, Finding> {
    let norms = Norms::new(check.a, check.b, check.m, check.n, check.k);
    let bounds = Bounds::new(check.precision, check.k);
    let range = range::check_range(check, &norms, &bounds)?;
    if let Some(doubt) = range.overflow {
        // An honest overflow: the rounds' arithmetic would only see NaN.
        return Ok(Some(doubt));
    }
    let entries = entries::check_entries(check, &bounds, mix64(check.seed ^ 0x0E47_12E5_5EED_0001))?;
    let rows = freivalds::check_rounds(check, &norms, &bounds, &range, mix64(check.seed ^ 0xF4E1_7A15_5EED_0002))?;
    Ok(entries.or(rows))
}
