//! Where leased work comes from and how its verification is paid. A node asking for
//! work gets, in this order: a part of a client job that was given back (expired or
//! rejected lease; never a part it held before, and a failed embeddings batch first to
//! a node of another kind, see `SECOND_OPINION_HOLD`), a new block of rows cut from the oldest client job and sized to
//! the node, or — only while the operator's calibration budget lasts — seeded
//! calibration work. Otherwise there is no paid work ([`issue`] answers `None`).
//! A part of an f16 job goes only to a node whose registration says it benchmarked an
//! f16 path ([`NodeInfo::f16`]); other nodes do not see it, so an f16 job waits (until
//! it expires and is refunded) while no such node asks for work.
//!
//! Every part carries its price: the differences of ⌊price·row/m⌋ over its rows
//! ([`part_price`]), so the parts of a job add up to exactly what its escrow holds.
//! A verified part moves its price out of escrow to the node (its reward) and to the
//! operator's fee account in the same transaction that marks it verified; a rejected
//! part moves nothing and goes back to the pool, and a part rejected
//! `max_part_attempts` times fails its job, refunding the unspent escrow.

use alloy::primitives::Address;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::client::{fee_of, part_price};
use idlewatt_protocol::models::EmbeddingsBatch;
use idlewatt_protocol::wire::{JobSpec, NodeLimits};
use sqlx::{Row, SqliteConnection};

use crate::client_store;
use crate::config::Config;
use crate::embed::registry::ModelRegistry;
use crate::ledger::{self, BOOTSTRAP, FEES, escrow_account};
use crate::money;
use crate::store::{Db, LeaseInfo, NodeInfo, SPEC_COLUMNS, SPEC_JOIN, addr, spec_from_row};

/// Calibration work to create if nothing else fits (and the budget allows).
#[derive(Debug, Clone)]
pub(crate) struct NewJob {
    pub(crate) id: String,
    pub(crate) spec: JobSpec,
    pub(crate) reward: TokenAmount,
}

/// What the defences record on a lease: the source range of the request and whether
/// its node was on probation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeaseMarks<'a> {
    pub(crate) source_range: &'a str,
    /// On probation: new work only (a new block or calibration, already capped to the
    /// probation size by the caller), never a part another node gave back.
    pub(crate) probation: bool,
}

/// A lease as issued.
#[derive(Debug, Clone)]
pub(crate) struct IssuedLease {
    pub(crate) job_id: String,
    pub(crate) spec: JobSpec,
    pub(crate) reward: TokenAmount,
}

fn limbs(amount: TokenAmount) -> Result<(i64, i64), sqlx::Error> {
    i128::try_from(amount.0)
        .ok()
        .and_then(money::split)
        .ok_or_else(|| sqlx::Error::Protocol("amount out of range".into()))
}

fn as_i64(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

/// Rows of a client block for a node: about `target_job_seconds` of its benchmark
/// (or `fixed_job_dim` rows), within its limits, at least one row; `None` if not even
/// one row fits.
pub(crate) fn block_rows(
    cfg: &Config,
    node: NodeInfo,
    limits: NodeLimits,
    n: u64,
    k: u64,
    remaining: u64,
) -> Option<u64> {
    let max_elems = limits.max_buffer_bytes / 4;
    let result_cap = u64::from(cfg.max_job_dim) * u64::from(cfg.max_job_dim);
    let cap = (max_elems / k.max(1))
        .min(max_elems / n.max(1))
        .min(result_cap / n.max(1))
        .min(u64::from(limits.max_dim))
        .min(remaining);
    if cap == 0 || n > u64::from(limits.max_dim) || k > u64::from(limits.max_dim) || k.saturating_mul(n) > max_elems {
        return None;
    }
    let want = match cfg.fixed_job_dim {
        Some(d) => u64::from(d),
        None => {
            let flops = node.benchmark_gflops.max(0.0) * 1e9 * cfg.target_job_seconds;
            (flops / (2.0 * n as f64 * k as f64)).floor().max(1.0) as u64
        }
    };
    let rows = want.clamp(1, cap);
    // Do not leave a sliver behind: take the rest when it is under a quarter block.
    let rest = remaining - rows;
    Some(if rest > 0 && rest * 4 < rows && rows + rest <= cap { rows + rest } else { rows })
}

/// A second opinion comes from another kind of device: an embeddings part whose
/// result was doubted or rejected since `$5` is not given to a node of the same vendor
/// (the first word of its adapter name, lower case: "NVIDIA GeForce RTX 4090" →
/// "nvidia", "llvmpipe (LLVM 19.1.7)" → "llvmpipe") and back-end as the node that
/// failed it (`$3` is the asking node). After the hold any other node may take it (a
/// node never gets a part twice).
const SECOND_OPINION_HOLD: &str = "NOT (j.kind = 'client_embeddings' AND EXISTS (
        SELECT 1 FROM leases pl JOIN nodes pn ON pn.address = pl.node JOIN nodes me ON me.address = $3
        WHERE pl.job_id = j.id AND pl.status = 'rejected' AND pl.finished_at_ms > $5
          AND pn.backend = me.backend
          AND lower(substr(trim(pn.adapter), 1, instr(trim(pn.adapter) || ' ', ' ') - 1))
            = lower(substr(trim(me.adapter), 1, instr(trim(me.adapter) || ' ', ' ') - 1))))";

