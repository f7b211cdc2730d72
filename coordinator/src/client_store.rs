//! The SQL of the demand side: clients, API keys (hashes only), the faucet, client
//! jobs with their escrow, and how a job ends (done, cancelled, expired, failed) with
//! its unspent escrow refunded. Every movement of money happens inside one transaction
//! together with the state change it pays for; the single pooled connection makes
//! every check-then-debit atomic (one writer), so concurrent submissions cannot
//! overspend a balance or a key's limit.

use alloy::primitives::Address;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::client::{
    ClientAccount, ClientJob, ClientJobKind, ClientJobStatus, KeyInfo, MatmulShape, Progress, Shortfall,
    ShortfallReason,
};
use sqlx::{Row, SqliteConnection};

use crate::ledger::{self, client_account, escrow_account};
use crate::money;
use crate::store::{Db, addr};

fn limbs(amount: TokenAmount) -> Result<(i64, i64), sqlx::Error> {
    i128::try_from(amount.0)
        .ok()
        .and_then(money::split)
        .ok_or_else(|| sqlx::Error::Protocol("amount out of range".into()))
}

fn amount_of(r: &sqlx::sqlite::SqliteRow, g: &str, w: &str) -> Result<TokenAmount, sqlx::Error> {
    Ok(money::to_amount(money::join(r.try_get(g)?, r.try_get(w)?)))
}

fn parse_address(s: &str) -> Result<Address, sqlx::Error> {
    s.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Registers a client on first use.
pub(crate) async fn ensure_client(conn: &mut SqliteConnection, who: Address, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO clients (address, created_at_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(addr(who))
        .bind(now_ms)
        .execute(conn)
        .await?;
    Ok(())
}

/// A stored key, as authentication needs it.
#[derive(Debug, Clone)]
pub(crate) struct StoredKey {
    pub(crate) id: String,
    pub(crate) client: Address,
    pub(crate) revoked_at_ms: Option<i64>,
    pub(crate) expires_at_ms: Option<i64>,
}

/// The key whose SHA-256 is `hash`.
pub(crate) async fn key_by_hash(db: &Db, hash: &str) -> Result<Option<StoredKey>, sqlx::Error> {
    let row = sqlx::query("SELECT id, client, revoked_at_ms, expires_at_ms FROM api_keys WHERE key_sha256 = $1")
        .bind(hash)
        .fetch_optional(db)
        .await?;
    row.map(|r| {
        Ok(StoredKey {
            id: r.try_get("id")?,
            client: parse_address(&r.try_get::<String, _>("client")?)?,
            revoked_at_ms: r.try_get("revoked_at_ms")?,
            expires_at_ms: r.try_get("expires_at_ms")?,
        })
    })
    .transpose()
}

/// Records a key's use.
pub(crate) async fn touch_key(db: &Db, id: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_keys SET last_used_at_ms = $1 WHERE id = $2").bind(now_ms).bind(id).execute(db).await?;
    Ok(())
}

/// A new key's stored fields.
#[derive(Debug, Clone)]
pub(crate) struct NewKey {
    pub(crate) id: String,
    pub(crate) hash: String,
    pub(crate) prefix: String,
    pub(crate) label: String,
    pub(crate) spending_limit: Option<TokenAmount>,
    pub(crate) expires_at_ms: Option<i64>,
}

/// Stores a new key of `client`.
pub(crate) async fn create_key(db: &Db, client: Address, key: &NewKey, now_ms: i64) -> Result<KeyInfo, sqlx::Error> {
    let mut tx = db.begin().await?;
    ensure_client(&mut tx, client, now_ms).await?;
    let (lg, lw) = match key.spending_limit {
        Some(l) => {
            let (g, w) = limbs(l)?;
            (Some(g), Some(w))
        }
        None => (None, None),
    };
    sqlx::query(
        "INSERT INTO api_keys (id, client, key_sha256, prefix, label, limit_gwei, limit_wei, expires_at_ms, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.id)
    .bind(addr(client))
    .bind(&key.hash)
    .bind(&key.prefix)
    .bind(&key.label)
    .bind(lg)
    .bind(lw)
    .bind(key.expires_at_ms)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(KeyInfo {
        id: key.id.clone(),
        label: key.label.clone(),
        prefix: key.prefix.clone(),
        spending_limit: key.spending_limit,
        spent: TokenAmount::ZERO,
        expires_at_ms: key.expires_at_ms,
        created_at_ms: now_ms,
        last_used_at_ms: None,
        revoked_at_ms: None,
    })
}

/// What a key has committed to jobs: Σ (price − refunded) of the jobs submitted with it.
pub(crate) async fn key_spent(conn: &mut SqliteConnection, key_id: &str) -> Result<i128, sqlx::Error> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(price_gwei - refunded_gwei), 0) AS BIGINT) AS g,
                CAST(COALESCE(SUM(price_wei - refunded_wei), 0) AS BIGINT) AS w
         FROM client_jobs WHERE api_key_id = $1",
    )
    .bind(key_id)
    .fetch_one(conn)
    .await?;
    Ok(money::join(r.try_get("g")?, r.try_get("w")?))
}

