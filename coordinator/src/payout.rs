//! The payout worker: one task that moves withdrawals from the ledger onto the chain,
//! exactly once. In order, for each non-final withdrawal:
//!
//! 1. `signed`/`submitted` (a transaction is recorded): ask the chain for its receipt.
//!    In a block → `confirmed` (or `failed` and refunded if it reverted). Not yet → send
//!    the recorded bytes again (harmless if the node has them). If the treasury's mined
//!    nonce moved past ours and our hash has no receipt several checks in a row, another
//!    transaction took the nonce: ours can never be mined → `failed`, refunded.
//! 2. `queued`: check the treasury holds enough tokens (else `failed`, refunded: "treasury
//!    low"), take the next treasury nonce, sign, RECORD the transaction, then send it.
//!
//! A crash anywhere leaves either a queued row (nothing was signed) or a recorded
//! transaction, which step 1 resolves on the next start: nothing is paid twice (one
//! transaction per withdrawal, one withdrawal per treasury nonce) and nothing is
//! forgotten. While the chain is unreachable, rows stay where they are with a note the
//! owner sees, and the worker retries with doubling backoff.

use std::collections::HashMap;
use std::time::Duration;

use alloy::primitives::U256;
use idlewatt_protocol::auth::now_ms;
use tokio::sync::{Notify, watch};

use crate::chain::{Chain, ChainError};
use crate::config::ChainConfig;
use crate::payout_store::{self as ps, Stored};
use crate::store::Db;

/// Checks in a row that may see our nonce used and our hash unknown before the
/// withdrawal counts as displaced (receipts can lag the nonce on some nodes).
const DISPLACED_CHECKS: u32 = 3;

/// The worker's state between passes.
pub(crate) struct Worker {
    db: Db,
    chain: Chain,
    config: ChainConfig,
    crash_after_broadcast: bool,
    /// Consecutive checks that saw a recorded transaction displaced, by withdrawal id.
    displaced: HashMap<String, u32>,
    /// The endpoint serves the configured chain (checked once per run).
    chain_checked: bool,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("treasury", &self.chain.treasury()).finish_non_exhaustive()
    }
}

impl Worker {
    pub(crate) fn new(db: Db, chain: Chain, config: ChainConfig, crash_after_broadcast: bool) -> Self {
        Self { db, chain, config, crash_after_broadcast, displaced: HashMap::new(), chain_checked: false }
    }

    /// Runs passes until `stopped`: every poll interval while work is pending, at once
    /// when `wake` is notified (a new withdrawal), with backoff while the chain is away.
    pub(crate) async fn run(mut self, wake: std::sync::Arc<Notify>, mut stopped: watch::Receiver<bool>) {
        let mut backoff = self.config.poll_interval;
        loop {
            let delay = match self.pass().await {
                Ok(()) => {
                    backoff = self.config.poll_interval;
                    self.config.poll_interval
                }
                Err(PassError::Chain(e)) => {
                    let wait = backoff;
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    tracing::warn!(error = %e, retry_in = ?wait, "payouts waiting for the chain");
                    let note = format!("waiting for the chain ({e}); next try in {} s", wait.as_secs_f64().ceil());
                    self.note_waiting(&note).await;
                    wait
                }
                Err(PassError::Db(e)) => {
                    tracing::error!(error = %e, "payout pass failed (database)");
                    self.config.max_backoff.min(Duration::from_secs(5))
                }
            };
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = wake.notified() => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
        }
    }

    async fn note_waiting(&self, note: &str) {
        for status in ["queued", "signed", "submitted"] {
            if let Ok(rows) = ps::in_status(&self.db, status).await {
                for w in rows {
                    if let Err(e) = ps::note(&self.db, &w.id, note, now_ms()).await {
                        tracing::warn!(error = %e, "cannot note a waiting withdrawal");
                    }
                }
            }
        }
    }

    /// One pass over every non-final withdrawal.
    #[tracing::instrument(level = "debug", skip_all)]
    pub(crate) async fn pass(&mut self) -> Result<(), PassError> {
        let mut recorded = ps::in_status(&self.db, "signed").await?;
        recorded.extend(ps::in_status(&self.db, "submitted").await?);
        let queued = ps::in_status(&self.db, "queued").await?;
        if recorded.is_empty() && queued.is_empty() {
            return Ok(());
        }
        if !self.chain_checked {
            let served = self.chain.chain_id().await?;
            if served != self.config.chain_id {
                let e = format!(
                    "the RPC endpoint serves chain {served}, but the coordinator is configured for chain {}",
                    self.config.chain_id
                );
                return Err(PassError::Chain(ChainError::Refused(e)));
            }
            self.chain_checked = true;
        }
        recorded.sort_by_key(|w| w.treasury_nonce);
        for w in &recorded {
            self.reconcile(w).await?;
        }
        for w in &queued {
            self.pay(w).await?;
        }
        Ok(())
    }

