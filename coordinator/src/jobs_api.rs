//! The client jobs API (`/v1/jobs`): submit a job with a maximum price (quoted from
//! the price list, held in escrow in the same transaction as the balance check, 402
//! with the amounts when money is short), follow it, list one's own, cancel it (the
//! unspent escrow is refunded) and download its result. A client sees and cancels
//! only its own jobs: another's job is answered 404, as if it did not exist.

use alloy::primitives::Address;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::auth::now_ms;
use idlewatt_protocol::client::{
    ClientJob, ClientJobKind, ClientJobList, ClientJobStatus, JobSubmission, MatmulShape, PaymentRequiredBody,
    Shortfall, ShortfallReason, matmul_price,
};
use idlewatt_protocol::wire::{ErrorDetail, ErrorKind};

use crate::blobs;
use crate::client_auth::{Caller, client};
use crate::client_store::{self, NewClientJob};
use crate::config::HARD_MAX_DIM;
use crate::datadir::is_sha256_hex;
use crate::error::ApiError;
use crate::routes::{body, parse, random_id};
use crate::server::AppState;

/// A validated submission, ready to be priced and escrowed.
pub(crate) type Validated = NewClientJob;

/// The 402 answer for `s`.
pub(crate) fn payment_required(s: Shortfall) -> Response {
    let message = match s.reason {
        ShortfallReason::Balance => format!(
            "the job costs {} tokens but the available balance is {}: deposit (or use the faucet) at least {} more",
            s.price.to_token_string(),
            s.available.to_token_string(),
            s.needed.to_token_string()
        ),
        ShortfallReason::MaxPrice => format!(
            "the job's price is {} tokens, above your max_price of {}",
            s.price.to_token_string(),
            s.available.to_token_string()
        ),
        ShortfallReason::SpendingLimit => format!(
            "the job costs {} tokens but this API key may commit only {} more",
            s.price.to_token_string(),
            s.available.to_token_string()
        ),
    };
    let body = PaymentRequiredBody { error: ErrorDetail { kind: ErrorKind::PaymentRequired, message }, payment: s };
    (StatusCode::PAYMENT_REQUIRED, Json(body)).into_response()
}

/// A blob a submission names, or a 400 saying to upload it.
async fn blob_meta(st: &AppState, name: &str, sha: &str) -> Result<blobs::BlobMeta, ApiError> {
    blobs::meta(&st.db, sha).await?.ok_or_else(|| {
        ApiError::bad_request(format!("{name}: blob {sha} was not uploaded (PUT /v1/blobs/{sha} first)"))
    })
}