fn key_limit(r: &sqlx::sqlite::SqliteRow) -> Result<Option<TokenAmount>, sqlx::Error> {
    let g: Option<i64> = r.try_get("limit_gwei")?;
    let w: Option<i64> = r.try_get("limit_wei")?;
    Ok(g.zip(w).map(|(g, w)| money::to_amount(money::join(g, w))))
}

async fn key_info(conn: &mut SqliteConnection, r: &sqlx::sqlite::SqliteRow) -> Result<KeyInfo, sqlx::Error> {
    let id: String = r.try_get("id")?;
    let spent = money::to_amount(key_spent(conn, &id).await?);
    Ok(KeyInfo {
        id,
        label: r.try_get("label")?,
        prefix: r.try_get("prefix")?,
        spending_limit: key_limit(r)?,
        spent,
        expires_at_ms: r.try_get("expires_at_ms")?,
        created_at_ms: r.try_get("created_at_ms")?,
        last_used_at_ms: r.try_get("last_used_at_ms")?,
        revoked_at_ms: r.try_get("revoked_at_ms")?,
    })
}

const KEY_COLUMNS: &str =
    "id, label, prefix, limit_gwei, limit_wei, expires_at_ms, created_at_ms, last_used_at_ms, revoked_at_ms";

/// The keys of `client`, newest first.
pub(crate) async fn list_keys(db: &Db, client: Address) -> Result<Vec<KeyInfo>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE client = $1 ORDER BY created_at_ms DESC, id LIMIT 1000"
    )))
    .bind(addr(client))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(key_info(&mut conn, r).await?);
    }
    Ok(out)
}

/// Revokes `client`'s key `id` (idempotent); `None` if it has no such key.
pub(crate) async fn revoke_key(
    db: &Db,
    client: Address,
    id: &str,
    now_ms: i64,
) -> Result<Option<KeyInfo>, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE api_keys SET revoked_at_ms = $1 WHERE id = $2 AND client = $3 AND revoked_at_ms IS NULL")
        .bind(now_ms)
        .bind(id)
        .bind(addr(client))
        .execute(&mut *tx)
        .await?;
    let row =
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 AND client = $2")))
            .bind(id)
            .bind(addr(client))
            .fetch_optional(&mut *tx)
            .await?;
    let info = match row {
        Some(r) => Some(key_info(&mut tx, &r).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(info)
}

/// What a faucet request did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grant {
    pub(crate) credited: TokenAmount,
    pub(crate) balance: TokenAmount,
    pub(crate) remaining: TokenAmount,
}

/// Credits up to `want` from the faucet to `who`, at most `cap` per address in all.
pub(crate) async fn faucet(
    db: &Db,
    who: Address,
    grant_id: &str,
    want: TokenAmount,
    cap: TokenAmount,
    now_ms: i64,
) -> Result<Grant, sqlx::Error> {
    let account = client_account(&addr(who));
    let mut tx = db.begin().await?;
    ensure_client(&mut tx, who, now_ms).await?;
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(amount_wei), 0) AS BIGINT) AS w
         FROM ledger WHERE account = $1 AND kind = 'deposit' AND id LIKE 'faucet:%'",
    )
    .bind(&account)
    .fetch_one(&mut *tx)
    .await?;
    let granted = money::to_amount(money::join(r.try_get("g")?, r.try_get("w")?));
    let left = TokenAmount(cap.0.saturating_sub(granted.0));
    let credited = TokenAmount(want.0.min(left.0));
    if credited > TokenAmount::ZERO {
        ledger::deposit(&mut tx, &format!("faucet:{grant_id}"), &account, credited, now_ms).await?;
    }
    let balance = money::to_amount(ledger::balance(&mut tx, &account).await?);
    tx.commit().await?;
    Ok(Grant { credited, balance, remaining: TokenAmount(left.0 - credited.0) })
}

