//! The one place a submitted block is judged: calibration work against its seeded
//! inputs, a client block against the rows of the client's A it covers and B, both
//! with the protocol's Freivalds check ([`idlewatt_protocol::verify::verify_matmul`]).
//! The verification issue replaces that check's internals; this is the only caller.

use idlewatt_protocol::inputs::matmul_inputs;
use idlewatt_protocol::npy;
use idlewatt_protocol::verify::{VerifyError, verify_matmul};
use idlewatt_protocol::wire::JobSpec;

use crate::datadir::DataDir;

/// Why a block could not be judged at all (the coordinator's fault, never the node's).
#[derive(Debug, thiserror::Error)]
pub(crate) enum JudgeError {
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

/// Judges `c`, the result of `spec`: `Ok(Ok(()))` verified, `Ok(Err(_))` rejected.
pub(crate) fn judge(
    data: &DataDir,
    spec: &JobSpec,
    c: &[f32],
    rounds: u32,
    rng_seed: u64,
) -> Result<Result<(), VerifyError>, JudgeError> {
    match spec {
        JobSpec::Matmul { m, n, k, seed, .. } => {
            let (a, b) = matmul_inputs(*seed, *m, *n, *k);
            Ok(verify_matmul(&a, &b, c, *m as usize, *n as usize, *k as usize, rounds, rng_seed))
        }
        JobSpec::ClientMatmul { a_sha256, b_sha256, n, k, row_start, rows, .. } => {
            let (a_bytes, ah) = load(data, a_sha256)?;
            let (b_bytes, bh) = load(data, b_sha256)?;
            let fail = |reason: &str| JudgeError::Blob { sha256: a_sha256.clone(), reason: reason.to_owned() };
            let a = npy::read_rows(&a_bytes, &ah, *row_start as usize, *rows as usize)
                .ok_or_else(|| fail("the block's rows are outside A"))?;
            drop(a_bytes);
            let b = npy::read_rows(&b_bytes, &bh, 0, bh.rows).ok_or_else(|| fail("B cannot be read"))?;
            Ok(verify_matmul(&a, &b, c, *rows as usize, *n as usize, *k as usize, rounds, rng_seed))
        }
    }
}