/// Checks a submission and quotes it. `Ok(Err(response))` when the answer is already
/// decided (402 for a price above the maximum).
pub(crate) async fn validate(
    st: &AppState,
    sub: &JobSubmission,
    now: i64,
) -> Result<Result<Validated, Response>, ApiError> {
    let cfg = &st.config;
    let expiry_s = sub.expires_in_s().map_or(cfg.default_job_expiry.as_secs(), |s| s);
    if expiry_s == 0 || expiry_s > cfg.max_job_expiry.as_secs() {
        return Err(ApiError::bad_request(format!(
            "expires_in_s must be in 1..={} seconds",
            cfg.max_job_expiry.as_secs()
        )));
    }
    let expires_at_ms = now + i64::try_from(expiry_s.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
    let job = match sub {
        JobSubmission::Matmul { a_sha256, b_sha256, precision, max_price, .. } => {
            for (name, sha) in [("a_sha256", a_sha256), ("b_sha256", b_sha256)] {
                if !is_sha256_hex(sha) {
                    return Err(ApiError::bad_request(format!("{name} must be 64 lowercase hex digits")));
                }
            }
            let a = blob_meta(st, "A", a_sha256).await?;
            let b = blob_meta(st, "B", b_sha256).await?;
            if a.dtype != b.dtype || a.dtype.precision() != *precision {
                return Err(ApiError::bad_request(format!(
                    "precision {precision} needs A and B stored as {} (A is {}, B is {})",
                    if *precision == idlewatt_protocol::Precision::F16 { "<f2" } else { "<f4" },
                    a.dtype.descr(),
                    b.dtype.descr()
                )));
            }
            if a.cols != b.rows {
                return Err(ApiError::bad_request(format!(
                    "shapes do not match: A is {}×{} and B is {}×{} (A's columns must equal B's rows)",
                    a.rows, a.cols, b.rows, b.cols
                )));
            }
            let (m, k, n) = (a.rows, a.cols, b.cols);
            let max = u64::from(HARD_MAX_DIM) * u64::from(HARD_MAX_DIM);
            if m == 0 || n == 0 || k == 0 || n > max || k > max || m > max {
                return Err(ApiError::bad_request(format!("A·B of {m}×{k} by {k}×{n} is empty or too large")));
            }
            let dims = (u32::try_from(m), u32::try_from(n), u32::try_from(k));
            let (Ok(m32), Ok(n32), Ok(k32)) = dims else {
                return Err(ApiError::bad_request("a dimension above 2^32"));
            };
            let price = matmul_price(m32, n32, k32, cfg.reward_per_tflop)
                .ok_or_else(|| ApiError::bad_request("the job is too large to price"))?;
            NewClientJob {
                id: random_id()?,
                kind: ClientJobKind::Matmul,
                matmul: Some((
                    a_sha256.clone(),
                    b_sha256.clone(),
                    MatmulShape { m: m32, n: n32, k: k32, precision: *precision },
                )),
                model: None,
                input_json: None,
                total_units: m,
                price,
                max_price: *max_price,
                expires_at_ms,
            }
        }
        JobSubmission::Embeddings { model, input, max_price, .. } => {
            let Some((_, _dims)) = crate::embeddings::find(cfg.embeddings.as_deref(), model) else {
                return Err(ApiError::not_found(format!("the model {model:?} is not served here (GET /v1/models)")));
            };
            if input.is_empty() || input.len() > 2048 {
                return Err(ApiError::bad_request("input must hold 1 to 2048 texts"));
            }
            let service = cfg.embeddings.as_deref().ok_or_else(|| ApiError::internal("no embeddings service"))?;
            let tokens = service.count_tokens(model, input).map_err(ApiError::bad_request)?;
            let price =
                TokenAmount(u128::from(tokens).saturating_mul(cfg.embeddings_per_1k_tokens.0).div_ceil(1000).max(1));
            NewClientJob {
                id: random_id()?,
                kind: ClientJobKind::Embeddings,
                matmul: None,
                model: Some(model.clone()),
                input_json: Some(serde_json::to_string(input).map_err(ApiError::internal)?),
                total_units: input.len() as u64,
                price,
                max_price: *max_price,
                expires_at_ms,
            }
        }
    };
    if job.price > job.max_price {
        return Ok(Err(payment_required(Shortfall {
            reason: ShortfallReason::MaxPrice,
            price: job.price,
            available: job.max_price,
            needed: TokenAmount(job.price.0 - job.max_price.0),
        })));
    }
    Ok(Ok(job))
}

/// Validates, prices and escrows a job for `caller`.
pub(crate) async fn submit_for(
    st: &AppState,
    caller: &Caller,
    sub: &JobSubmission,
) -> Result<Result<ClientJob, Response>, ApiError> {
    let now = now_ms();
    let job = match validate(st, sub, now).await? {
        Ok(job) => job,
        Err(response) => return Ok(Err(response)),
    };
    match client_store::create_job(&st.db, caller.address, caller.key_id.as_deref(), &job, now).await? {
        Ok(view) => {
            tracing::info!(client = %caller.address, job = %view.id, kind = ?view.kind, price = %view.price, "client job accepted");
            Ok(Ok(view))
        }
        Err(shortfall) => Ok(Err(payment_required(shortfall))),
    }
}

/// `POST /v1/jobs`.
pub(crate) async fn submit(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body(bytes)?;
    let caller = client(&st, &method, &uri, &headers, &bytes).await?;
    let sub: JobSubmission = parse(&bytes)?;
    Ok(match submit_for(&st, &caller, &sub).await? {
        Ok(view) => (StatusCode::CREATED, Json(view)).into_response(),
        Err(response) => response,
    })
}

/// The caller's job `id`, or 404 (also for another client's job).
async fn own_job(st: &AppState, who: Address, id: &str) -> Result<ClientJob, ApiError> {
    match client_store::job(&st.db, id).await? {
        Some((owner, job)) if owner == who => Ok(job),
        _ => Err(ApiError::not_found("no such job for this client")),
    }
}

/// `GET /v1/jobs/{id}`.
pub(crate) async fn get(
    State(st): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<ClientJob>, ApiError> {
    let caller = client(&st, &method, &uri, &headers, b"").await?;
    Ok(Json(own_job(&st, caller.address, &id).await?))
}

/// `GET /v1/jobs`.
pub(crate) async fn list(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<ClientJobList>, ApiError> {
    let caller = client(&st, &method, &uri, &headers, b"").await?;
    Ok(Json(ClientJobList { jobs: client_store::list_jobs(&st.db, caller.address).await? }))
}

/// `DELETE /v1/jobs/{id}`.
pub(crate) async fn cancel(
    State(st): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<ClientJob>, ApiError> {
    let caller = client(&st, &method, &uri, &headers, b"").await?;
    match client_store::cancel(&st.db, caller.address, &id, now_ms()).await? {
        None => Err(ApiError::not_found("no such job for this client")),
        Some(false) => {
            let job = own_job(&st, caller.address, &id).await?;
            Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorKind::Conflict,
                format!("the job is already {:?}; nothing to cancel", job.status).to_lowercase(),
            ))
        }
        Some(true) => {
            tracing::info!(client = %caller.address, job = %id, "client job cancelled");
            Ok(Json(own_job(&st, caller.address, &id).await?))
        }
    }
}

/// The assembled result matrix of a done job, as `.npy` bytes.
pub(crate) async fn result_bytes(st: &AppState, job: &ClientJob) -> Result<Vec<u8>, ApiError> {
    if job.status != ClientJobStatus::Done {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorKind::Conflict,
            format!(
                "the job is {} ({} of {} rows verified); its result exists once it is done",
                format!("{:?}", job.status).to_lowercase(),
                job.progress.done,
                job.progress.total
            ),
        ));
    }
    let cols = match (&job.matmul, &job.model) {
        (Some(s), _) => u64::from(s.n),
        (None, Some(model)) => crate::embeddings::find(st.config.embeddings.as_deref(), model)
            .map(|(_, d)| u64::from(d))
            .ok_or_else(|| ApiError::internal("the model of a done job is no longer served"))?,
        (None, None) => return Err(ApiError::internal("job without a shape")),
    };
    crate::results::assemble(&st.db, &st.data, &job.id, job.progress.total, cols).await.map_err(ApiError::internal)
}

/// `GET /v1/jobs/{id}/result`: C as `.npy`.
pub(crate) async fn result(
    State(st): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = client(&st, &method, &uri, &headers, b"").await?;
    let job = own_job(&st, caller.address, &id).await?;
    let bytes = result_bytes(&st, &job).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{id}.npy\"")),
        ],
        Body::from(bytes),
    )
        .into_response())
}
