//! The SQL of withdrawals (see `migrations/0002_withdrawals.sql`): creating one with its
//! ledger debit in one transaction (idempotent by the owner's nonce, never overdrawn),
//! recording its payout transaction before it is sent, and finishing it (confirmed, or
//! failed with the amount credited back, at most once by the refund's ledger id).

use alloy::primitives::{Address, B256};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::withdrawal::{WithdrawalInfo, WithdrawalStatus};
use sqlx::Row;

use crate::money;
use crate::store::{Db, addr};

/// A withdrawal as stored.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) id: String,
    pub(crate) account: Address,
    pub(crate) nonce: u64,
    pub(crate) to: Address,
    pub(crate) amount: TokenAmount,
    pub(crate) chain_id: u64,
    pub(crate) devnet: bool,
    /// queued | signed | submitted | confirmed | failed
    pub(crate) status: String,
    pub(crate) treasury_nonce: Option<u64>,
    pub(crate) tx_hash: Option<B256>,
    pub(crate) raw_tx: Option<Vec<u8>>,
    pub(crate) block: Option<u64>,
    pub(crate) reason: Option<String>,
    pub(crate) created_at_ms: i64,
}

impl Stored {
    /// The wire form: `signed` shows as `queued` (recorded, maybe not yet sent).
    pub(crate) fn info(&self) -> WithdrawalInfo {
        let status = match self.status.as_str() {
            "submitted" => WithdrawalStatus::Submitted,
            "confirmed" => WithdrawalStatus::Confirmed,
            "failed" => WithdrawalStatus::Failed,
            _ => WithdrawalStatus::Queued,
        };
        WithdrawalInfo {
            id: self.id.clone(),
            account: self.account,
            to: self.to,
            amount: self.amount,
            nonce: self.nonce,
            status,
            tx_hash: self.tx_hash,
            block: self.block,
            reason: self.reason.clone(),
            devnet: self.devnet,
            created_at_ms: self.created_at_ms,
        }
    }
}

const COLUMNS: &str = "id, account, nonce, to_address, amount_gwei, amount_wei, chain_id, devnet, status, \
                       treasury_nonce, tx_hash, raw_tx, block, reason, created_at_ms";

fn decode_err(e: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<Stored, sqlx::Error> {
    let parse_addr =
        |c: &str| -> Result<Address, sqlx::Error> { r.try_get::<String, _>(c)?.parse().map_err(decode_err) };
    let u = |v: i64| u64::try_from(v).map_err(decode_err);
    let opt_u = |c: &str| -> Result<Option<u64>, sqlx::Error> { r.try_get::<Option<i64>, _>(c)?.map(u).transpose() };
    Ok(Stored {
        id: r.try_get("id")?,
        account: parse_addr("account")?,
        nonce: u(r.try_get("nonce")?)?,
        to: parse_addr("to_address")?,
        amount: money::to_amount(money::join(r.try_get("amount_gwei")?, r.try_get("amount_wei")?)),
        chain_id: u(r.try_get("chain_id")?)?,
        devnet: r.try_get::<i64, _>("devnet")? != 0,
        status: r.try_get("status")?,
        treasury_nonce: opt_u("treasury_nonce")?,
        tx_hash: r.try_get::<Option<String>, _>("tx_hash")?.map(|h| h.parse()).transpose().map_err(decode_err)?,
        raw_tx: r.try_get::<Option<String>, _>("raw_tx")?.map(alloy::hex::decode).transpose().map_err(decode_err)?,
        block: opt_u("block")?,
        reason: r.try_get("reason")?,
        created_at_ms: r.try_get("created_at_ms")?,
    })
}

/// A withdrawal to create.
#[derive(Debug, Clone)]
pub(crate) struct NewWithdrawal {
    pub(crate) id: String,
    pub(crate) account: Address,
    pub(crate) nonce: u64,
    pub(crate) to: Address,
    pub(crate) amount: TokenAmount,
    pub(crate) chain_id: u64,
    pub(crate) signature: String,
    pub(crate) devnet: bool,
}

/// What creating a withdrawal did.
#[derive(Debug)]
pub(crate) enum Created {
    /// New: debited and queued (or, on a devnet, settled).
    New(Stored),
    /// The same request was made before (same account and nonce): nothing new happened.
    Existing(Stored),
    /// The nonce was used for a different withdrawal.
    NonceReused(Stored),
    /// The balance does not cover it; nothing was written.
    Insufficient(TokenAmount),
}

async fn balance_in(conn: &mut sqlx::SqliteConnection, account: &str) -> Result<i128, sqlx::Error> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(amount_wei), 0) AS BIGINT) AS w
         FROM ledger WHERE account = $1",
    )
    .bind(account)
    .fetch_one(&mut *conn)
    .await?;
    Ok(money::join(r.try_get("g")?, r.try_get("w")?))
}

