//! OpenAI-compatible endpoints: `GET /v1/models` and `POST /v1/embeddings`, so the
//! OpenAI SDKs work by changing only their base URL (the API key is an Idlewatt key
//! from `POST /v1/keys`). Every error here is in OpenAI's shape
//! `{"error": {"message", "type", "param", "code"}}`. An embeddings request is an
//! ordinary escrowed client job that the handler waits for, up to the configured
//! timeout; on timeout the job is cancelled and its unspent escrow refunded.

use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::auth::now_ms;
use idlewatt_protocol::client::{ClientJobStatus, JobSubmission};
use idlewatt_protocol::npy;
use idlewatt_protocol::openai::{
    Embedding, EmbeddingVector, EmbeddingsRequest, EmbeddingsResponse, EncodingFormat, ModelList, OpenAiErrorBody,
    Usage,
};
use idlewatt_protocol::wire::ErrorKind;

use crate::client_store;
use crate::error::ApiError;
use crate::server::AppState;

fn oai(
    status: StatusCode,
    kind: &str,
    message: impl Into<String>,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    (status, Json(OpenAiErrorBody::new(kind, message, param, code))).into_response()
}

/// An [`ApiError`] in OpenAI's shape.
fn from_api(e: ApiError) -> Response {
    let (kind, code) = match e.kind {
        ErrorKind::Unauthorized => ("invalid_request_error", Some("invalid_api_key")),
        ErrorKind::NotFound => ("invalid_request_error", Some("model_not_found")),
        ErrorKind::RateLimited => ("rate_limit_error", Some("rate_limit_exceeded")),
        ErrorKind::PaymentRequired => ("insufficient_quota", Some("insufficient_quota")),
        ErrorKind::Internal => ("server_error", None),
        _ => ("invalid_request_error", None),
    };
    oai(e.status, kind, e.message, None, code)
}

/// `GET /v1/models`.
pub(crate) async fn models(State(st): State<AppState>) -> Json<ModelList> {
    let data = st.config.embeddings.as_deref().map(|s| s.models()).unwrap_or_default();
    Json(ModelList { object: "list".to_owned(), data })
}

/// `POST /v1/embeddings`.
pub(crate) async fn embeddings(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    match embeddings_inner(st, method, uri, headers, bytes).await {
        Ok(r) | Err(r) => r,
    }
}

async fn embeddings_inner(
    st: AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, Response> {
    let bytes = crate::routes::body(bytes).map_err(from_api)?;
    let caller = crate::client_auth::client(&st, &method, &uri, &headers, &bytes).await.map_err(from_api)?;
    let req: EmbeddingsRequest = serde_json::from_slice(&bytes).map_err(|e| {
        oai(StatusCode::BAD_REQUEST, "invalid_request_error", format!("malformed JSON body: {e}"), None, None)
    })?;
    let Some((_, dims)) = crate::embeddings::find(st.config.embeddings.as_deref(), &req.model) else {
        return Err(oai(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!(
                "The model `{}` does not exist or is not served by this network (GET /v1/models lists them)",
                req.model
            ),
            Some("model"),
            Some("model_not_found"),
        ));
    };
    let Some(texts) = req.input.texts() else {
        return Err(oai(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "token-id input is not supported: send the text (the network tokenizes it)",
            Some("input"),
            None,
        ));
    };
    if req.dimensions.is_some_and(|d| d != dims) {
        return Err(oai(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("this model has {dims} dimensions; other sizes are not supported"),
            Some("dimensions"),
            None,
        ));
    }
    let service = st.config.embeddings.clone().ok_or_else(|| from_api(ApiError::internal("no embeddings service")))?;
    let tokens = service
        .count_tokens(&req.model, &texts)
        .map_err(|m| oai(StatusCode::BAD_REQUEST, "invalid_request_error", m, Some("input"), None))?;
    let timeout = st.config.embeddings_timeout;
    let sub = JobSubmission::Embeddings {
        model: req.model.clone(),
        input: texts,
        // OpenAI's API has no price cap: the balance (or the key's limit) is the cap, so
        // the largest amount the ledger can hold.
        max_price: TokenAmount(crate::money::MAX_AMOUNT),
        expires_in_s: Some(timeout.as_secs().max(1) + 60),
    };
    let job = match crate::jobs_api::submit_for(&st, &caller, &sub).await.map_err(from_api)? {
        Ok(job) => job,
        // Our 402 (balance or key limit short), in OpenAI's words.
        Err(_) => {
            return Err(oai(
                StatusCode::PAYMENT_REQUIRED,
                "insufficient_quota",
                "the balance (or this key's spending limit) does not cover this request: deposit more or raise the limit",
                None,
                Some("insufficient_quota"),
            ));
        }
    };
    let started = Instant::now();
    let done = loop {
        let current = client_store::job(&st.db, &job.id).await.map_err(|e| from_api(e.into()))?.map(|(_, j)| j);
        match current {
            Some(j) if j.status == ClientJobStatus::Done => break j,
            Some(j) if j.status.is_final() => {
                return Err(oai(
                    StatusCode::BAD_GATEWAY,
                    "server_error",
                    format!("the job ended without a result: {}", j.reason.unwrap_or_default()),
                    None,
                    None,
                ));
            }
            _ => {}
        }
        if started.elapsed() >= timeout {
            let _ = client_store::cancel(&st.db, caller.address, &job.id, now_ms()).await;
            return Err(oai(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!("no node finished the request within {} s; it was cancelled and refunded", timeout.as_secs()),
                None,
                Some("timeout"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let bytes = crate::jobs_api::result_bytes(&st, &done).await.map_err(from_api)?;
    let m = npy::read(&bytes, u64::MAX).map_err(|e| from_api(ApiError::internal(e)))?;
    let format = req.encoding_format.unwrap_or_default();
    let data = m
        .data
        .chunks_exact(m.cols.max(1))
        .enumerate()
        .map(|(i, v)| Embedding {
            object: "embedding".to_owned(),
            embedding: match format {
                EncodingFormat::Float => EmbeddingVector::Float(v.to_vec()),
                EncodingFormat::Base64 => EmbeddingVector::Base64(
                    base64::engine::general_purpose::STANDARD
                        .encode(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()),
                ),
            },
            index: u32::try_from(i).unwrap_or(u32::MAX),
        })
        .collect();
    Ok(Json(EmbeddingsResponse {
        object: "list".to_owned(),
        data,
        model: req.model,
        usage: Usage { prompt_tokens: tokens, total_tokens: tokens },
    })
    .into_response())
}
