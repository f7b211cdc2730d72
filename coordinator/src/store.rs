//! All SQL of the coordinator (SQLite through sqlx, written to run on PostgreSQL too:
//! `ON CONFLICT`, `RETURNING`, BIGINT limbs for money, no autoincrement). One pooled
//! connection: SQLite serialises writers anyway, and one connection makes every
//! transaction's read-then-write free of lock upgrades.

use std::str::FromStr;
use std::time::Duration;

use alloy::primitives::Address;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::wire::{JobRecord, JobSpec, JobState, NodeLimits, NodeRegistration};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection as _, Row, SqlitePool};

use crate::money;

/// The database handle.
pub(crate) type Db = SqlitePool;

/// Opens (creating if needed) the database and runs the migrations.
pub(crate) async fn connect(database: &str) -> Result<Db, sqlx::Error> {
    let opts = if matches!(database, "sqlite::memory:" | ":memory:") {
        SqliteConnectOptions::new().in_memory(true)
    } else {
        let path = database.strip_prefix("sqlite://").or_else(|| database.strip_prefix("sqlite:")).unwrap_or(database);
        SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
    };
    let in_memory = matches!(database, "sqlite::memory:" | ":memory:");
    let opts = opts.foreign_keys(true).busy_timeout(Duration::from_secs(10));
    // An in-memory database lives as long as its connection: never recycle it.
    let mut pool = SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
    if !in_memory {
        // A statement or COMMIT that failed (disk full, I/O error) can leave the
        // connection inside a transaction SQLite already rolled back, and then every
        // later "commit" is a savepoint release that never reaches the disk. Such a
        // connection is closed when it comes back to the pool; the pool opens a fresh one.
        pool = pool.after_release(|conn, _meta| {
            Box::pin(async move {
                // Runs after the dropped transaction's queued rollback.
                if sqlx::query("SELECT 1").execute(&mut *conn).await.is_err() || conn.is_in_transaction() {
                    tracing::warn!("database connection left in a bad state by a failed write: replacing it");
                    return Ok(false);
                }
                Ok(true)
            })
        });
    }
    let pool = pool.connect_with(opts).await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// Lowercase `0x`-hex, the form addresses are stored in.
pub(crate) fn addr(a: Address) -> String {
    alloy::hex::encode_prefixed(a)
}

/// Records a nonce; `false` if it was seen before (a replay).
pub(crate) async fn remember_nonce(
    db: &Db,
    who: Address,
    nonce: &str,
    expires_at_ms: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO seen_nonces (address, nonce, expires_at_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(addr(who))
    .bind(nonce)
    .bind(expires_at_ms)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// `true` if `who` already used `nonce` (read only: a replay is refused before it
/// spends anything, and nothing is written for it).
pub(crate) async fn nonce_seen(db: &Db, who: Address, nonce: &str) -> Result<bool, sqlx::Error> {
    let r: Option<i64> = sqlx::query_scalar("SELECT 1 FROM seen_nonces WHERE address = $1 AND nonce = $2")
        .bind(addr(who))
        .bind(nonce)
        .fetch_optional(db)
        .await?;
    Ok(r.is_some())
}

/// Forgets nonces whose timestamps can no longer pass the freshness check.
pub(crate) async fn purge_nonces(db: &Db, now_ms: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM seen_nonces WHERE expires_at_ms < $1").bind(now_ms).execute(db).await?.rows_affected())
}

/// Registers a node or updates its profile.
/// `source_range` is where a new address registers from (kept on later updates).
pub(crate) async fn upsert_node(
    db: &Db,
    reg: &NodeRegistration,
    source_range: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let h = &reg.hardware;
    sqlx::query(
        "INSERT INTO nodes (address, adapter, backend, device_type, max_buffer_bytes, benchmark_gflops, app_version, registered_at_ms, last_seen_ms, source_range)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
         ON CONFLICT (address) DO UPDATE SET adapter = excluded.adapter, backend = excluded.backend,
             device_type = excluded.device_type, max_buffer_bytes = excluded.max_buffer_bytes,
             benchmark_gflops = excluded.benchmark_gflops, app_version = excluded.app_version,
             last_seen_ms = excluded.last_seen_ms",
    )
    .bind(addr(reg.address))
    .bind(&h.adapter)
    .bind(&h.backend)
    .bind(&h.device_type)
    .bind(i64::try_from(h.max_buffer_bytes).unwrap_or(i64::MAX))
    .bind(h.benchmark_gflops)
    .bind(&reg.app_version)
    .bind(now_ms)
    .bind(source_range)
    .execute(db)
    .await?;
    Ok(())
}

/// What sizing needs to know of a registered node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeInfo {
    pub(crate) benchmark_gflops: f64,
    pub(crate) max_buffer_bytes: u64,
}

/// A registered node's profile and standing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeStanding {
    pub(crate) info: NodeInfo,
    /// Leases it holds now.
    pub(crate) open_leases: i64,
    /// Its results rejected since the window's start.
    pub(crate) bad_results: i64,
}

/// A node's profile, open leases and recent bad results in one query; `None` if it
/// never registered.
pub(crate) async fn node_standing(
    db: &Db,
    who: Address,
    bad_since_ms: i64,
) -> Result<Option<NodeStanding>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT benchmark_gflops, max_buffer_bytes,
                (SELECT COUNT(*) FROM leases WHERE node = $1 AND status = 'open') AS open_leases,
                (SELECT COUNT(*) FROM leases WHERE node = $1 AND status = 'rejected' AND finished_at_ms >= $2
                   AND reason NOT LIKE $3) AS bad
         FROM nodes WHERE address = $1",
    )
    .bind(addr(who))
    .bind(bad_since_ms)
    // A doubted result (the verifier could not tell) is not held against the node.
    .bind(format!("{}%", idlewatt_protocol::verify::DOUBT_REASON))
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok(NodeStanding {
            info: NodeInfo {
                benchmark_gflops: r.try_get("benchmark_gflops")?,
                max_buffer_bytes: u64::try_from(r.try_get::<i64, _>("max_buffer_bytes")?).unwrap_or(0),
            },
            open_leases: r.try_get("open_leases")?,
            bad_results: r.try_get("bad")?,
        })
    })
    .transpose()
}

