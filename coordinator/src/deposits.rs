//! Deposits on a real chain (DESIGN §5): a client funds its account by sending the
//! ERC-20 to the treasury from its own wallet; this module follows the token's
//! `Transfer` logs to the treasury and credits the sender's client balance once.
//!
//! The watcher reads blocks in order from a persisted cursor, only blocks with the
//! configured confirmations (a transfer in block b is read once the head is at least
//! b + confirmations − 1), at most [`MAX_RANGE`] blocks per `eth_getLogs`. Each batch —
//! its deposit rows, their ledger credits and the new cursor — is one database
//! transaction keyed by (tx hash, log index), so a crash, a restart, an RPC outage or a
//! re-scan of the same blocks credits nothing twice and misses nothing.
//!
//! What is not credited (recorded as `ignored` with the reason): transfers from the
//! zero address (mints: nobody paid), from the treasury itself (the operator moving its
//! own tokens), and of zero tokens. Tokens sent from an exchange or any shared address
//! are credited to that address — clients must deposit from the wallet they use with
//! the network. Reorganisations deeper than the confirmations are not undone.
//!
//! `GET /v1/deposit` (`clients::deposit_info`) tells a client where to send;
//! `GET /v1/deposits/{tx_hash}` and `GET /v1/accounts/{address}/deposits` show what the
//! watcher recorded.

use std::time::Duration;

use alloy::primitives::{Address, B256};
use axum::Json;
use axum::extract::{Path, State};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::auth::now_ms;
use idlewatt_protocol::deposit::DepositRecord;
use tokio::sync::watch;

use crate::chain::{Chain, ChainError, IncomingTransfer};
use crate::config::ChainConfig;
use crate::deposit_store::{self as ds, CursorKey, Seen};
use crate::error::ApiError;
use crate::payout::PassError;
use crate::server::AppState;
use crate::store::Db;

/// Most blocks one `eth_getLogs` asks for (public RPC providers cap the range).
pub const MAX_RANGE: u64 = 2000;

/// Deposits listed per sender.
const LIST_LIMIT: i64 = 100;

/// The deposit watcher's state between passes.
pub(crate) struct Watcher {
    db: Db,
    chain: Chain,
    config: ChainConfig,
    /// The endpoint serves the configured chain (checked once per run).
    chain_checked: bool,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").field("treasury", &self.chain.treasury()).finish_non_exhaustive()
    }
}

/// Where a pass left the watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// Every confirmed block is read: wait for new ones.
    CaughtUp,
    /// More confirmed blocks are waiting: go on at once.
    Behind,
}

impl Watcher {
    pub(crate) fn new(db: Db, chain: Chain, config: ChainConfig) -> Self {
        Self { db, chain, config, chain_checked: false }
    }

    fn key(&self) -> CursorKey {
        CursorKey { chain_id: self.config.chain_id, token: self.config.token, treasury: self.chain.treasury() }
    }

    /// Runs passes until `stopped`: every poll interval when caught up, at once while
    /// behind, with doubling backoff while the chain is away.
    pub(crate) async fn run(mut self, mut stopped: watch::Receiver<bool>) {
        let poll = self.config.poll_interval;
        let mut backoff = poll;
        loop {
            let delay = match self.pass().await {
                Ok(Progress::CaughtUp) => {
                    backoff = poll;
                    poll
                }
                Ok(Progress::Behind) => {
                    backoff = poll;
                    Duration::ZERO
                }
                Err(PassError::Chain(e)) => {
                    let wait = backoff;
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    tracing::warn!(error = %e, retry_in = ?wait, "deposit watcher waiting for the chain");
                    wait
                }
                Err(PassError::Db(e)) => {
                    tracing::error!(error = %e, "deposit pass failed (database)");
                    self.config.max_backoff.min(Duration::from_secs(5))
                }
            };
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
        }
    }

