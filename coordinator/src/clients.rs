//! Client accounts over HTTP: API keys (`/v1/keys`, signed), the devnet faucet
//! (`/v1/faucet`), a client's balances (`/v1/clients/{address}`), where to deposit
//! (`/v1/deposit`) and the public price list (`/v1/prices`). A new key is shown once
//! and stored as its SHA-256; neither the key nor its hash is ever logged.

use alloy::primitives::{Address, B256};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::auth::now_ms;
use idlewatt_protocol::client::{
    API_KEY_PREFIX, ClientAccount, DepositInfo, FaucetGrant, FaucetRequest, KeyCreate, KeyCreated, KeyInfo, KeyList,
    PriceList,
};
use idlewatt_protocol::wire::ErrorKind;

use crate::client_auth::{key_hash, signed};
use crate::client_store::{self, NewKey};
use crate::error::ApiError;
use crate::routes::{body, parse, random_id};
use crate::server::AppState;

/// `POST /v1/keys`: a new API key for the signer, shown once.
pub(crate) async fn create_key(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body(bytes)?;
    let who = signed(&st, &method, &uri, &headers, &bytes).await?;
    let req: KeyCreate = if bytes.is_empty() { KeyCreate::default() } else { parse(&bytes)? };
    if req.label.len() > 64 {
        return Err(ApiError::bad_request("label is longer than 64 bytes"));
    }
    let now = now_ms();
    if req.expires_at_ms.is_some_and(|t| t <= now) {
        return Err(ApiError::bad_request("expires_at_ms is in the past"));
    }
    let secret = B256::try_random().map_err(ApiError::internal)?;
    let key = format!("{API_KEY_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.0));
    let new = NewKey {
        id: random_id()?,
        hash: key_hash(&key),
        prefix: key.chars().take(8).collect(),
        label: req.label,
        spending_limit: req.spending_limit,
        expires_at_ms: req.expires_at_ms,
    };
    let info = client_store::create_key(&st.db, who, &new, now).await?;
    tracing::info!(client = %who, key_id = %info.id, "API key created");
    Ok((StatusCode::CREATED, Json(KeyCreated { key, info })).into_response())
}

/// `GET /v1/keys`: the signer's keys (never the keys themselves).
pub(crate) async fn list_keys(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<KeyList>, ApiError> {
    let who = signed(&st, &method, &uri, &headers, b"").await?;
    Ok(Json(KeyList { keys: client_store::list_keys(&st.db, who).await? }))
}

/// `DELETE /v1/keys/{id}`: revokes one of the signer's keys (idempotent).
pub(crate) async fn revoke_key(
    State(st): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<KeyInfo>, ApiError> {
    let who = signed(&st, &method, &uri, &headers, b"").await?;
    let info = client_store::revoke_key(&st.db, who, &id, now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("this client has no such key"))?;
    tracing::info!(client = %who, key_id = %info.id, "API key revoked");
    Ok(Json(info))
}

/// `POST /v1/faucet`: devnet tokens for the signer, capped per address.
pub(crate) async fn faucet(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<FaucetGrant>, ApiError> {
    let bytes = body(bytes)?;
    let who = signed(&st, &method, &uri, &headers, &bytes).await?;
    if st.config.chain.is_some() {
        return Err(ApiError::forbidden(
            "this network pays in real tokens on chain: there is no faucet. Deposit tokens instead (GET /v1/deposit says where)",
        ));
    }
    let req: FaucetRequest = if bytes.is_empty() { FaucetRequest::default() } else { parse(&bytes)? };
    let want = req.amount.unwrap_or(st.config.faucet_grant);
    if want == TokenAmount::ZERO {
        return Err(ApiError::bad_request("amount must be above zero"));
    }
    let grant = client_store::faucet(&st.db, who, &random_id()?, want, st.config.faucet_cap, now_ms()).await?;
    if grant.credited == TokenAmount::ZERO {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::RateLimited,
            format!(
                "this address already received the faucet's cap of {} tokens",
                st.config.faucet_cap.to_token_string()
            ),
        ));
    }
    tracing::info!(client = %who, credited = %grant.credited, "faucet grant");
    Ok(Json(FaucetGrant { address: who, credited: grant.credited, balance: grant.balance, remaining: grant.remaining }))
}

/// `GET /v1/clients/{address}`: a client's balances (public, like node accounts).
pub(crate) async fn account(
    State(st): State<AppState>,
    Path(address): Path<String>,
) -> Result<Json<ClientAccount>, ApiError> {
    let who: Address = address.parse().map_err(|e| ApiError::bad_request(format!("not an address: {e}")))?;
    Ok(Json(client_store::account(&st.db, who).await?))
}

/// `GET /v1/deposit`: where clients send tokens.
pub(crate) async fn deposit_info(State(st): State<AppState>) -> Json<DepositInfo> {
    let chain = st.config.chain.as_ref();
    Json(DepositInfo {
        devnet: chain.is_none(),
        chain_id: crate::withdrawals::chain_id(&st),
        token_address: chain.map(|c| c.token),
        treasury: st.chain.as_ref().map(|c| c.treasury()),
        confirmations: chain.map_or(0, |c| c.confirmations),
        token_symbol: st.config.token_symbol.clone(),
        faucet: chain.is_none(),
    })
}

/// The price list (also what the node's earnings estimate reads).
pub(crate) fn price_list(st: &AppState) -> PriceList {
    PriceList {
        matmul_per_tflop: st.config.reward_per_tflop,
        embeddings_per_1k_tokens: st.config.embeddings_per_1k_tokens,
        fee_bps: st.config.fee_bps,
        token_symbol: st.config.token_symbol.clone(),
        reference: st.config.reference_value.clone(),
        calibration_budget: st.config.bootstrap_budget > TokenAmount::ZERO,
    }
}

/// `GET /v1/prices`.
pub(crate) async fn prices(State(st): State<AppState>) -> Json<PriceList> {
    Json(price_list(&st))
}