/// Issues a lease to `who` (see the module docs); `None` when there is no paid work.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn issue(
    db: &Db,
    cfg: &Config,
    who: Address,
    node: NodeInfo,
    lease_id: &str,
    part_id: &str,
    limits: NodeLimits,
    now_ms: i64,
    deadline_ms: i64,
    calibration: NewJob,
    marks: LeaseMarks<'_>,
    embeddings: EmbeddingsSource<'_>,
) -> Result<Option<IssuedLease>, sqlx::Error> {
    let node_addr = addr(who);
    let max_elems = i64::try_from(limits.max_buffer_bytes / 4).unwrap_or(i64::MAX);
    let mut tx = db.begin().await?;
    // 1. A part given back by another node (client work first).
    let reusable = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT j.id, {SPEC_COLUMNS} FROM jobs j {SPEC_JOIN}
         WHERE j.status = 'open' AND j.m <= $1 AND j.n <= $1 AND j.k <= $1
           AND j.m * j.k <= $2 AND j.k * j.n <= $2 AND j.m * j.n <= $2
           AND (j.origin = 'calibration' OR cj.status IN ('queued', 'running'))
           AND NOT EXISTS (SELECT 1 FROM leases WHERE leases.job_id = j.id AND leases.node = $3)
           AND $4 = 0
           AND {SECOND_OPINION_HOLD}
           AND (COALESCE(cj.precision, 'f32') = 'f32' OR $6 = 1)
         ORDER BY (j.origin = 'client') DESC, j.created_at_ms LIMIT 1"
    )))
    .bind(i64::from(limits.max_dim))
    .bind(max_elems)
    .bind(&node_addr)
    .bind(i64::from(marks.probation))
    .bind(now_ms.saturating_sub(i64::try_from(cfg.second_opinion_hold.as_millis()).unwrap_or(i64::MAX)))
    .bind(i64::from(node.f16))
    .fetch_optional(&mut *tx)
    .await?;
    let issued = match reusable {
        Some(r) => Some(IssuedLease {
            job_id: r.try_get("id")?,
            spec: spec_from_row(&r)?,
            reward: crate::store::reward_from_row(&r)?,
        }),
        None => match cut_client_block(&mut tx, cfg, node, limits, part_id, now_ms).await? {
            Some(part) => Some(part),
            None => match cut_embeddings_batch(&mut tx, cfg, limits, part_id, now_ms, embeddings).await? {
                Some(part) => Some(part),
                None => calibration_job(&mut tx, calibration, now_ms).await?,
            },
        },
    };
    let Some(issued) = issued else {
        return Ok(None);
    };
    sqlx::query("UPDATE jobs SET status = 'leased' WHERE id = $1").bind(&issued.job_id).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO leases (id, job_id, node, issued_at_ms, deadline_ms, status, source_range, probation)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
    )
    .bind(lease_id)
    .bind(&issued.job_id)
    .bind(&node_addr)
    .bind(now_ms)
    .bind(deadline_ms)
    .bind(marks.source_range)
    .bind(i64::from(marks.probation))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(issued))
}