/// Creates a withdrawal and debits the account in one transaction. The pool has one
/// connection, so concurrent requests run one after the other and the balance read
/// here is the balance the debit applies to: no overdraft.
pub(crate) async fn create(db: &Db, w: &NewWithdrawal, now_ms: i64) -> Result<Created, sqlx::Error> {
    let account = addr(w.account);
    let amount = i128::try_from(w.amount.0).map_err(decode_err)?;
    let (gwei, wei) = money::split(amount).ok_or_else(|| sqlx::Error::Protocol("amount out of range".into()))?;
    let (neg_gwei, neg_wei) = (-gwei, -wei);
    let nonce = i64::try_from(w.nonce).map_err(decode_err)?;
    let mut tx = db.begin().await?;
    let existing = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM withdrawals WHERE account = $1 AND nonce = $2"
    )))
    .bind(&account)
    .bind(nonce)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(r) = existing {
        let s = from_row(&r)?;
        let same = s.to == w.to && s.amount == w.amount && s.chain_id == w.chain_id;
        return Ok(if same { Created::Existing(s) } else { Created::NonceReused(s) });
    }
    let balance = balance_in(&mut tx, &account).await?;
    if balance < amount {
        return Ok(Created::Insufficient(money::to_amount(balance)));
    }
    let status = if w.devnet { "confirmed" } else { "queued" };
    sqlx::query(
        "INSERT INTO withdrawals (id, account, nonce, to_address, amount_gwei, amount_wei, chain_id, signature, devnet,
                                  status, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(&w.id)
    .bind(&account)
    .bind(nonce)
    .bind(addr(w.to))
    .bind(gwei)
    .bind(wei)
    .bind(i64::try_from(w.chain_id).map_err(decode_err)?)
    .bind(&w.signature)
    .bind(i64::from(w.devnet))
    .bind(status)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO ledger (id, account, kind, amount_gwei, amount_wei, created_at_ms) VALUES ($1, $2, 'withdrawal', $3, $4, $5)",
    )
    .bind(format!("withdrawal:{}", w.id))
    .bind(&account)
    .bind(neg_gwei)
    .bind(neg_wei)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM withdrawals WHERE id = $1")))
        .bind(&w.id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Created::New(from_row(&row)?))
}

/// One withdrawal by id.
pub(crate) async fn get(db: &Db, id: &str) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM withdrawals WHERE id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// An account's withdrawals, newest first.
pub(crate) async fn list(db: &Db, account: Address, limit: i64) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM withdrawals WHERE account = $1 ORDER BY created_at_ms DESC, id DESC LIMIT $2"
    )))
    .bind(addr(account))
    .bind(limit)
    .fetch_all(db)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Withdrawals in `status` (one of the stored names), oldest first; transactions in
/// treasury-nonce order.
pub(crate) async fn in_status(db: &Db, status: &str) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM withdrawals WHERE status = $1 AND devnet = 0
         ORDER BY treasury_nonce, created_at_ms, id"
    )))
    .bind(status)
    .fetch_all(db)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// The next treasury nonce by our own records (0 if none).