/// A client's balances.
pub(crate) async fn account(db: &Db, who: Address) -> Result<ClientAccount, sqlx::Error> {
    let a = addr(who);
    let mut conn = db.acquire().await?;
    let balance = ledger::balance(&mut conn, &client_account(&a)).await?;
    let deposited = ledger::sum_kinds(&mut conn, &client_account(&a), &["deposit"]).await?;
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(l.amount_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(l.amount_wei), 0) AS BIGINT) AS w
         FROM ledger l JOIN client_jobs cj ON l.account = 'escrow:' || cj.id WHERE cj.client = $1",
    )
    .bind(&a)
    .fetch_one(&mut *conn)
    .await?;
    let escrow = money::join(r.try_get("g")?, r.try_get("w")?);
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(l.amount_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(l.amount_wei), 0) AS BIGINT) AS w
         FROM ledger l JOIN client_jobs cj ON l.account = 'escrow:' || cj.id
         WHERE cj.client = $1 AND l.kind IN ('earning', 'fee')",
    )
    .bind(&a)
    .fetch_one(&mut *conn)
    .await?;
    let spent = -money::join(r.try_get("g")?, r.try_get("w")?);
    let active: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM client_jobs WHERE client = $1 AND status IN ('queued', 'running')")
            .bind(&a)
            .fetch_one(&mut *conn)
            .await?;
    Ok(ClientAccount {
        address: who,
        balance: money::to_amount(balance),
        escrow: money::to_amount(escrow),
        deposited: money::to_amount(deposited),
        spent: money::to_amount(spent),
        active_jobs: u64::try_from(active).unwrap_or(0),
    })
}

/// What a new client job is, once validated.
#[derive(Debug, Clone)]
pub(crate) struct NewClientJob {
    pub(crate) id: String,
    pub(crate) kind: ClientJobKind,
    pub(crate) matmul: Option<(String, String, MatmulShape)>,
    pub(crate) model: Option<String>,
    pub(crate) input_json: Option<String>,
    pub(crate) total_units: u64,
    pub(crate) price: TokenAmount,
    pub(crate) max_price: TokenAmount,
    pub(crate) expires_at_ms: i64,
}

