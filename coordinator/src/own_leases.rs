//! A node's own leases, so that a crash costs it nothing but the lost GPU time:
//! `POST /v1/leases/{id}/release` gives back a lease it will not finish (the job is
//! open again at once, the node's slot is free), and `GET /v1/leases` (signed) lists
//! the leases it holds, so a restarted node can resume or release them instead of
//! waiting for their deadlines. Both are signed by the lease's node; nothing here
//! credits anything.

use alloy::primitives::Address;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use idlewatt_protocol::auth::now_ms;
use idlewatt_protocol::wire::{ErrorKind, Lease, LeaseReleased};
use sqlx::Row;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::server::AppState;
use crate::store::{self, Db, addr};

/// `POST /v1/leases/{id}/release`.
pub(crate) async fn release(
    State(st): State<AppState>,
    Path(lease_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<LeaseReleased>, ApiError> {
    let bytes = crate::routes::body(bytes)?;
    let who = authenticate(&st, &method, &uri, &headers, &bytes).await?;
    if lease_id.len() > 64 {
        return Err(ApiError::not_found("no such lease"));
    }
    let lease = store::lease(&st.db, &lease_id).await?.ok_or_else(|| ApiError::not_found("no such lease"))?;
    if lease.node != addr(who) {
        return Err(ApiError::forbidden("this lease belongs to another node"));
    }
    match lease.status.as_str() {
        "open" => {
            if !release_open(&st.db, &lease.id, &lease.job_id, now_ms()).await? {
                // Judged or expired in the meantime: say what it is now.
                let now = store::lease(&st.db, &lease_id).await?.map(|l| l.status).unwrap_or_default();
                if now != "released" {
                    return Err(not_open(&now));
                }
            }
            tracing::info!(node = %who, lease = %lease.id, job = %lease.job_id, "lease released; job reopened");
        }
        "released" => {}
        other => return Err(not_open(other)),
    }
    Ok(Json(LeaseReleased { lease_id: lease.id, job_id: lease.job_id }))
}

fn not_open(status: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        ErrorKind::Conflict,
        format!("the lease is {status}, not open: nothing to release"),
    )
}

/// `GET /v1/leases` (signed): the caller's open leases, oldest first.
pub(crate) async fn mine(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Vec<Lease>>, ApiError> {
    let who = authenticate(&st, &method, &uri, &headers, b"").await?;
    Ok(Json(open_leases(&st.db, who, now_ms()).await?))
}

/// Marks an open lease released and reopens its job, in one transaction; `false` if
/// it was no longer open.
async fn release_open(db: &Db, lease_id: &str, job_id: &str, now_ms: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let r = sqlx::query("UPDATE leases SET status = 'released', finished_at_ms = $1 WHERE id = $2 AND status = 'open'")
        .bind(now_ms)
        .bind(lease_id)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE jobs SET status = 'open' WHERE id = $1 AND status = 'leased'")
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// The open leases of `who` whose deadline has not passed.
async fn open_leases(db: &Db, who: Address, now_ms: i64) -> Result<Vec<Lease>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT l.id FROM leases l WHERE l.node = $1 AND l.status = 'open' AND l.deadline_ms >= $2
         ORDER BY l.issued_at_ms, l.id LIMIT 64",
    )
    .bind(addr(who))
    .bind(now_ms)
    .fetch_all(db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.try_get("id")?;
        if let Some(l) = store::lease(db, &id).await? {
            out.push(Lease {
                lease_id: l.id,
                job_id: l.job_id,
                job: l.spec,
                issued_at_ms: l.issued_at_ms,
                deadline_ms: l.deadline_ms,
                reward: l.reward,
            });
        }
    }
    Ok(out)
}