/// Cuts the next block of rows from the oldest client matmul that fits the node (f16
/// jobs only for a node that benchmarked an f16 path).
async fn cut_client_block(
    conn: &mut SqliteConnection,
    cfg: &Config,
    node: NodeInfo,
    limits: NodeLimits,
    part_id: &str,
    now_ms: i64,
) -> Result<Option<IssuedLease>, sqlx::Error> {
    let max_elems = i64::try_from(limits.max_buffer_bytes / 4).unwrap_or(i64::MAX);
    let candidates = sqlx::query(
        "SELECT id, a_sha256, b_sha256, m, n, k, precision, total_units, next_unit, price_gwei, price_wei FROM client_jobs
         WHERE status IN ('queued', 'running') AND kind = 'matmul' AND next_unit < total_units
           AND n <= $1 AND k <= $1 AND k * n <= $2
           AND (precision = 'f32' OR $3 = 1)
         ORDER BY created_at_ms LIMIT 20",
    )
    .bind(i64::from(limits.max_dim))
    .bind(max_elems)
    .bind(i64::from(node.f16))
    .fetch_all(&mut *conn)
    .await?;
    for r in candidates {
        let u = |c: &str| -> Result<u64, sqlx::Error> {
            u64::try_from(r.try_get::<i64, _>(c)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        };
        let (n, k, total, next) = (u("n")?, u("k")?, u("total_units")?, u("next_unit")?);
        let Some(rows) = block_rows(cfg, node, limits, n, k, total - next) else { continue };
        let job_id: String = r.try_get("id")?;
        let price = money::to_amount(money::join(r.try_get("price_gwei")?, r.try_get("price_wei")?));
        let part = part_price(price, next, next + rows, total);
        let reward = TokenAmount(part.0 - fee_of(part, cfg.fee_bps).0);
        let (pg, pw) = limbs(part)?;
        let (rg, rw) = limbs(reward)?;
        sqlx::query(
            "INSERT INTO jobs (id, kind, m, n, k, seed, reward_gwei, reward_wei, status, created_at_ms,
                               origin, client_job_id, row_start, price_gwei, price_wei)
             VALUES ($1, 'client_matmul', $2, $3, $4, 0, $5, $6, 'leased', $7, 'client', $8, $9, $10, $11)",
        )
        .bind(part_id)
        .bind(as_i64(rows))
        .bind(as_i64(n))
        .bind(as_i64(k))
        .bind(rg)
        .bind(rw)
        .bind(now_ms)
        .bind(&job_id)
        .bind(as_i64(next))
        .bind(pg)
        .bind(pw)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE client_jobs SET next_unit = next_unit + $1, status = 'running' WHERE id = $2")
            .bind(as_i64(rows))
            .bind(&job_id)
            .execute(&mut *conn)
            .await?;
        let dim = |x: u64| u32::try_from(x).map_err(|e| sqlx::Error::Decode(Box::new(e)));
        let spec = JobSpec::ClientMatmul {
            a_sha256: r.try_get("a_sha256")?,
            b_sha256: r.try_get("b_sha256")?,
            m: dim(total)?,
            n: dim(n)?,
            k: dim(k)?,
            row_start: dim(next)?,
            rows: dim(rows)?,
            precision: r.try_get::<String, _>("precision")?.parse().unwrap_or_default(),
        };
        tracing::info!(client_job = %job_id, part = part_id, row_start = next, rows, price = %part, "client block cut");
        return Ok(Some(IssuedLease { job_id: part_id.to_owned(), spec, reward }));
    }
    Ok(None)
}

/// What cutting an embeddings batch needs: the served models and randomness for the
/// batch's secret layout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EmbeddingsSource<'a> {
    pub(crate) models: &'a ModelRegistry,
    pub(crate) layout_seed: u64,
}

/// Starts loading (in the background) the verifier's side of every served model that
/// has texts waiting, so [`issue`] can cut their batches once it is ready. A lease
/// never waits for it: until then the node gets other work or none.
pub(crate) async fn prepare_embeddings(db: &Db, models: &ModelRegistry) -> Result<(), sqlx::Error> {
    if models.is_empty() {
        return Ok(());
    }
    let waiting: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT model FROM client_jobs
         WHERE status IN ('queued', 'running') AND kind = 'embeddings' AND next_unit < total_units AND model IS NOT NULL",
    )
    .fetch_all(db)
    .await?;
    for name in waiting {
        if let Some(model) = models.get(&name) {
            model.warm_up();
        }
    }
    Ok(())
}