    /// Resolves a withdrawal whose transaction is recorded.
    async fn reconcile(&mut self, w: &Stored) -> Result<(), PassError> {
        let (Some(hash), Some(raw), Some(nonce)) = (w.tx_hash, w.raw_tx.as_deref(), w.treasury_nonce) else {
            return Ok(());
        };
        if let Some(inc) = self.chain.inclusion(hash).await? {
            self.displaced.remove(&w.id);
            let head = self.chain.head().await?;
            if head + 1 < inc.block + self.config.confirmations {
                return Ok(());
            }
            if inc.success {
                ps::mark_confirmed(&self.db, &w.id, inc.block, now_ms()).await?;
                tracing::info!(id = %w.id, tx = %hash, block = inc.block, "withdrawal confirmed");
            } else {
                ps::mark_failed(
                    &self.db,
                    w,
                    "the payout transaction reverted; the amount is back in your balance",
                    Some(inc.block),
                    now_ms(),
                )
                .await?;
                tracing::warn!(id = %w.id, tx = %hash, block = inc.block, "payout reverted; refunded");
            }
            return Ok(());
        }
        if self.chain.mined_nonce().await? > nonce {
            let seen = self.displaced.entry(w.id.clone()).or_default();
            *seen += 1;
            if *seen >= DISPLACED_CHECKS {
                self.displaced.remove(&w.id);
                let reason = format!(
                    "the treasury's nonce {nonce} was used by another transaction, so this payout can never be mined; the amount is back in your balance"
                );
                ps::mark_failed(&self.db, w, &reason, None, now_ms()).await?;
                tracing::error!(id = %w.id, tx = %hash, nonce, "payout displaced; refunded");
            }
            return Ok(());
        }
        self.send(w, raw).await
    }

    /// Sends recorded bytes; a `signed` row becomes `submitted`.
    async fn send(&self, w: &Stored, raw: &[u8]) -> Result<(), PassError> {
        match self.chain.broadcast(raw).await {
            Ok(()) => {
                if self.crash_after_broadcast {
                    tracing::error!(id = %w.id, "crash test: aborting after the broadcast, before recording it");
                    std::process::abort();
                }
                if w.status == "signed" {
                    ps::mark_submitted(&self.db, &w.id, now_ms()).await?;
                    tracing::info!(id = %w.id, tx = ?w.tx_hash, "payout submitted");
                }
                Ok(())
            }
            Err(ChainError::Refused(m)) => {
                // E.g. no ETH for gas: the transaction stays recorded and is sent again;
                // the owner and the operator see why.
                tracing::warn!(id = %w.id, reason = %m, "the chain refused a payout transaction; will retry");
                ps::note(
                    &self.db,
                    &w.id,
                    &format!("the chain refused the payout transaction ({m}); retrying"),
                    now_ms(),
                )
                .await?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Signs, records and sends the payout of a queued withdrawal.
    async fn pay(&mut self, w: &Stored) -> Result<(), PassError> {
        let amount = U256::from(w.amount.0);
        let held = self.chain.token_balance(self.chain.treasury()).await?;
        // Everything recorded but not yet mined still sits in the treasury.
        let committed = U256::from(ps::outstanding(&self.db, false).await?.0) + amount;
        if held < committed {
            let reason = format!(
                "treasury low: it holds {} of the {} base units owed; the amount is back in your balance",
                held, committed
            );
            ps::mark_failed(&self.db, w, &reason, None, now_ms()).await?;
            tracing::error!(id = %w.id, %held, %committed, "treasury low; withdrawal failed and refunded");
            return Ok(());
        }
        let nonce = ps::next_treasury_nonce(&self.db).await?.max(self.chain.pending_nonce().await?);
        let signed = match self.chain.sign_transfer(self.config.chain_id, w.to, amount, nonce).await {
            Ok(s) => s,
            Err(ChainError::Refused(m)) => {
                let reason =
                    format!("the token contract refuses this transfer ({m}); the amount is back in your balance");
                ps::mark_failed(&self.db, w, &reason, None, now_ms()).await?;
                tracing::error!(id = %w.id, reason = %m, "payout refused by the chain; refunded");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        if !ps::record_signed(&self.db, &w.id, nonce, signed.hash, &signed.raw, now_ms()).await? {
            return Ok(());
        }
        tracing::info!(id = %w.id, tx = %signed.hash, nonce, "payout recorded; sending");
        let recorded = Stored {
            status: "signed".into(),
            treasury_nonce: Some(nonce),
            tx_hash: Some(signed.hash),
            raw_tx: Some(signed.raw.to_vec()),
            ..w.clone()
        };
        self.send(&recorded, &signed.raw).await
    }
}

/// Why a pass stopped early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PassError {
    /// The chain is away or refuses a basic call.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}