/// Accepts a job: checks the balance and the key's limit and holds the price in
/// escrow, all in one transaction. `Ok(Err(shortfall))` when money is short (nothing
/// was written).
pub(crate) async fn create_job(
    db: &Db,
    client: Address,
    key_id: Option<&str>,
    job: &NewClientJob,
    now_ms: i64,
) -> Result<Result<ClientJob, Shortfall>, sqlx::Error> {
    let a = addr(client);
    let price = job.price;
    let mut tx = db.begin().await?;
    ensure_client(&mut tx, client, now_ms).await?;
    let balance = money::to_amount(ledger::balance(&mut tx, &client_account(&a)).await?);
    if balance < price {
        return Ok(Err(Shortfall {
            reason: ShortfallReason::Balance,
            price,
            available: balance,
            needed: TokenAmount(price.0 - balance.0),
        }));
    }
    if let Some(key_id) = key_id {
        let limit = sqlx::query("SELECT limit_gwei, limit_wei FROM api_keys WHERE id = $1")
            .bind(key_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| key_limit(&r))
            .transpose()?
            .flatten();
        if let Some(limit) = limit {
            let spent = money::to_amount(key_spent(&mut tx, key_id).await?);
            let left = TokenAmount(limit.0.saturating_sub(spent.0));
            if left < price {
                return Ok(Err(Shortfall {
                    reason: ShortfallReason::SpendingLimit,
                    price,
                    available: left,
                    needed: TokenAmount(price.0 - left.0),
                }));
            }
        }
    }
    if let Some((a_sha, b_sha, _)) = &job.matmul {
        // The blobs were checked before; one could have been collected since.
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM blobs WHERE sha256 IN ($1, $2)")
            .bind(a_sha)
            .bind(b_sha)
            .fetch_one(&mut *tx)
            .await?;
        if n < if a_sha == b_sha { 1 } else { 2 } {
            return Err(sqlx::Error::RowNotFound);
        }
    }
    let (pg, pw) = limbs(price)?;
    let (mg, mw) = limbs(job.max_price)?;
    let (a_sha, b_sha, shape) = match &job.matmul {
        Some((a_sha, b_sha, s)) => (Some(a_sha.as_str()), Some(b_sha.as_str()), Some(*s)),
        None => (None, None, None),
    };
    sqlx::query(
        "INSERT INTO client_jobs (id, client, api_key_id, kind, a_sha256, b_sha256, m, n, k, precision, model, input_json,
                                  total_units, next_unit, price_gwei, price_wei, max_price_gwei, max_price_wei,
                                  status, created_at_ms, expires_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $16, $17, 'queued', $18, $19)",
    )
    .bind(&job.id)
    .bind(&a)
    .bind(key_id)
    .bind(kind_str(job.kind))
    .bind(a_sha)
    .bind(b_sha)
    .bind(shape.map_or(0, |s| i64::from(s.m)))
    .bind(shape.map_or(0, |s| i64::from(s.n)))
    .bind(shape.map_or(0, |s| i64::from(s.k)))
    .bind(shape.map_or("f32", |s| s.precision.as_str()))
    .bind(&job.model)
    .bind(&job.input_json)
    .bind(i64::try_from(job.total_units).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
    .bind(pg)
    .bind(pw)
    .bind(mg)
    .bind(mw)
    .bind(now_ms)
    .bind(job.expires_at_ms)
    .execute(&mut *tx)
    .await?;
    ledger::transfer(
        &mut tx,
        &format!("hold:{}", job.id),
        "escrow_hold",
        &client_account(&a),
        &escrow_account(&job.id),
        price,
        None,
        now_ms,
    )
    .await?;
    let view = job_view(&mut tx, &job.id).await?.ok_or_else(|| sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(Ok(view.1))
}

fn kind_str(kind: ClientJobKind) -> &'static str {
    match kind {
        ClientJobKind::Matmul => "matmul",
        ClientJobKind::Embeddings => "embeddings",
    }
}

pub(crate) fn status_of(s: &str) -> ClientJobStatus {
    match s {
        "running" => ClientJobStatus::Running,
        "done" => ClientJobStatus::Done,
        "cancelled" => ClientJobStatus::Cancelled,
        "expired" => ClientJobStatus::Expired,
        "failed" => ClientJobStatus::Failed,
        _ => ClientJobStatus::Queued,
    }
}

const JOB_COLUMNS: &str = "id, client, kind, m, n, k, precision, model, total_units, price_gwei, price_wei,
     max_price_gwei, max_price_wei, refunded_gwei, refunded_wei, status, reason, created_at_ms, expires_at_ms, finished_at_ms";

/// A job and its owner, as `GET /v1/jobs/{id}` shows it.
pub(crate) async fn job_view(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<(Address, ClientJob)>, sqlx::Error> {
    let Some(r) = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLUMNS} FROM client_jobs WHERE id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let owner = parse_address(&r.try_get::<String, _>("client")?)?;
    let done: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(m), 0) AS BIGINT) FROM jobs WHERE client_job_id = $1 AND status = 'done'",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let escrow = escrow_account(id);
    let cost = -ledger::sum_kinds(conn, &escrow, &["earning", "fee"]).await?;
    let kind =
        if r.try_get::<String, _>("kind")? == "embeddings" { ClientJobKind::Embeddings } else { ClientJobKind::Matmul };
    let dim = |c: &str| -> Result<u32, sqlx::Error> {
        u32::try_from(r.try_get::<i64, _>(c)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    let status = status_of(&r.try_get::<String, _>("status")?);
    let matmul = match kind {
        ClientJobKind::Matmul => Some(MatmulShape {
            m: dim("m")?,
            n: dim("n")?,
            k: dim("k")?,
            precision: r.try_get::<String, _>("precision")?.parse().unwrap_or_default(),
        }),
        ClientJobKind::Embeddings => None,
    };
    Ok(Some((
        owner,
        ClientJob {
            id: id.to_owned(),
            kind,
            status,
            matmul,
            model: r.try_get("model")?,
            progress: Progress {
                done: u64::try_from(done).unwrap_or(0),
                total: u64::try_from(r.try_get::<i64, _>("total_units")?).unwrap_or(0),
            },
            price: amount_of(&r, "price_gwei", "price_wei")?,
            max_price: amount_of(&r, "max_price_gwei", "max_price_wei")?,
            cost_so_far: money::to_amount(cost),
            refunded: amount_of(&r, "refunded_gwei", "refunded_wei")?,
            created_at_ms: r.try_get("created_at_ms")?,
            expires_at_ms: r.try_get("expires_at_ms")?,
            finished_at_ms: r.try_get("finished_at_ms")?,
            result_url: (status == ClientJobStatus::Done).then(|| format!("/v1/jobs/{id}/result")),
            reason: r.try_get("reason")?,
        },
    )))
}

/// A job and its owner.
pub(crate) async fn job(db: &Db, id: &str) -> Result<Option<(Address, ClientJob)>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    job_view(&mut conn, id).await
}

