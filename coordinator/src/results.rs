//! Results of client jobs: each verified block of rows is kept as a file
//! (`results/<part id>.f32`, raw little-endian f32, written before the verdict is
//! recorded), and `GET /v1/jobs/{id}/result` assembles C from the blocks of the job's
//! verified parts, in row order, as a `.npy`.

use idlewatt_protocol::npy;
use sqlx::Row;

use crate::datadir::{DataDir, write_atomic};
use crate::store::Db;

/// Why a result could not be assembled.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResultError {
    /// The database.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A block file.
    #[error("result block {part}: {reason}")]
    Block {
        /// The part.
        part: String,
        /// Why.
        reason: String,
    },
    /// The verified parts do not cover the rows (a bug, never expected).
    #[error("the verified parts cover rows 0..{covered} of {total}")]
    Incomplete {
        /// Rows covered in order.
        covered: u64,
        /// Rows in the job.
        total: u64,
    },
}

/// Keeps a verified block (before the verdict is recorded, so a recorded verdict always
/// has its block).
pub(crate) fn store_block(data: &DataDir, part_id: &str, c: &[f32]) -> std::io::Result<()> {
    let bytes: Vec<u8> = c.iter().flat_map(|x| x.to_le_bytes()).collect();
    write_atomic(&data.result(part_id), &bytes)
}

/// C of client job `job_id` (total×cols) as a `.npy` file.
pub(crate) async fn assemble(
    db: &Db,
    data: &DataDir,
    job_id: &str,
    total: u64,
    cols: u64,
) -> Result<Vec<u8>, ResultError> {
    let parts = sqlx::query(
        "SELECT id, row_start, m FROM jobs WHERE client_job_id = $1 AND status = 'done' ORDER BY row_start",
    )
    .bind(job_id)
    .fetch_all(db)
    .await?;
    let (rows, cols_us) = (usize::try_from(total).unwrap_or(usize::MAX), usize::try_from(cols).unwrap_or(usize::MAX));
    let mut out = npy::header_bytes(npy::Dtype::F32, rows, cols_us);
    let mut covered = 0u64;
    for r in &parts {
        let (id, start, m): (String, i64, i64) = (r.try_get("id")?, r.try_get("row_start")?, r.try_get("m")?);
        if u64::try_from(start).ok() != Some(covered) {
            return Err(ResultError::Incomplete { covered, total });
        }
        let bytes = tokio::fs::read(data.result(&id))
            .await
            .map_err(|e| ResultError::Block { part: id.clone(), reason: e.to_string() })?;
        let m = u64::try_from(m).unwrap_or(0);
        if bytes.len() as u64 != m * cols * 4 {
            return Err(ResultError::Block {
                part: id,
                reason: format!("{} bytes, expected {}", bytes.len(), m * cols * 4),
            });
        }
        out.extend_from_slice(&bytes);
        covered += m;
    }
    if covered != total {
        return Err(ResultError::Incomplete { covered, total });
    }
    Ok(out)
}