/// Why the node's latest result was rejected.
pub(crate) async fn last_rejection(db: &Db, who: Address) -> Result<Option<String>, sqlx::Error> {
    Ok(sqlx::query_scalar(
        "SELECT reason FROM leases WHERE node = $1 AND status = 'rejected' ORDER BY finished_at_ms DESC LIMIT 1",
    )
    .bind(addr(who))
    .fetch_optional(db)
    .await?
    .flatten())
}

/// Expires overdue leases and reopens their jobs for other nodes; returns how many.
pub(crate) async fn expire_overdue(db: &Db, now_ms: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let overdue: Vec<(String, String)> =
        sqlx::query_as("SELECT id, job_id FROM leases WHERE status = 'open' AND deadline_ms < $1")
            .bind(now_ms)
            .fetch_all(&mut *tx)
            .await?;
    for (lease, job) in &overdue {
        sqlx::query("UPDATE leases SET status = 'expired', finished_at_ms = $1 WHERE id = $2 AND status = 'open'")
            .bind(now_ms)
            .bind(lease)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE jobs SET status = 'open' WHERE id = $1 AND status = 'leased'")
            .bind(job)
            .execute(&mut *tx)
            .await?;
        tracing::info!(lease = %lease, job = %job, "lease expired; job reopened");
    }
    tx.commit().await?;
    Ok(overdue.len() as u64)
}

/// A new job to create when no open one fits.
#[derive(Debug, Clone)]
pub(crate) struct NewJob {
    pub(crate) id: String,
    pub(crate) spec: JobSpec,
    pub(crate) reward: TokenAmount,
}

/// What the defences record on a lease: the source range of the request and whether
/// its node was on probation (`probation`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeaseMarks<'a> {
    pub(crate) source_range: &'a str,
    /// On probation: a new calibration job, never a reused open one.
    pub(crate) probation: bool,
}

/// A lease as issued.
#[derive(Debug, Clone)]
pub(crate) struct IssuedLease {
    pub(crate) job_id: String,
    pub(crate) spec: JobSpec,
    pub(crate) reward: TokenAmount,
}

