//! One batch's verdict: the canaries' rows against their known embeddings, then a
//! random sample of the client's rows recomputed on the CPU with the independent
//! reference (`idlewatt_models::cpu::encode`). Accepted rows come back keyed by the
//! client's input index, so the job's answer is assembled in request order.

use std::time::Instant;

use idlewatt_models::CpuModel;

use super::canary::Canaries;
use super::layout::Layout;
use super::verify::{Mismatch, Picker, RowCheck, Tolerance, check_rows};

/// How many client rows of each batch are recomputed on the CPU.
pub const DEFAULT_SAMPLE_ROWS: usize = 2;

/// A batch that passed.
#[derive(Debug)]
pub struct Accepted {
    /// (client input index, its vector), for every client row of the batch.
    pub rows: Vec<(usize, Vec<f32>)>,
    /// Rows checked (canaries + sampled client rows).
    pub checked: usize,
    /// The worst checked row.
    pub worst: RowCheck,
    /// CPU time of the recomputation, ms.
    pub cpu_ms: f64,
}

/// Why a batch was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    /// A checked row disagrees: the node is at fault.
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
    /// The answer does not have one row per sequence.
    #[error("the answer has {got} rows, the batch {expected}")]
    Rows {
        /// Rows received.
        got: usize,
        /// Rows leased.
        expected: usize,
    },
    /// The coordinator's own reference failed (not the node's fault).
    #[error("CPU reference failed: {0}")]
    Reference(#[from] idlewatt_models::ModelError),
}

/// What the coordinator checks against.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a> {
    /// The model's canaries.
    pub canaries: &'a Canaries,
    /// The independent CPU implementation.
    pub cpu: &'a CpuModel,
    /// Client rows recomputed per batch.
    pub sample_rows: usize,
    /// When rows agree.
    pub tol: Tolerance,
}

/// Judges `got` (the node's rows, in leased order) for the batch laid out as `layout`
/// over the job's `client` sequences.
pub fn judge(
    got: Vec<Vec<f32>>,
    layout: &Layout,
    client: &[Vec<u32>],
    reference: Reference<'_>,
    picker: &mut Picker,
) -> Result<Accepted, JudgeError> {
    let Reference { canaries, cpu, sample_rows, tol } = reference;
    let tol = &tol;
    if got.len() != layout.slots.len() {
        return Err(JudgeError::Rows { got: got.len(), expected: layout.slots.len() });
    }
    let canary_known: Vec<(usize, &'static str, &[f32])> = layout
        .canaries()
        .filter_map(|(row, i)| canaries.vectors.get(i).map(|v| (row, "canary", v.as_slice())))
        .collect();
    let mut worst = check_rows(&got, &canary_known, tol)?;
    let client_rows: Vec<(usize, usize)> = layout.client_rows().collect();
    let picked: Vec<(usize, usize)> =
        picker.sample(client_rows.len(), sample_rows).into_iter().map(|k| client_rows[k]).collect();
    let started = Instant::now();
    let seqs: Vec<Vec<u32>> = picked.iter().filter_map(|&(_, i)| client.get(i).cloned()).collect();
    let reference = idlewatt_models::cpu::encode(cpu, &seqs)?;
    let cpu_ms = started.elapsed().as_secs_f64() * 1e3;
    let sample_known: Vec<(usize, &'static str, &[f32])> =
        picked.iter().zip(&reference).map(|(&(row, _), v)| (row, "client row", v.as_slice())).collect();
    let w = check_rows(&got, &sample_known, tol)?;
    worst = RowCheck { cosine: worst.cosine.min(w.cosine), max_abs: worst.max_abs.max(w.max_abs) };
    let checked = canary_known.len() + sample_known.len();
    let mut got: Vec<Option<Vec<f32>>> = got.into_iter().map(Some).collect();
    let rows = client_rows.iter().filter_map(|&(row, i)| got[row].take().map(|v| (i, v))).collect();
    Ok(Accepted { rows, checked, worst, cpu_ms })
}