    /// Reads the next range of confirmed blocks and records what it finds.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn pass(&mut self) -> Result<Progress, PassError> {
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
        let head = self.chain.head().await?;
        // The newest block with enough confirmations (its own included).
        let Some(safe) = (head + 1).checked_sub(self.config.confirmations) else { return Ok(Progress::CaughtUp) };
        let key = self.key();
        let from = ds::cursor(&self.db, key).await?.unwrap_or(self.config.deposits_from_block);
        if from > safe {
            return Ok(Progress::CaughtUp);
        }
        let to = safe.min(from.saturating_add(MAX_RANGE - 1));
        let transfers = self.chain.transfers_to_treasury(from, to).await?;
        let seen: Vec<Seen> = transfers.iter().map(|t| judge(t, key.treasury)).collect();
        let credited = ds::record(&self.db, key, &seen, to + 1, now_ms()).await?;
        for s in &seen {
            match &s.ignored {
                None => {
                    tracing::info!(tx = %s.tx_hash, log = s.log_index, from = %s.from, amount = %s.amount.to_token_string(), "deposit seen")
                }
                Some(reason) => {
                    tracing::info!(tx = %s.tx_hash, log = s.log_index, from = %s.from, %reason, "transfer to the treasury ignored")
                }
            }
        }
        if credited > 0 {
            tracing::info!(credited, from, to, "deposits credited");
        }
        Ok(if to == safe { Progress::CaughtUp } else { Progress::Behind })
    }
}

/// Whether a transfer to the treasury can be credited to a client, and to whom.
fn judge(t: &IncomingTransfer, treasury: Address) -> Seen {
    // The ledger stores amounts as two BIGINT limbs: anything beyond them is recorded as 0.
    let storable = u128::try_from(t.value)
        .ok()
        .filter(|v| i128::try_from(*v).ok().and_then(crate::money::split).is_some())
        .map(TokenAmount);
    let ignored = if t.from == Address::ZERO {
        Some("minted to the treasury (from the zero address): nobody paid it".to_owned())
    } else if t.from == treasury {
        Some("sent by the treasury itself".to_owned())
    } else if t.value.is_zero() {
        Some("a transfer of zero tokens".to_owned())
    } else if storable.is_none() {
        Some("more tokens than the ledger can hold".to_owned())
    } else {
        None
    };
    Seen {
        tx_hash: t.tx_hash,
        log_index: t.log_index,
        block: t.block,
        from: t.from,
        amount: storable.unwrap_or_default(),
        ignored,
    }
}

/// `GET /v1/accounts/{address}/deposits`: a sender's deposits, newest first.
pub(crate) async fn by_sender(
    State(st): State<AppState>,
    Path(address): Path<String>,
) -> Result<Json<Vec<DepositRecord>>, ApiError> {
    let from: Address =
        address.trim().parse().map_err(|_| ApiError::bad_request("not an address (0x followed by 40 hex digits)"))?;
    Ok(Json(ds::by_sender(&st.db, from, LIST_LIMIT).await?))
}

/// `GET /v1/deposits/{tx_hash}`: the deposits of one transaction (empty until the
/// transfer has its confirmations and the watcher has read its block).
pub(crate) async fn by_tx(
    State(st): State<AppState>,
    Path(tx_hash): Path<String>,
) -> Result<Json<Vec<DepositRecord>>, ApiError> {
    let hash: B256 = tx_hash
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request("a transaction hash is 0x followed by 64 hex digits"))?;
    Ok(Json(ds::by_tx(&st.db, hash).await?))
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;

    use super::*;

    fn transfer(from: Address, value: u64) -> IncomingTransfer {
        IncomingTransfer { tx_hash: B256::repeat_byte(1), log_index: 0, block: 5, from, value: U256::from(value) }
    }

    #[test]
    fn only_attributable_transfers_are_credited() {
        let treasury = Address::repeat_byte(0xee);
        let client = Address::repeat_byte(0x11);
        let ok = judge(&transfer(client, 7), treasury);
        assert_eq!((ok.ignored, ok.amount, ok.from), (None, TokenAmount(7), client));
        assert!(judge(&transfer(Address::ZERO, 7), treasury).ignored.is_some_and(|r| r.contains("minted")));
        assert!(judge(&transfer(treasury, 7), treasury).ignored.is_some_and(|r| r.contains("treasury")));
        assert!(judge(&transfer(client, 0), treasury).ignored.is_some_and(|r| r.contains("zero")));
        let huge = IncomingTransfer { value: U256::MAX, ..transfer(client, 0) };
        let j = judge(&huge, treasury);
        assert!(j.ignored.is_some_and(|r| r.contains("ledger")) && j.amount == TokenAmount::ZERO);
    }
}