fn spec_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<JobSpec, sqlx::Error> {
    let dim = |c: &str| -> Result<u32, sqlx::Error> {
        u32::try_from(r.try_get::<i64, _>(c)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    let seed = u64::try_from(r.try_get::<i64, _>("seed")?).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(JobSpec::Matmul { m: dim("m")?, n: dim("n")?, k: dim("k")?, seed })
}

fn reward_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<TokenAmount, sqlx::Error> {
    Ok(money::to_amount(money::join(r.try_get("reward_gwei")?, r.try_get("reward_wei")?)))
}

/// Issues a lease to `who`: the oldest open job that fits its limits and that it did
/// not let expire before, else `new_job`.
#[allow(clippy::too_many_arguments)] // one lease row: its parts, not options
pub(crate) async fn issue_lease(
    db: &Db,
    who: Address,
    lease_id: &str,
    limits: NodeLimits,
    now_ms: i64,
    deadline_ms: i64,
    new_job: NewJob,
    marks: LeaseMarks<'_>,
) -> Result<IssuedLease, sqlx::Error> {
    let node = addr(who);
    let max_elems = i64::try_from(limits.max_buffer_bytes / 4).unwrap_or(i64::MAX);
    let mut tx = db.begin().await?;
    let reusable = sqlx::query(
        "SELECT id, m, n, k, seed, reward_gwei, reward_wei FROM jobs
         WHERE status = 'open' AND m <= $1 AND n <= $1 AND k <= $1
           AND m * k <= $2 AND k * n <= $2 AND m * n <= $2
           AND NOT EXISTS (SELECT 1 FROM leases WHERE leases.job_id = jobs.id AND leases.node = $3)
           AND $4 = 0
         ORDER BY created_at_ms LIMIT 1",
    )
    .bind(i64::from(limits.max_dim))
    .bind(max_elems)
    .bind(&node)
    .bind(i64::from(marks.probation))
    .fetch_optional(&mut *tx)
    .await?;
    let issued = match reusable {
        Some(r) => {
            let issued =
                IssuedLease { job_id: r.try_get("id")?, spec: spec_from_row(&r)?, reward: reward_from_row(&r)? };
            sqlx::query("UPDATE jobs SET status = 'leased' WHERE id = $1")
                .bind(&issued.job_id)
                .execute(&mut *tx)
                .await?;
            issued
        }
        None => {
            let JobSpec::Matmul { m, n, k, seed } = new_job.spec;
            let (gwei, wei) = money::split(i128::try_from(new_job.reward.0).unwrap_or(i128::MAX))
                .ok_or_else(|| sqlx::Error::Protocol("reward out of range".into()))?;
            sqlx::query(
                "INSERT INTO jobs (id, kind, m, n, k, seed, reward_gwei, reward_wei, status, created_at_ms)
                 VALUES ($1, 'matmul', $2, $3, $4, $5, $6, $7, 'leased', $8)",
            )
            .bind(&new_job.id)
            .bind(i64::from(m))
            .bind(i64::from(n))
            .bind(i64::from(k))
            .bind(i64::try_from(seed).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
            .bind(gwei)
            .bind(wei)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            IssuedLease { job_id: new_job.id, spec: new_job.spec, reward: new_job.reward }
        }
    };
    sqlx::query("UPDATE jobs SET status = 'leased' WHERE id = $1").bind(&issued.job_id).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO leases (id, job_id, node, issued_at_ms, deadline_ms, status, source_range, probation)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
    )
    .bind(lease_id)
    .bind(&issued.job_id)
    .bind(&node)
    .bind(now_ms)
    .bind(deadline_ms)
    .bind(marks.source_range)
    .bind(i64::from(marks.probation))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(issued)
}

/// A lease's state, as a result submission needs it.
#[derive(Debug, Clone)]
pub(crate) struct LeaseInfo {
    pub(crate) id: String,
    pub(crate) job_id: String,
    pub(crate) node: String,
    pub(crate) issued_at_ms: i64,
    pub(crate) deadline_ms: i64,
    pub(crate) status: String,
    pub(crate) result_sha256: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) spec: JobSpec,
    pub(crate) reward: TokenAmount,
}

/// Looks a lease up with its job.
pub(crate) async fn lease(db: &Db, lease_id: &str) -> Result<Option<LeaseInfo>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT l.id, l.job_id, l.node, l.issued_at_ms, l.deadline_ms, l.status, l.result_sha256, l.reason,
                j.m, j.n, j.k, j.seed, j.reward_gwei, j.reward_wei
         FROM leases l JOIN jobs j ON j.id = l.job_id WHERE l.id = $1",
    )
    .bind(lease_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok(LeaseInfo {
            id: r.try_get("id")?,
            job_id: r.try_get("job_id")?,
            node: r.try_get("node")?,
            issued_at_ms: r.try_get("issued_at_ms")?,
            deadline_ms: r.try_get("deadline_ms")?,
            status: r.try_get("status")?,
            result_sha256: r.try_get("result_sha256")?,
            reason: r.try_get("reason")?,
            spec: spec_from_row(&r)?,
            reward: reward_from_row(&r)?,
        })
    })
    .transpose()
}

