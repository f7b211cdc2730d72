//! Content-addressed input blobs (`PUT`/`GET /v1/blobs/{sha256}`): a client uploads
//! each `.npy` matrix once under its SHA-256 before submitting jobs that name it. The
//! upload is size-capped before the body is read, its hash is checked (400 on a
//! mismatch), its `.npy` header is validated (400 with the reason), and a known blob
//! is not stored twice. Nodes holding a lease on a job that uses a blob download it;
//! a blob no unfinished job refers to is deleted after a grace period ([`collect`]).

use alloy::primitives::Address;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use idlewatt_protocol::auth::now_ms;
use idlewatt_protocol::client::BlobStored;
use idlewatt_protocol::npy;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::datadir::{is_sha256_hex, write_atomic};
use crate::error::ApiError;
use crate::routes::body;
use crate::server::AppState;
use crate::store::{Db, addr};

/// Largest input magnitude: products stay below 10³⁰ and sums of up to 2¹⁶·2¹⁶ of them
/// far below f32's 3.4·10³⁸, so an honest C is always finite.
pub(crate) const MAX_INPUT_MAGNITUDE: f32 = 1e15;

/// What is known of a stored blob.
#[derive(Debug, Clone)]
pub(crate) struct BlobMeta {
    pub(crate) sha256: String,
    pub(crate) size: u64,
    pub(crate) dtype: npy::Dtype,
    pub(crate) rows: u64,
    pub(crate) cols: u64,
}

impl BlobMeta {
    fn answer(&self) -> BlobStored {
        BlobStored {
            sha256: self.sha256.clone(),
            size: self.size,
            dtype: self.dtype.precision(),
            shape: [self.rows, self.cols],
        }
    }
}