/// Client texts per embeddings batch (canaries come on top).
pub(crate) const EMBED_BATCH_ROWS: u64 = 32;
/// Canaries mixed into every embeddings batch.
pub(crate) const EMBED_CANARIES: usize = 2;

/// Cuts the next batch of texts from the oldest embeddings job whose model is served:
/// the next batch of the job's length-bucket plan ([`plan_batches`]), its texts
/// tokenized with the model's own tokenizer, two canaries shuffled in at
/// secret positions (the layout stays with the part, never leaves the coordinator).
async fn cut_embeddings_batch(
    conn: &mut SqliteConnection,
    cfg: &Config,
    limits: NodeLimits,
    part_id: &str,
    now_ms: i64,
    src: EmbeddingsSource<'_>,
) -> Result<Option<IssuedLease>, sqlx::Error> {
    if src.models.is_empty() {
        return Ok(None);
    }
    let candidates = sqlx::query(
        "SELECT id, model, input_json, plan_json, total_units, next_unit, price_gwei, price_wei FROM client_jobs
         WHERE status IN ('queued', 'running') AND kind = 'embeddings' AND next_unit < total_units
         ORDER BY created_at_ms LIMIT 20",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in candidates {
        let Some(model) = r.try_get::<Option<String>, _>("model")?.and_then(|m| src.models.get(&m)) else { continue };
        // Loaded by `prepare_embeddings` before the transaction began.
        let Some(reference) = model.loaded_reference() else { continue };
        let u = |c: &str| -> Result<u64, sqlx::Error> {
            u64::try_from(r.try_get::<i64, _>(c)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        };
        let (total, next) = (u("total_units")?, u("next_unit")?);
        let texts: Vec<String> =
            serde_json::from_str(&r.try_get::<Option<String>, _>("input_json")?.unwrap_or_default())
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let job_id: String = r.try_get("id")?;
        let plan = match r.try_get::<Option<String>, _>("plan_json")? {
            Some(json) => serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            None => plan_batches(conn, &job_id, &model.tokenizer, &texts).await?,
        };
        let Some(batch) = crate::embed::batching::batch_at(&plan, next) else { continue };
        let rows = batch.len() as u64;
        let Some(slice) = batch.iter().map(|&i| texts.get(i).cloned()).collect::<Option<Vec<String>>>() else {
            continue;
        };
        if rows == 0 || next + rows > total {
            continue;
        }
        let client_ids = model.tokenizer.encode(&slice).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let longest = client_ids.iter().map(Vec::len).max().unwrap_or(0);
        if longest > limits.max_dim as usize {
            continue;
        }
        let mut picker = crate::embed::verify::Picker::new(src.layout_seed);
        let canaries: Vec<usize> = picker.sample(reference.canaries.sequences.len(), EMBED_CANARIES);
        let local: Vec<usize> = (0..client_ids.len()).collect();
        let layout = crate::embed::layout::Layout::shuffled(&local, &canaries, &mut picker);
        let sequences: Vec<Vec<u32>> = layout
            .slots
            .iter()
            .map(|slot| match *slot {
                crate::embed::layout::Slot::Client(i) => client_ids[i].clone(),
                crate::embed::layout::Slot::Canary(c) => reference.canaries.sequences[c].clone(),
            })
            .collect();
        let (layers, hidden, intermediate) = reference.shape;
        let flops = EmbeddingsBatch::estimate_flops(&sequences, layers, hidden, intermediate);
        let spec =
            JobSpec::Embeddings(EmbeddingsBatch { model: model.manifest.clone(), dim: model.dim, sequences, flops });
        let price = money::to_amount(money::join(r.try_get("price_gwei")?, r.try_get("price_wei")?));
        let part = part_price(price, next, next + rows, total);
        let reward = TokenAmount(part.0 - fee_of(part, cfg.fee_bps).0);
        let (pg, pw) = limbs(part)?;
        let (rg, rw) = limbs(reward)?;
        let rows_json = serde_json::to_string(batch).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let spec_json = serde_json::to_string(&spec).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let layout_json = serde_json::to_string(&layout).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(
            "INSERT INTO jobs (id, kind, m, n, k, seed, reward_gwei, reward_wei, status, created_at_ms,
                               origin, client_job_id, row_start, price_gwei, price_wei, spec_json, layout_json, rows_json)
             VALUES ($1, 'client_embeddings', $2, $3, $4, 0, $5, $6, 'leased', $7, 'client', $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(part_id)
        .bind(as_i64(rows))
        .bind(i64::from(model.dim))
        .bind(as_i64(longest as u64))
        .bind(rg)
        .bind(rw)
        .bind(now_ms)
        .bind(&job_id)
        .bind(as_i64(next))
        .bind(pg)
        .bind(pw)
        .bind(spec_json)
        .bind(layout_json)
        .bind(rows_json)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE client_jobs SET next_unit = next_unit + $1, status = 'running' WHERE id = $2")
            .bind(as_i64(rows))
            .bind(&job_id)
            .execute(&mut *conn)
            .await?;
        tracing::info!(client_job = %job_id, part = part_id, row_start = next, rows, price = %part, "embeddings batch cut");
        return Ok(Some(IssuedLease { job_id: part_id.to_owned(), spec, reward }));
    }
    Ok(None)
}

/// Plans an embeddings job's batches once, at its first cut: every text tokenized,
/// grouped by length ([`crate::embed::batching::length_buckets`]), the plan stored with
/// the job so later cuts (and restarts) lease the same batches.
async fn plan_batches(
    conn: &mut SqliteConnection,
    job_id: &str,
    tokenizer: &crate::embed::tokenize::TextTokenizer,
    texts: &[String],
) -> Result<Vec<Vec<usize>>, sqlx::Error> {
    use crate::embed::batching::{BatchLimits, length_buckets, padded_tokens};
    let ids = tokenizer.encode(texts).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let lengths: Vec<usize> = ids.iter().map(Vec::len).collect();
    let limits =
        BatchLimits { max_rows: EMBED_BATCH_ROWS as usize, max_padded_tokens: EMBED_BATCH_ROWS as usize * 128 };
    let plan = length_buckets(&lengths, limits);
    let json = serde_json::to_string(&plan).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("UPDATE client_jobs SET plan_json = $1 WHERE id = $2")
        .bind(json)
        .bind(job_id)
        .execute(&mut *conn)
        .await?;
    tracing::info!(
        client_job = %job_id,
        batches = plan.len(),
        tokens = lengths.iter().sum::<usize>(),
        padded = padded_tokens(&plan, &lengths),
        "embeddings job planned by length bucket"
    );
    Ok(plan)
}

/// New calibration work, its reward held from the bootstrap budget; `None` when the
/// budget cannot pay it.
async fn calibration_job(
    conn: &mut SqliteConnection,
    job: NewJob,
    now_ms: i64,
) -> Result<Option<IssuedLease>, sqlx::Error> {
    let budget = money::to_amount(ledger::balance(conn, BOOTSTRAP).await?);
    if budget < job.reward || job.reward == TokenAmount::ZERO {
        return Ok(None);
    }
    let JobSpec::Matmul { m, n, k, seed, .. } = job.spec else {
        return Err(sqlx::Error::Protocol("calibration work must be a seeded matmul".into()));
    };
    let (g, w) = limbs(job.reward)?;
    sqlx::query(
        "INSERT INTO jobs (id, kind, m, n, k, seed, reward_gwei, reward_wei, status, created_at_ms, origin, price_gwei, price_wei)
         VALUES ($1, 'matmul', $2, $3, $4, $5, $6, $7, 'leased', $8, 'calibration', $6, $7)",
    )
    .bind(&job.id)
    .bind(i64::from(m))
    .bind(i64::from(n))
    .bind(i64::from(k))
    .bind(i64::try_from(seed).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
    .bind(g)
    .bind(w)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    ledger::transfer(
        conn,
        &format!("calibration_hold:{}", job.id),
        "calibration_hold",
        BOOTSTRAP,
        &escrow_account(&job.id),
        job.reward,
        None,
        now_ms,
    )
    .await?;
    Ok(Some(IssuedLease { job_id: job.id, spec: job.spec, reward: job.reward }))
}

/// Records a verified result and pays it from escrow, in one transaction. `false` if
/// the lease was no longer open (another submission won, or its job ended).
pub(crate) async fn record_verified(
    db: &Db,
    lease: &LeaseInfo,
    digest: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
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
    let escrow = escrow_account(lease.client_job_id.as_deref().unwrap_or(&lease.job_id));
    if lease.price == TokenAmount::ZERO && lease.client_job_id.is_none() {
        // Calibration work issued before escrow existed: minted, as it was then (the
        // books count `credit` rows as tokens entering).
        let (g, w) = limbs(lease.reward)?;
        sqlx::query(
            "INSERT INTO ledger (id, account, kind, amount_gwei, amount_wei, lease_id, created_at_ms) VALUES ($1, $2, 'credit', $3, $4, $5, $6)",
        )
        .bind(format!("credit:{}", lease.id))
        .bind(&lease.node)
        .bind(g)
        .bind(w)
        .bind(&lease.id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    } else {
        // The ids make a second payment for the same lease impossible.
        let fee = TokenAmount(lease.price.0.saturating_sub(lease.reward.0));
        let id = lease.id.as_str();
        ledger::transfer(
            &mut tx,
            &format!("earning:{id}"),
            "earning",
            &escrow,
            &lease.node,
            lease.reward,
            Some(id),
            now_ms,
        )
        .await?;
        ledger::transfer(&mut tx, &format!("fee:{id}"), "fee", &escrow, FEES, fee, Some(id), now_ms).await?;
    }
    if let Some(cj) = &lease.client_job_id {
        let done: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(m), 0) AS BIGINT) FROM jobs WHERE client_job_id = $1 AND status = 'done'",
        )
        .bind(cj)
        .fetch_one(&mut *tx)
        .await?;
        let r = sqlx::query(
            "UPDATE client_jobs SET status = 'done', finished_at_ms = $1
             WHERE id = $2 AND status IN ('queued', 'running') AND total_units <= $3",
        )
        .bind(now_ms)
        .bind(cj)
        .bind(done)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 1 {
            tracing::info!(client_job = %cj, "client job done");
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Records a rejected result: nothing is paid, the part goes back to the pool, and a
/// client part rejected `max_attempts` times fails its job (refunded).
pub(crate) async fn record_rejected(
    db: &Db,
    lease: &LeaseInfo,
    digest: &str,
    reason: &str,
    max_attempts: u32,
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
    if let Some(cj) = &lease.client_job_id {
        let rejected: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leases WHERE job_id = $1 AND status = 'rejected'")
            .bind(&lease.job_id)
            .fetch_one(&mut *tx)
            .await?;
        if rejected >= i64::from(max_attempts) {
            let why = format!("a part failed verification {rejected} times (latest: {reason})");
            client_store::finish_job(&mut tx, cj, "failed", &why, now_ms).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: NodeLimits = NodeLimits { max_dim: 65536, max_buffer_bytes: 1 << 40 };

    #[test]
    fn blocks_are_sized_to_the_node_and_its_limits() {
        let cfg = Config { fixed_job_dim: None, target_job_seconds: 1.0, ..Config::default() };
        let node = NodeInfo { benchmark_gflops: 1.0, max_buffer_bytes: 1 << 40, f16: false };
        // 1 GFLOP/s for 1 s with n = k = 1000: 1e9 / 2e6 = 500 rows.
        assert_eq!(block_rows(&cfg, node, BIG, 1000, 1000, 10_000), Some(500));
        // Never more than what is left; a sliver under a quarter block is taken along.
        assert_eq!(block_rows(&cfg, node, BIG, 1000, 1000, 300), Some(300));
        assert_eq!(block_rows(&cfg, node, BIG, 1000, 1000, 600), Some(600));
        assert_eq!(block_rows(&cfg, node, BIG, 1000, 1000, 700), Some(500));
        // A slow node still gets one row; B that does not fit the buffer gets nothing.
        let slow = NodeInfo { benchmark_gflops: 0.0, ..node };
        assert_eq!(block_rows(&cfg, slow, BIG, 1000, 1000, 10), Some(1));
        let small = NodeLimits { max_dim: 65536, max_buffer_bytes: 4 * 1000 * 999 };
        assert_eq!(block_rows(&cfg, node, small, 1000, 1000, 10), None);
        let fixed = Config { fixed_job_dim: Some(64), ..cfg };
        assert_eq!(block_rows(&fixed, node, BIG, 10, 10, 1000), Some(64));
    }
}