/// Marks one open lease expired (a result came after its deadline) and reopens its job.
pub(crate) async fn expire_lease(db: &Db, lease: &LeaseInfo, now_ms: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let r = sqlx::query("UPDATE leases SET status = 'expired', finished_at_ms = $1 WHERE id = $2 AND status = 'open'")
        .bind(now_ms)
        .bind(&lease.id)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() == 1 {
        sqlx::query("UPDATE jobs SET status = 'open' WHERE id = $1 AND status = 'leased'")
            .bind(&lease.job_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Records a verified result and credits its reward, in one transaction. `false` if
/// the lease was no longer open (another submission won the race).
pub(crate) async fn record_verified(
    db: &Db,
    lease: &LeaseInfo,
    digest: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let (gwei, wei) = money::split(i128::try_from(lease.reward.0).unwrap_or(i128::MAX))
        .ok_or_else(|| sqlx::Error::Protocol("reward out of range".into()))?;
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE leases SET status = 'verified', result_sha256 = $1, finished_at_ms = $2 WHERE id = $3 AND status = 'open'",
    )
    .bind(digest)
    .bind(now_ms)
    .bind(&lease.id)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE jobs SET status = 'done' WHERE id = $1").bind(&lease.job_id).execute(&mut *tx).await?;
    // The id makes a second credit for the same lease impossible, whatever the code above.
    sqlx::query(
        "INSERT INTO ledger (id, account, kind, amount_gwei, amount_wei, lease_id, created_at_ms) VALUES ($1, $2, 'credit', $3, $4, $5, $6)",
    )
    .bind(format!("credit:{}", lease.id))
    .bind(&lease.node)
    .bind(gwei)
    .bind(wei)
    .bind(&lease.id)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Records a rejected result; the job goes back to the pool for another node.
pub(crate) async fn record_rejected(
    db: &Db,
    lease: &LeaseInfo,
    digest: &str,
    reason: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE leases SET status = 'rejected', result_sha256 = $1, reason = $2, finished_at_ms = $3 WHERE id = $4 AND status = 'open'",
    )
    .bind(digest)
    .bind(reason)
    .bind(now_ms)
    .bind(&lease.id)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE jobs SET status = 'open' WHERE id = $1 AND status = 'leased'")
        .bind(&lease.job_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Balances of an account.
#[derive(Debug, Clone)]
pub(crate) struct Balances {
    pub(crate) pending: TokenAmount,
    pub(crate) verified: TokenAmount,
    pub(crate) withdrawable: TokenAmount,
}

/// Sums an account's ledger and open leases.
pub(crate) async fn balances(db: &Db, who: Address) -> Result<Balances, sqlx::Error> {
    let node = addr(who);
    let sum = |kind_filter: &'static str| {
        let node = node.clone();
        async move {
            let r = sqlx::query(kind_filter).bind(node).fetch_one(db).await?;
            Ok::<i128, sqlx::Error>(money::join(r.try_get("g")?, r.try_get("w")?))
        }
    };
    let verified = sum(
        "SELECT CAST(COALESCE(SUM(amount_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(amount_wei), 0) AS BIGINT) AS w
         FROM ledger WHERE account = $1 AND kind = 'credit'",
    )
    .await?;
    let balance = sum(
        "SELECT CAST(COALESCE(SUM(amount_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(amount_wei), 0) AS BIGINT) AS w
         FROM ledger WHERE account = $1",
    )
    .await?;
    let pending = sum(
        "SELECT CAST(COALESCE(SUM(j.reward_gwei), 0) AS BIGINT) AS g, CAST(COALESCE(SUM(j.reward_wei), 0) AS BIGINT) AS w
         FROM leases l JOIN jobs j ON j.id = l.job_id WHERE l.node = $1 AND l.status = 'open'",
    )
    .await?;
    Ok(Balances {
        pending: money::to_amount(pending),
        verified: money::to_amount(verified),
        withdrawable: money::to_amount(balance),
    })
}

/// An account's latest jobs, newest first.
pub(crate) async fn recent_jobs(db: &Db, who: Address, limit: i64) -> Result<Vec<JobRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT l.id, l.job_id, l.status, l.issued_at_ms, l.finished_at_ms, j.m, j.n, j.k, j.seed, j.reward_gwei, j.reward_wei
         FROM leases l JOIN jobs j ON j.id = l.job_id WHERE l.node = $1 ORDER BY l.issued_at_ms DESC, l.id LIMIT $2",
    )
    .bind(addr(who))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let state = match r.try_get::<String, _>("status")?.as_str() {
                "verified" => JobState::Verified,
                "rejected" => JobState::Rejected,
                "expired" | "released" => JobState::Expired,
                _ => JobState::Leased,
            };
            Ok(JobRecord {
                lease_id: r.try_get("id")?,
                job_id: r.try_get("job_id")?,
                job: spec_from_row(r)?,
                state,
                reward: reward_from_row(r)?,
                issued_at_ms: r.try_get("issued_at_ms")?,
                finished_at_ms: r.try_get("finished_at_ms")?,
            })
        })
        .collect()
}

/// (open jobs, active leases, nodes seen since `online_since_ms`).
pub(crate) async fn network(db: &Db, online_since_ms: i64) -> Result<(i64, i64, i64), sqlx::Error> {
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'open'").fetch_one(db).await?;
    let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leases WHERE status = 'open'").fetch_one(db).await?;
    let online: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nodes WHERE last_seen_ms >= $1")
        .bind(online_since_ms)
        .fetch_one(db)
        .await?;
    Ok((open, active, online))
}