pub(crate) async fn next_treasury_nonce(db: &Db) -> Result<u64, sqlx::Error> {
    let max: Option<i64> = sqlx::query_scalar("SELECT MAX(treasury_nonce) FROM withdrawals").fetch_one(db).await?;
    Ok(max.map_or(0, |m| u64::try_from(m).unwrap_or(0) + 1))
}

/// Amounts owed by the treasury and still in it: payouts recorded but not yet mined,
/// and with `include_queued` also those not yet signed.
pub(crate) async fn outstanding(db: &Db, include_queued: bool) -> Result<TokenAmount, sqlx::Error> {
    let statuses = if include_queued { "('queued', 'signed', 'submitted')" } else { "('signed', 'submitted')" };
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(COALESCE(SUM(amount_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(amount_wei), 0) AS BIGINT) AS w
         FROM withdrawals WHERE devnet = 0 AND status IN {statuses}"
    )))
    .fetch_one(db)
    .await?;
    Ok(money::to_amount(money::join(r.try_get("g")?, r.try_get("w")?)))
}

/// Records the payout transaction of a queued withdrawal, before it is sent.
pub(crate) async fn record_signed(
    db: &Db,
    id: &str,
    treasury_nonce: u64,
    hash: B256,
    raw: &[u8],
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE withdrawals SET status = 'signed', treasury_nonce = $1, tx_hash = $2, raw_tx = $3, reason = NULL,
                updated_at_ms = $4
         WHERE id = $5 AND status = 'queued'",
    )
    .bind(i64::try_from(treasury_nonce).map_err(decode_err)?)
    .bind(hash.to_string())
    .bind(alloy::hex::encode_prefixed(raw))
    .bind(now_ms)
    .bind(id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A recorded transaction was accepted by the chain's node.
pub(crate) async fn mark_submitted(db: &Db, id: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE withdrawals SET status = 'submitted', reason = NULL, updated_at_ms = $1 WHERE id = $2 AND status = 'signed'",
    )
    .bind(now_ms)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// The payout is in block `block`: final.
pub(crate) async fn mark_confirmed(db: &Db, id: &str, block: u64, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE withdrawals SET status = 'confirmed', block = $1, reason = NULL, updated_at_ms = $2
         WHERE id = $3 AND status IN ('signed', 'submitted')",
    )
    .bind(i64::try_from(block).map_err(decode_err)?)
    .bind(now_ms)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Not paid: final, with `reason`, and the amount credited back (once: the refund's
/// ledger id is unique).
pub(crate) async fn mark_failed(
    db: &Db,
    w: &Stored,
    reason: &str,
    block: Option<u64>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let amount = i128::try_from(w.amount.0).map_err(decode_err)?;
    let (gwei, wei) = money::split(amount).ok_or_else(|| sqlx::Error::Protocol("amount out of range".into()))?;
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE withdrawals SET status = 'failed', reason = $1, block = $2, updated_at_ms = $3
         WHERE id = $4 AND status IN ('queued', 'signed', 'submitted')",
    )
    .bind(reason)
    .bind(block.map(i64::try_from).transpose().map_err(decode_err)?)
    .bind(now_ms)
    .bind(&w.id)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() == 1 {
        sqlx::query(
            "INSERT INTO ledger (id, account, kind, amount_gwei, amount_wei, created_at_ms) VALUES ($1, $2, 'refund', $3, $4, $5)",
        )
        .bind(format!("refund:{}", w.id))
        .bind(addr(w.account))
        .bind(gwei)
        .bind(wei)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// A note on a waiting withdrawal (e.g. why the chain is not being reached).
pub(crate) async fn note(db: &Db, id: &str, reason: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE withdrawals SET reason = $1, updated_at_ms = $2 WHERE id = $3 AND status IN ('queued', 'signed', 'submitted')",
    )
    .bind(reason)
    .bind(now_ms)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}