/// The client's jobs, newest first (at most 100).
pub(crate) async fn list_jobs(db: &Db, client: Address) -> Result<Vec<ClientJob>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM client_jobs WHERE client = $1 ORDER BY created_at_ms DESC, id LIMIT 100")
            .bind(addr(client))
            .fetch_all(&mut *conn)
            .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some((_, j)) = job_view(&mut conn, &id).await? {
            out.push(j);
        }
    }
    Ok(out)
}

/// Ends an unfinished job as `status` ('cancelled', 'expired' or 'failed'): its
/// unleased and leased parts are cancelled (their leases too: a late result is
/// refused) and what is left in its escrow goes back to the client, in the caller's
/// transaction. `false` if the job was already finished.
pub(crate) async fn finish_job(
    conn: &mut SqliteConnection,
    id: &str,
    status: &str,
    reason: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE client_jobs SET status = $1, reason = $2, finished_at_ms = $3
         WHERE id = $4 AND status IN ('queued', 'running')",
    )
    .bind(status)
    .bind(reason)
    .bind(now_ms)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE leases SET status = 'cancelled', reason = $1, finished_at_ms = $2
         WHERE status = 'open' AND job_id IN (SELECT id FROM jobs WHERE client_job_id = $3)",
    )
    .bind(format!("job {status}: {reason}"))
    .bind(now_ms)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE jobs SET status = 'cancelled' WHERE client_job_id = $1 AND status IN ('open', 'leased')")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let client: String =
        sqlx::query_scalar("SELECT client FROM client_jobs WHERE id = $1").bind(id).fetch_one(&mut *conn).await?;
    let left = money::to_amount(ledger::balance(conn, &escrow_account(id)).await?);
    ledger::transfer(
        conn,
        &format!("job_refund:{id}"),
        "job_refund",
        &escrow_account(id),
        &client_account(&client),
        left,
        None,
        now_ms,
    )
    .await?;
    let (g, w) = limbs(left)?;
    sqlx::query("UPDATE client_jobs SET refunded_gwei = $1, refunded_wei = $2 WHERE id = $3")
        .bind(g)
        .bind(w)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    tracing::info!(job = id, status, reason, refunded = %left, "client job ended");
    Ok(true)
}

/// Cancels `id` on behalf of `client`: `None` if it is not theirs, `Some(false)` if it
/// had already finished.
pub(crate) async fn cancel(db: &Db, client: Address, id: &str, now_ms: i64) -> Result<Option<bool>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let owner: Option<String> =
        sqlx::query_scalar("SELECT client FROM client_jobs WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
    if owner.as_deref() != Some(addr(client).as_str()) {
        return Ok(None);
    }
    let done = finish_job(&mut tx, id, "cancelled", "cancelled by the client", now_ms).await?;
    tx.commit().await?;
    Ok(Some(done))
}

/// Expires (and refunds) every unfinished job past its expiry; returns how many.
pub(crate) async fn expire_jobs(db: &Db, now_ms: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM client_jobs WHERE status IN ('queued', 'running') AND expires_at_ms < $1 LIMIT 100",
    )
    .bind(now_ms)
    .fetch_all(&mut *tx)
    .await?;
    let mut n = 0;
    for id in &ids {
        if finish_job(&mut tx, id, "expired", "not finished before its expiry", now_ms).await? {
            n += 1;
        }
    }
    tx.commit().await?;
    Ok(n)
}

/// Client jobs not finished (the "paid work waiting" of `GET /v1/network`).
pub(crate) async fn jobs_waiting(db: &Db) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM client_jobs WHERE status IN ('queued', 'running')")
        .fetch_one(db)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}
