//! Results of client jobs: each verified block of rows is kept as a file
//! (`results/<part id>.f32`, raw little-endian f32, written before the verdict is
//! recorded), and `GET /v1/jobs/{id}/result` assembles C from the blocks of the job's
//! verified parts, each block's rows put at the job rows it covers (a range of a
//! matmul, an embeddings batch's recorded input indices), as a `.npy`.

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
    #[error("the verified parts cover {covered} of the job's {total} rows")]
    Incomplete {
        /// Rows covered.
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
        "SELECT id, row_start, m, rows_json FROM jobs WHERE client_job_id = $1 AND status = 'done' ORDER BY row_start",
    )
    .bind(job_id)
    .fetch_all(db)
    .await?;
    let (rows, cols_us) = (usize::try_from(total).unwrap_or(usize::MAX), usize::try_from(cols).unwrap_or(usize::MAX));
    let row_bytes = cols_us.saturating_mul(4);
    let mut matrix = vec![0u8; rows.saturating_mul(row_bytes)];
    let mut filled = vec![false; rows];
    for r in &parts {
        let (id, start, m): (String, i64, i64) = (r.try_get("id")?, r.try_get("row_start")?, r.try_get("m")?);
        let block_fail = |reason: String| ResultError::Block { part: id.clone(), reason };
        let m = usize::try_from(m).unwrap_or(0);
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let targets = block_rows(r.try_get("rows_json")?, start, m).map_err(block_fail)?;
        let bytes = tokio::fs::read(data.result(&id)).await.map_err(|e| block_fail(e.to_string()))?;
        if bytes.len() != m * row_bytes {
            return Err(block_fail(format!("{} bytes, expected {}", bytes.len(), m * row_bytes)));
        }
        for (row, &target) in bytes.chunks_exact(row_bytes.max(1)).zip(&targets) {
            let Some(seen) = filled.get_mut(target).filter(|seen| !**seen) else {
                return Err(block_fail(format!("row {target} is outside the job or covered twice")));
            };
            *seen = true;
            matrix[target * row_bytes..(target + 1) * row_bytes].copy_from_slice(row);
        }
    }
    let covered = filled.iter().filter(|&&f| f).count() as u64;
    if covered != total {
        return Err(ResultError::Incomplete { covered, total });
    }
    let mut out = npy::header_bytes(npy::Dtype::F32, rows, cols_us);
    out.extend_from_slice(&matrix);
    Ok(out)
}

/// The job rows a part's block holds, in the block's order: an embeddings batch's
/// recorded input indices (length buckets are not contiguous), else `m` rows from
/// `start`.
fn block_rows(rows_json: Option<String>, start: usize, m: usize) -> Result<Vec<usize>, String> {
    match rows_json {
        Some(json) => {
            let rows: Vec<usize> = serde_json::from_str(&json).map_err(|e| format!("its rows: {e}"))?;
            if rows.len() != m {
                return Err(format!("{} rows recorded for a block of {m}", rows.len()));
            }
            Ok(rows)
        }
        None => Ok((start..start.saturating_add(m)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::block_rows;

    #[test]
    fn a_block_is_its_recorded_rows_or_a_contiguous_range() {
        assert_eq!(block_rows(None, 4, 3), Ok(vec![4, 5, 6]));
        assert_eq!(block_rows(Some("[9,2,5]".into()), 0, 3), Ok(vec![9, 2, 5]));
        assert!(block_rows(Some("[9,2]".into()), 0, 3).is_err());
        assert!(block_rows(Some("nonsense".into()), 0, 3).is_err());
    }
}
