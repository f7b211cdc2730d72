//! The one place a submitted block is judged: calibration work against its seeded
//! inputs, a client block against the rows of the client's A it covers and B, both
//! with the protocol's verifier ([`idlewatt_protocol::verify::verify_matmul`]: range
//! check, recomputed entries, Freivalds rounds, each bound from the job's precision).
//! This is its only caller. An embeddings batch is judged by `embed::judge`
//! (canaries, then a random CPU sample); a batch whose checked rows all lie within
//! [`embed::verify::DOUBT_BAND`] but not within the tolerance is doubted (no strike)
//! and gets a second opinion (`embed::dispute`).

use idlewatt_protocol::Precision;
use idlewatt_protocol::inputs::matmul_inputs;
use idlewatt_protocol::npy;
use idlewatt_protocol::verify::{DEFAULT_ENTRIES, MatmulCheck, Verdict, verify_matmul};
use idlewatt_protocol::wire::JobSpec;

use crate::datadir::DataDir;
use crate::embed::{self, layout::Layout, registry::ModelRegistry};

/// Why a block could not be judged at all (the coordinator's fault, never the node's).
#[derive(Debug, thiserror::Error)]
pub(crate) enum JudgeError {
    /// The model's reference could not be used.
    #[error("embeddings reference: {0}")]
    Model(String),
    /// A verified block could not be kept.
    #[error("cannot keep the verified block: {0}")]
    Store(String),
    /// An input blob could not be read.
    #[error("cannot read input blob {sha256}: {reason}")]
    Blob {
        /// The blob.
        sha256: String,
        /// Why.
        reason: String,
    },
}

fn load(data: &DataDir, sha256: &str) -> Result<(Vec<u8>, npy::Header), JudgeError> {
    let fail = |reason: String| JudgeError::Blob { sha256: sha256.to_owned(), reason };
    let bytes = std::fs::read(data.blob(sha256)).map_err(|e| fail(e.to_string()))?;
    let h = npy::read_header(&bytes, u64::MAX).map_err(|e| fail(e.to_string()))?;
    Ok((bytes, h))
}

/// One check of a block with the job's own precision and the default number of
/// recomputed entries. `Ok(())` pays; `Err(reason)` does not. A doubt's reason starts
/// with [`idlewatt_protocol::verify::DOUBT_REASON`], which the standing query does not count as a strike.
fn check(
    a: &[f32],
    b: &[f32],
    c: &[f32],
    (m, n, k): (u32, u32, u32),
    precision: Precision,
    rounds: u32,
    seed: u64,
) -> Result<(), String> {
    let check = MatmulCheck {
        a,
        b,
        c,
        m: m as usize,
        n: n as usize,
        k: k as usize,
        precision,
        rounds,
        entries: DEFAULT_ENTRIES,
        seed,
    };
    match verify_matmul(&check) {
        Ok(Verdict::Accept) => Ok(()),
        Ok(judged) => Err(judged.to_string()),
        Err(malformed) => Err(malformed.to_string()),
    }
}

/// A leased part as the judge needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part<'a> {
    pub(crate) spec: &'a JobSpec,
    /// An embeddings batch's secret layout (JSON).
    pub(crate) layout: Option<&'a str>,
}

/// Judges `c`, the result of `part`: `Ok(Ok(Some(block)))` verified with a client
/// block to keep (for embeddings: the client's rows in request order, canaries
/// removed), `Ok(Ok(None))` verified calibration work, `Ok(Err(reason))` not paid
/// (rejected, or doubted when the reason starts with
/// [`idlewatt_protocol::verify::DOUBT_REASON`]).
pub(crate) fn judge(
    data: &DataDir,
    models: &ModelRegistry,
    part: Part<'_>,
    c: Vec<f32>,
    rounds: u32,
    rng_seed: u64,
) -> Result<Result<Option<Vec<f32>>, String>, JudgeError> {
    match part.spec {
        JobSpec::Matmul { m, n, k, seed, precision } => {
            let (a, b) = matmul_inputs(*seed, *m, *n, *k);
            Ok(check(&a, &b, &c, (*m, *n, *k), *precision, rounds, rng_seed).map(|()| None))
        }
        JobSpec::ClientMatmul { a_sha256, b_sha256, n, k, row_start, rows, precision, .. } => {
            let (a_bytes, ah) = load(data, a_sha256)?;
            let (b_bytes, bh) = load(data, b_sha256)?;
            let fail = |reason: &str| JudgeError::Blob { sha256: a_sha256.clone(), reason: reason.to_owned() };
            let a = npy::read_rows(&a_bytes, &ah, *row_start as usize, *rows as usize)
                .ok_or_else(|| fail("the block's rows are outside A"))?;
            drop(a_bytes);
            let b = npy::read_rows(&b_bytes, &bh, 0, bh.rows).ok_or_else(|| fail("B cannot be read"))?;
            Ok(check(&a, &b, &c, (*rows, *n, *k), *precision, rounds, rng_seed).map(|()| Some(c)))
        }
        JobSpec::Embeddings(batch) => {
            let model = models
                .get(&batch.model.name)
                .ok_or_else(|| JudgeError::Model(format!("the model {} is no longer served", batch.model.name)))?;
            let reference = model.reference().map_err(JudgeError::Model)?;
            let layout: Layout = part
                .layout
                .ok_or_else(|| JudgeError::Model("an embeddings part without its layout".into()))
                .and_then(|j| serde_json::from_str(j).map_err(|e| JudgeError::Model(e.to_string())))?;
            let dim = batch.dim.max(1) as usize;
            let got: Vec<Vec<f32>> = c.chunks(dim).map(<[f32]>::to_vec).collect();
            // The client rows' sequences, by their index in the batch (canaries apart).
            let mut client = vec![Vec::new(); layout.client_rows().count()];
            for (row, i) in layout.client_rows() {
                if let (Some(slot), Some(seq)) = (client.get_mut(i), batch.sequences.get(row)) {
                    *slot = seq.clone();
                }
            }
            let reference = embed::judge::Reference {
                canaries: &reference.canaries,
                cpu: &reference.cpu,
                sample_rows: embed::judge::DEFAULT_SAMPLE_ROWS,
                tol: embed::verify::Tolerance::default(),
            };
            let mut picker = embed::verify::Picker::new(rng_seed);
            match embed::judge::judge(got.clone(), &layout, &client, reference, &mut picker) {
                Ok(mut accepted) => {
                    accepted.rows.sort_by_key(|(i, _)| *i);
                    Ok(Ok(Some(accepted.rows.into_iter().flat_map(|(_, v)| v).collect())))
                }
                Err(embed::judge::JudgeError::Reference(e)) => Err(JudgeError::Model(e.to_string())),
                Err(embed::judge::JudgeError::Mismatch(m)) if m.passes_band() => {
                    // Near, not equal: the same rows (same seed, same sample) again against
                    // the doubt band, so one near row cannot hide a far one checked later.
                    let loose = embed::judge::Reference { tol: embed::verify::DOUBT_BAND, ..reference };
                    let mut picker = embed::verify::Picker::new(rng_seed);
                    match embed::judge::judge(got, &layout, &client, loose, &mut picker) {
                        Ok(_) => Ok(Err(format!("{}: {m}", idlewatt_protocol::verify::DOUBT_REASON))),
                        Err(embed::judge::JudgeError::Reference(e)) => Err(JudgeError::Model(e.to_string())),
                        Err(e) => Ok(Err(e.to_string())),
                    }
                }
                Err(e) => Ok(Err(e.to_string())),
            }
        }
    }
}