/// A stored blob's metadata.
pub(crate) async fn meta(db: &Db, sha256: &str) -> Result<Option<BlobMeta>, sqlx::Error> {
    let row = sqlx::query("SELECT size, dtype, rows, cols FROM blobs WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(db)
        .await?;
    row.map(|r| {
        let n = |c: &str| -> Result<u64, sqlx::Error> {
            u64::try_from(r.try_get::<i64, _>(c)?).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        };
        Ok(BlobMeta {
            sha256: sha256.to_owned(),
            size: n("size")?,
            dtype: if r.try_get::<String, _>("dtype")? == "f16" { npy::Dtype::F16 } else { npy::Dtype::F32 },
            rows: n("rows")?,
            cols: n("cols")?,
        })
    })
    .transpose()
}

fn check_name(sha256: &str) -> Result<(), ApiError> {
    if is_sha256_hex(sha256) {
        Ok(())
    } else {
        Err(ApiError::bad_request("a blob is named by the SHA-256 of its bytes: 64 lowercase hex digits"))
    }
}

/// `PUT /v1/blobs/{sha256}`.
pub(crate) async fn put(
    State(st): State<AppState>,
    Path(sha256): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_name(&sha256)?;
    let bytes = body(bytes)?;
    let caller = crate::client_auth::client(&st, &method, &uri, &headers, &bytes).await?;
    let computed = alloy::hex::encode(Sha256::digest(&bytes));
    if computed != sha256 {
        return Err(ApiError::bad_request(format!(
            "the body's SHA-256 is {computed}, not {sha256}: the upload was altered or named wrongly"
        )));
    }
    let h = npy::read_header(&bytes, st.config.max_blob_bytes)
        .map_err(|e| ApiError::bad_request(format!("not an acceptable .npy matrix: {e}")))?;
    if let Some(known) = meta(&st.db, &sha256).await?
        && st.data.blob(&sha256).exists()
    {
        return Ok((StatusCode::OK, Json(known.answer())).into_response());
    }
    let path = st.data.blob(&sha256);
    let data = bytes.clone();
    let offset = h.data_offset;
    let dtype = h.dtype;
    tokio::task::spawn_blocking(move || {
        let values = npy::decode(dtype, &data[offset..]);
        if let Some(i) = values.iter().position(|x| !x.is_finite() || x.abs() > MAX_INPUT_MAGNITUDE) {
            return Ok(Err(ApiError::bad_request(format!(
                "value {i} (row-major) is {}: inputs must be finite and at most {MAX_INPUT_MAGNITUDE:e} in magnitude, so that C cannot overflow f32",
                values[i]
            ))));
        }
        write_atomic(&path, &data).map(Ok)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)??;
    let m = BlobMeta {
        sha256: sha256.clone(),
        size: bytes.len() as u64,
        dtype: h.dtype,
        rows: h.rows as u64,
        cols: h.cols as u64,
    };
    sqlx::query(
        "INSERT INTO blobs (sha256, size, dtype, rows, cols, uploader, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(&sha256)
    .bind(i64::try_from(m.size).unwrap_or(i64::MAX))
    .bind(m.dtype.precision().as_str())
    .bind(i64::try_from(m.rows).unwrap_or(i64::MAX))
    .bind(i64::try_from(m.cols).unwrap_or(i64::MAX))
    .bind(addr(caller.address))
    .bind(now_ms())
    .execute(&st.db)
    .await?;
    tracing::info!(blob = %sha256, size = m.size, rows = m.rows, cols = m.cols, client = %caller.address, "blob stored");
    Ok((StatusCode::CREATED, Json(m.answer())).into_response())
}

/// Whether `who` may read blob `sha256`: its uploader, a client with a job on it, or
/// a node holding an open lease on such a job.
async fn may_read(db: &Db, who: Address, sha256: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM blobs WHERE sha256 = $1 AND uploader = $2)
              + (SELECT COUNT(*) FROM client_jobs WHERE client = $2 AND (a_sha256 = $1 OR b_sha256 = $1))
              + (SELECT COUNT(*) FROM leases l JOIN jobs j ON j.id = l.job_id JOIN client_jobs cj ON cj.id = j.client_job_id
                 WHERE l.node = $2 AND l.status = 'open' AND (cj.a_sha256 = $1 OR cj.b_sha256 = $1))",
    )
    .bind(sha256)
    .bind(addr(who))
    .fetch_one(db)
    .await?;
    Ok(n > 0)
}

/// `GET /v1/blobs/{sha256}` (signed, or a client's API key).
pub(crate) async fn get(
    State(st): State<AppState>,
    Path(sha256): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_name(&sha256)?;
    let caller = crate::client_auth::client(&st, &method, &uri, &headers, b"").await?;
    if meta(&st.db, &sha256).await?.is_none() || !may_read(&st.db, caller.address, &sha256).await? {
        return Err(ApiError::not_found(
            "no such blob for this caller (nodes read a blob while they hold a lease on it)",
        ));
    }
    let path = st.data.blob(&sha256);
    let bytes = tokio::fs::read(&path).await.map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], Body::from(bytes)).into_response())
}

/// Deletes blobs older than `grace_ms` that no unfinished job refers to; returns how many.
pub(crate) async fn collect(st: &AppState, now_ms: i64) -> Result<u64, sqlx::Error> {
    let grace = i64::try_from(st.config.blob_grace.as_millis()).unwrap_or(i64::MAX);
    // One statement: a job submitted meanwhile either sees the row (and keeps the
    // blob alive) or finds it gone and is refused. Rows go before files: a file whose
    // row is gone is simply uploaded again by its client.
    let old: Vec<String> = sqlx::query_scalar(
        "DELETE FROM blobs WHERE created_at_ms < $1 AND NOT EXISTS (
             SELECT 1 FROM client_jobs cj WHERE cj.status IN ('queued', 'running')
                 AND (cj.a_sha256 = blobs.sha256 OR cj.b_sha256 = blobs.sha256))
         RETURNING sha256",
    )
    .bind(now_ms.saturating_sub(grace))
    .fetch_all(&st.db)
    .await?;
    for sha in &old {
        if let Err(e) = std::fs::remove_file(st.data.blob(sha))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(blob = %sha, error = %e, "could not delete a collected blob's file");
        }
    }
    if !old.is_empty() {
        tracing::info!(collected = old.len(), "unreferenced blobs deleted");
    }
    Ok(old.len() as u64)
}
