//! Who is calling a client endpoint: a request signed by a wallet (as nodes sign), or
//! one carrying `Authorization: Bearer <api key>`. A key is looked up by its SHA-256
//! (the key itself is never stored, compared or logged) and must be neither revoked
//! nor expired; its use is recorded. Key management itself requires a signature.

use alloy::primitives::Address;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use idlewatt_protocol::auth::{HEADER_SIGNATURE, now_ms};
use idlewatt_protocol::client::{API_KEY_PREFIX, BEARER};
use idlewatt_protocol::wire::ErrorKind;
use sha2::{Digest, Sha256};

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::server::AppState;

/// An authenticated client.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The client's wallet address.
    pub(crate) address: Address,
    /// The API key used, if the request carried one (`None`: signed).
    pub(crate) key_id: Option<String>,
}

/// Lowercase hex SHA-256 of an API key: the only form in which it is stored.
pub(crate) fn key_hash(key: &str) -> String {
    alloy::hex::encode(Sha256::digest(key.as_bytes()))
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case(BEARER).then_some(token.trim())
}

/// Why a key was refused (the message never contains the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRefusal {
    /// No key has this hash.
    Unknown,
    /// Revoked.
    Revoked,
    /// Past its expiry.
    Expired,
}

impl KeyRefusal {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Unknown => "invalid API key",
            Self::Revoked => "this API key was revoked",
            Self::Expired => "this API key has expired",
        }
    }
}

/// Resolves a bearer key to its client, recording its use.
pub(crate) async fn resolve_key(st: &AppState, key: &str) -> Result<Result<Caller, KeyRefusal>, ApiError> {
    if !key.starts_with(API_KEY_PREFIX) || key.len() > 128 {
        return Ok(Err(KeyRefusal::Unknown));
    }
    let now = now_ms();
    let Some(found) = crate::client_store::key_by_hash(&st.db, &key_hash(key)).await? else {
        return Ok(Err(KeyRefusal::Unknown));
    };
    if found.revoked_at_ms.is_some() {
        return Ok(Err(KeyRefusal::Revoked));
    }
    if found.expires_at_ms.is_some_and(|t| t <= now) {
        return Ok(Err(KeyRefusal::Expired));
    }
    crate::client_store::touch_key(&st.db, &found.id, now).await?;
    Ok(Ok(Caller { address: found.client, key_id: Some(found.id) }))
}

/// Authenticates a client request: a bearer key if one is present, else a signature.
pub(crate) async fn client(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Caller, ApiError> {
    if let Some(key) = bearer(headers) {
        if headers.contains_key(HEADER_SIGNATURE) {
            return Err(ApiError::bad_request("send either a signature or an API key, not both"));
        }
        return resolve_key(st, key)
            .await?
            .map_err(|r| ApiError::new(StatusCode::UNAUTHORIZED, ErrorKind::Unauthorized, r.message()));
    }
    let address = authenticate(st, method, uri, headers, body).await?;
    Ok(Caller { address, key_id: None })
}

/// Authenticates a request that must be signed (key management, the faucet).
pub(crate) async fn signed(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Address, ApiError> {
    if bearer(headers).is_some() {
        return Err(ApiError::forbidden(
            "this call needs a signature from the client's wallet; an API key cannot manage keys or use the faucet",
        ));
    }
    authenticate(st, method, uri, headers, body).await
}
