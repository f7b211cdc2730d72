//! The SQL of deposits (see `migrations/0005_deposits.sql`): the watcher's cursor, and
//! recording a batch of `Transfer` logs with their credits and the new cursor in one
//! transaction. A log is keyed by (tx hash, log index) and credited only by the insert
//! that created its row, so scanning the same blocks again — after a restart, an RPC
//! outage or an overlapping range — credits nothing twice.

use alloy::primitives::{Address, B256};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::deposit::{DepositRecord, DepositStatus};
use sqlx::{Row, SqliteConnection};

use crate::money;
use crate::store::{Db, addr};

/// Which cursor: one per chain, token and treasury.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CursorKey {
    pub(crate) chain_id: u64,
    pub(crate) token: Address,
    pub(crate) treasury: Address,
}

/// A transfer as the watcher judged it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) tx_hash: B256,
    pub(crate) log_index: u64,
    pub(crate) block: u64,
    pub(crate) from: Address,
    pub(crate) amount: TokenAmount,
    /// `None`: credit the sender; `Some(reason)`: record only.
    pub(crate) ignored: Option<String>,
}

fn i64_of(x: u64) -> Result<i64, sqlx::Error> {
    i64::try_from(x).map_err(|_| sqlx::Error::Protocol(format!("{x} does not fit a BIGINT")))
}

/// The next block to scan, if the watcher ever recorded one for `key`.
pub(crate) async fn cursor(db: &Db, key: CursorKey) -> Result<Option<u64>, sqlx::Error> {
    let next: Option<i64> = sqlx::query_scalar(
        "SELECT next_block FROM deposit_cursor WHERE chain_id = $1 AND token = $2 AND treasury = $3",
    )
    .bind(i64_of(key.chain_id)?)
    .bind(addr(key.token))
    .bind(addr(key.treasury))
    .fetch_optional(db)
    .await?;
    Ok(next.and_then(|n| u64::try_from(n).ok()))
}

/// Records `seen` (credits the new, attributable ones) and moves the cursor to
/// `next_block`, all in one transaction. Returns how many were credited now.
pub(crate) async fn record(
    db: &Db,
    key: CursorKey,
    seen: &[Seen],
    next_block: u64,
    now_ms: i64,
) -> Result<usize, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut credited = 0;
    for s in seen {
        let (gwei, wei) = money::split(i128::try_from(s.amount.0).unwrap_or(i128::MAX))
            .ok_or_else(|| sqlx::Error::Protocol("deposit amount out of range".into()))?;
        let status = if s.ignored.is_some() { "ignored" } else { "credited" };
        let inserted = sqlx::query(
            "INSERT INTO deposits (tx_hash, log_index, block, from_address, amount_gwei, amount_wei, status, reason, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(s.tx_hash.to_string())
        .bind(i64_of(s.log_index)?)
        .bind(i64_of(s.block)?)
        .bind(addr(s.from))
        .bind(gwei)
        .bind(wei)
        .bind(status)
        .bind(&s.ignored)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted && s.ignored.is_none() {
            credit_deposit(&mut tx, s.from, s.amount, &deposit_id(s.tx_hash, s.log_index), now_ms).await?;
            credited += 1;
        }
    }
    sqlx::query(
        "INSERT INTO deposit_cursor (chain_id, token, treasury, next_block, updated_at_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (chain_id, token, treasury) DO UPDATE SET next_block = excluded.next_block, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(i64_of(key.chain_id)?)
    .bind(addr(key.token))
    .bind(addr(key.treasury))
    .bind(i64_of(next_block)?)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(credited)
}

/// The ledger id part of one log: `<tx hash>:<log index>`.
pub(crate) fn deposit_id(tx_hash: B256, log_index: u64) -> String {
    format!("{tx_hash}:{log_index}")
}

/// Credits `amount` to `account`'s client balance for the deposit `deposit_id`, inside
/// the caller's transaction: one `deposit` row of the ledger, whose id is derived from
/// the deposit, so even a second call could not credit it twice.
pub(crate) async fn credit_deposit(
    tx: &mut SqliteConnection,
    account: Address,
    amount: TokenAmount,
    deposit_id: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let id = format!("deposit:{deposit_id}");
    crate::ledger::deposit(tx, &id, &crate::ledger::client_account(&addr(account)), amount, now_ms).await
}

fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<DepositRecord, sqlx::Error> {
    let bad = |what: &str| sqlx::Error::Protocol(format!("bad stored deposit {what}"));
    let tx_hash: String = r.try_get("tx_hash")?;
    let from: String = r.try_get("from_address")?;
    let status: String = r.try_get("status")?;
    Ok(DepositRecord {
        tx_hash: tx_hash.parse().map_err(|_| bad("hash"))?,
        log_index: u64::try_from(r.try_get::<i64, _>("log_index")?).map_err(|_| bad("log index"))?,
        block: u64::try_from(r.try_get::<i64, _>("block")?).map_err(|_| bad("block"))?,
        from: from.parse().map_err(|_| bad("sender"))?,
        amount: money::to_amount(money::join(r.try_get("amount_gwei")?, r.try_get("amount_wei")?)),
        status: if status == "credited" { DepositStatus::Credited } else { DepositStatus::Ignored },
        reason: r.try_get("reason")?,
        created_at_ms: r.try_get("created_at_ms")?,
    })
}

/// The logs of one transaction.
pub(crate) async fn by_tx(db: &Db, tx_hash: B256) -> Result<Vec<DepositRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT tx_hash, log_index, block, from_address, amount_gwei, amount_wei, status, reason, created_at_ms
         FROM deposits WHERE tx_hash = $1 ORDER BY log_index",
    )
    .bind(tx_hash.to_string())
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// A sender's latest deposits, newest first.
pub(crate) async fn by_sender(db: &Db, from: Address, limit: i64) -> Result<Vec<DepositRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT tx_hash, log_index, block, from_address, amount_gwei, amount_wei, status, reason, created_at_ms
         FROM deposits WHERE from_address = $1 ORDER BY block DESC, log_index DESC LIMIT $2",
    )
    .bind(addr(from))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}
