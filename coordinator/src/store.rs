//! All SQL of the coordinator (SQLite through sqlx, written to run on PostgreSQL too:
//! `ON CONFLICT`, `RETURNING`, BIGINT limbs for money, no autoincrement). One pooled
//! connection: SQLite serialises writers anyway, and one connection makes every
//! transaction's read-then-write free of lock upgrades.

use std::str::FromStr;
use std::time::Duration;

use alloy::primitives::Address;
use idlewatt_protocol::wire::{JobRecord, JobSpec, JobState, NodeRegistration};
use idlewatt_protocol::{Precision, TokenAmount};
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
        "INSERT INTO nodes (address, adapter, backend, device_type, max_buffer_bytes, benchmark_gflops, app_version, registered_at_ms, last_seen_ms, source_range, precisions)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)
         ON CONFLICT (address) DO UPDATE SET adapter = excluded.adapter, backend = excluded.backend,
             device_type = excluded.device_type, max_buffer_bytes = excluded.max_buffer_bytes,
             benchmark_gflops = excluded.benchmark_gflops, app_version = excluded.app_version,
             last_seen_ms = excluded.last_seen_ms, precisions = excluded.precisions",
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
    .bind(precisions_column(&h.precisions))
    .execute(db)
    .await?;
    Ok(())
}

/// The `nodes.precisions` value of a registration: the precisions it names, each once,
/// in the protocol's order; f32 alone when it names none (every node computes f32).
pub(crate) fn precisions_column(named: &[Precision]) -> String {
    let listed: Vec<&str> = Precision::ALL.iter().filter(|p| named.contains(p)).map(|p| p.as_str()).collect();
    if listed.is_empty() { Precision::F32.as_str().to_owned() } else { listed.join(",") }
}

/// What sizing and matching need to know of a registered node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeInfo {
    pub(crate) benchmark_gflops: f64,
    pub(crate) max_buffer_bytes: u64,
    /// It benchmarked an f16 path: f16 parts may be leased to it.
    pub(crate) f16: bool,
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
        "SELECT benchmark_gflops, max_buffer_bytes, precisions,
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
                f16: r.try_get::<String, _>("precisions")?.split(',').any(|p| p == Precision::F16.as_str()),
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

/// The columns [`spec_from_row`] reads, from `jobs j LEFT JOIN client_jobs cj`.
pub(crate) const SPEC_COLUMNS: &str = "j.m, j.n, j.k, j.seed, j.reward_gwei, j.reward_wei, j.origin, j.row_start, cj.a_sha256, cj.b_sha256, cj.m AS cm, cj.precision, j.spec_json";

/// The join [`SPEC_COLUMNS`] need, after `jobs j`.
pub(crate) const SPEC_JOIN: &str = "LEFT JOIN client_jobs cj ON cj.id = j.client_job_id";

/// A part's spec: calibration work from its seed, or a block of a client job.
pub(crate) fn spec_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<JobSpec, sqlx::Error> {
    let dim = |c: &str| -> Result<u32, sqlx::Error> {
        u32::try_from(r.try_get::<i64, _>(c)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    if let Some(json) = r.try_get::<Option<String>, _>("spec_json")? {
        // Parts whose spec is not derivable from columns (embeddings batches).
        return serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)));
    }
    if r.try_get::<String, _>("origin")? == "client" {
        let sha = |c: &str| -> Result<String, sqlx::Error> {
            r.try_get::<Option<String>, _>(c)?.ok_or_else(|| sqlx::Error::Protocol(format!("client part without {c}")))
        };
        return Ok(JobSpec::ClientMatmul {
            a_sha256: sha("a_sha256")?,
            b_sha256: sha("b_sha256")?,
            m: dim("cm")?,
            n: dim("n")?,
            k: dim("k")?,
            row_start: dim("row_start")?,
            rows: dim("m")?,
            precision: r.try_get::<Option<String>, _>("precision")?.and_then(|p| p.parse().ok()).unwrap_or_default(),
        });
    }
    let seed = u64::try_from(r.try_get::<i64, _>("seed")?).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(JobSpec::Matmul { m: dim("m")?, n: dim("n")?, k: dim("k")?, seed, precision: idlewatt_protocol::Precision::F32 })
}

pub(crate) fn reward_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<TokenAmount, sqlx::Error> {
    Ok(money::to_amount(money::join(r.try_get("reward_gwei")?, r.try_get("reward_wei")?)))
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
    /// What the part's verification releases from escrow (reward + fee; zero for
    /// calibration parts issued before escrow existed).
    pub(crate) price: TokenAmount,
    /// The client job of a client part.
    pub(crate) client_job_id: Option<String>,
    /// An embeddings part's secret layout (JSON of `embed::layout::Layout`).
    pub(crate) layout_json: Option<String>,
}

/// Looks a lease up with its job.
pub(crate) async fn lease(db: &Db, lease_id: &str) -> Result<Option<LeaseInfo>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT l.id, l.job_id, l.node, l.issued_at_ms, l.deadline_ms, l.status, l.result_sha256, l.reason,
                j.price_gwei, j.price_wei, j.client_job_id, j.layout_json, {SPEC_COLUMNS}
         FROM leases l JOIN jobs j ON j.id = l.job_id {SPEC_JOIN} WHERE l.id = $1"
    )))
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
            price: money::to_amount(money::join(r.try_get("price_gwei")?, r.try_get("price_wei")?)),
            client_job_id: r.try_get("client_job_id")?,
            layout_json: r.try_get("layout_json")?,
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
         FROM ledger WHERE account = $1 AND kind IN ('credit', 'earning')",
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
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT l.id, l.job_id, l.status, l.issued_at_ms, l.finished_at_ms, cj.client, {SPEC_COLUMNS}
         FROM leases l JOIN jobs j ON j.id = l.job_id {SPEC_JOIN} WHERE l.node = $1 ORDER BY l.issued_at_ms DESC, l.id LIMIT $2"
    )))
    .bind(addr(who))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let state = match r.try_get::<String, _>("status")?.as_str() {
                "verified" => JobState::Verified,
                "rejected" => JobState::Rejected,
                // A released or cancelled lease (its node gave it back, its client job
                // ended) was not paid, like an expired one.
                "expired" | "released" | "cancelled" => JobState::Expired,
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
                client: r
                    .try_get::<Option<String>, _>("client")?
                    .map(|c| c.parse::<Address>().map_err(|e| sqlx::Error::Decode(Box::new(e))))
                    .transpose()?,
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
