//! Second opinions on embeddings batches. The CPU check sees only a few rows of a
//! batch (canaries and a sample), so when it cannot decide — a doubt: every checked
//! row near the reference but not within the tolerance, as another back-end's
//! rounding could be — the whole batch is recomputed by another node and the two
//! results are compared row by row, all of them.
//!
//! A doubted result is kept as a *witness* (`results/witness-<lease>.f32`, the node's
//! rows in leased order) and its lease is recorded as doubted (no strike). The part
//! goes back to the pool; [`crate::work::issue`] never gives a part to a node twice and
//! holds it a while ([`crate::Config::second_opinion_hold`]) for a node of another
//! vendor or back-end. When the next result for the part arrives:
//!
//! - rejected by the CPU check: struck as usual, the witnesses stay;
//! - agreeing with a witness (every row within the tolerance): two nodes computed the
//!   same batch, it is accepted and paid to the node that settled it, and every
//!   witness that disagrees with it is struck ("outvoted");
//! - passed by the CPU check but disagreeing with every witness, or doubted itself:
//!   kept as one more witness and not paid; a third node decides.
//!
//! The CPU check is never loosened for a lone result: a result that only a doubt band
//! would pass is paid only when another node's independent result agrees with it.

use idlewatt_protocol::verify::DOUBT_REASON;
use idlewatt_protocol::wire::JobSpec;
use sqlx::Row;

use crate::datadir::{DataDir, write_atomic};
use crate::embed::layout::Layout;
use crate::embed::verify::{RowCheck, Tolerance};
use crate::store::{Db, LeaseInfo};

/// Why a second opinion could not be taken (the coordinator's fault, never the node's).
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpinionError {
    /// The database.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A witness or block file.
    #[error("cannot keep a result: {0}")]
    Io(#[from] std::io::Error),
    /// The part's layout.
    #[error("an embeddings part without a readable layout: {0}")]
    Layout(String),
}

/// The file a doubted lease's rows are kept in.
fn witness_file(data: &DataDir, lease_id: &str) -> std::path::PathBuf {
    data.result(&format!("witness-{lease_id}"))
}

/// Whether two results of the same batch (rows of `dim`, leased order) agree: same
/// shape, every row within `tol` of the other's.
pub(crate) fn same_rows(a: &[f32], b: &[f32], dim: usize, tol: &Tolerance) -> bool {
    let dim = dim.max(1);
    a.len() == b.len() && !a.is_empty() && a.chunks(dim).zip(b.chunks(dim)).all(|(x, y)| RowCheck::of(x, y).passes(tol))
}

/// The client's rows of a result in the order a block is kept (by the batch's input
/// index), canaries removed.
pub(crate) fn client_block(layout: &Layout, got: &[f32], dim: usize) -> Vec<f32> {
    let dim = dim.max(1);
    let mut rows: Vec<(usize, &[f32])> =
        layout.client_rows().filter_map(|(row, i)| got.get(row * dim..(row + 1) * dim).map(|r| (i, r))).collect();
    rows.sort_by_key(|(i, _)| *i);
    rows.into_iter().flat_map(|(_, r)| r.iter().copied()).collect()
}

/// Settles `verdict` (the CPU check's, for `got`, the node's rows of embeddings part
/// `lease`) against the part's witnesses; see the module docs. Accepting a doubted
/// result stores its block first, as an accepted one's already is.
pub(crate) async fn settle(
    db: &Db,
    data: &DataDir,
    lease: &LeaseInfo,
    got: &[f32],
    verdict: Result<(), String>,
) -> Result<Result<(), String>, OpinionError> {
    let JobSpec::Embeddings(batch) = &lease.spec else { return Ok(verdict) };
    if matches!(&verdict, Err(reason) if !reason.starts_with(DOUBT_REASON)) {
        return Ok(verdict);
    }
    let dim = batch.dim.max(1) as usize;
    let tol = Tolerance::default();
    let witnesses: Vec<(String, String)> = sqlx::query(
        "SELECT id, node FROM leases WHERE job_id = $1 AND id != $2 AND status = 'rejected' AND reason LIKE $3
         ORDER BY finished_at_ms",
    )
    .bind(&lease.job_id)
    .bind(&lease.id)
    .bind(format!("{DOUBT_REASON}%"))
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("node")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let (mut agree, mut disagree) = (Vec::new(), Vec::new());
    for (id, node) in witnesses {
        // A witness whose file is gone (a coordinator restored without its data) has
        // no say either way.
        let Ok(bytes) = tokio::fs::read(witness_file(data, &id)).await else { continue };
        let rows: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if same_rows(got, &rows, dim, &tol) { agree.push((id, node)) } else { disagree.push((id, node)) }
    }
    if !agree.is_empty() {
        if verdict.is_err() {
            let layout: Layout = lease
                .layout_json
                .as_deref()
                .ok_or_else(|| OpinionError::Layout("missing".into()))
                .and_then(|j| serde_json::from_str(j).map_err(|e| OpinionError::Layout(e.to_string())))?;
            crate::results::store_block(data, &lease.job_id, &client_block(&layout, got, dim))?;
        }
        for (id, node) in &disagree {
            let why = format!(
                "outvoted: its vectors for this batch disagree with those of {} other nodes that agree with each other",
                agree.len() + 1
            );
            sqlx::query("UPDATE leases SET reason = $1 WHERE id = $2").bind(&why).bind(id).execute(db).await?;
            tracing::warn!(lease = %id, node = %node, part = %lease.job_id, "embeddings result outvoted: struck");
        }
        tracing::info!(lease = %lease.id, part = %lease.job_id, agreeing = agree.len(), "second opinion agrees");
        return Ok(Ok(()));
    }
    if verdict.is_ok() && disagree.is_empty() {
        return Ok(verdict);
    }
    let bytes: Vec<u8> = got.iter().flat_map(|x| x.to_le_bytes()).collect();
    write_atomic(&witness_file(data, &lease.id), &bytes)?;
    Ok(Err(match verdict {
        Err(doubt) => doubt,
        Ok(()) => {
            format!("{DOUBT_REASON}: its vectors disagree with another node's for the same batch; a third node decides")
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::layout::Slot;

    #[test]
    fn rows_agree_only_within_the_tolerance_and_blocks_drop_canaries() {
        let tol = Tolerance::default();
        let a = vec![0.6, 0.8, 1.0, 0.0];
        assert!(same_rows(&a, &a, 2, &tol));
        assert!(same_rows(&a, &[0.6, 0.8, 1.0, 1e-5], 2, &tol));
        assert!(!same_rows(&a, &[0.8, 0.6, 1.0, 0.0], 2, &tol), "a swapped row");
        assert!(!same_rows(&a, &a[..2], 2, &tol), "another shape");
        assert!(!same_rows(&[], &[], 2, &tol), "nothing");
        let layout = Layout { slots: vec![Slot::Client(1), Slot::Canary(0), Slot::Client(0)] };
        assert_eq!(client_block(&layout, &[1.0, 1.0, 9.0, 9.0, 0.0, 0.0], 2), vec![0.0, 0.0, 1.0, 1.0]);
    }
}
