//! Authenticating a signed request: the protocol crate checks the signature and the
//! timestamp, this module adds what needs state. The order is the point: first the
//! signature (no state touched: a forged request costs the coordinator one signature
//! recovery), then a read-only replay check, then the address's request budget, and
//! only a request that passed all of them writes its nonce — so a refused or
//! rate-limited request leaves nothing in the database.

use alloy::primitives::Address;
use axum::http::{HeaderMap, Method, Uri};
use idlewatt_protocol::auth::{self, AuthError, AuthHeaders, MAX_CLOCK_SKEW_MS};

use crate::error::ApiError;
use crate::server::AppState;

/// Checks a signed request whose body is already read; returns its signer.
pub(crate) async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Address, ApiError> {
    let body_sha256 = auth::body_sha256(body);
    let (address, h) = check_signature(method, uri, headers, Some(&body_sha256))?;
    admit(state, address, &h).await?;
    Ok(address)
}

/// The auth headers, if the request carries any (a GET may be signed or not).
pub(crate) fn is_signed(headers: &HeaderMap) -> bool {
    headers.contains_key(auth::HEADER_SIGNATURE) || headers.contains_key(auth::HEADER_ADDRESS)
}

/// Step 1, no state: parses the headers and checks the signature over `body_sha256`
/// (the body's hash when it was read, else the declared `x-idlewatt-content-sha256`,
/// which must then be present and is checked against the body when it is read).
pub(crate) fn check_signature(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body_sha256: Option<&str>,
) -> Result<(Address, AuthHeaders), ApiError> {
    let h = AuthHeaders::from_lookup(|name| headers.get(name).and_then(|v| v.to_str().ok())).map_err(|e| reject(&e))?;
    let path = uri.path_and_query().map_or_else(|| uri.path(), |pq| pq.as_str());
    let hash = match (body_sha256, h.body_sha256.as_deref()) {
        (Some(read), Some(declared)) if read != declared => return Err(body_mismatch()),
        (Some(read), _) => read.to_owned(),
        (None, Some(declared)) => declared.to_owned(),
        (None, None) => return Err(reject(&AuthError::MissingHeader(auth::HEADER_CONTENT_SHA256))),
    };
    let address = auth::verify_declared(&h, method.as_str(), path, &hash, auth::now_ms()).map_err(|e| reject(&e))?;
    Ok((address, h))
}

/// Steps 2–4: the nonce is new (read only), the address has budget, then the nonce is
/// remembered (until its timestamp is stale).
pub(crate) async fn admit(state: &AppState, address: Address, h: &AuthHeaders) -> Result<(), ApiError> {
    if crate::store::nonce_seen(&state.db, address, &h.nonce).await? {
        return Err(reject(&AuthError::ReplayedNonce(h.nonce.clone())));
    }
    if let Err(refused) = state.limiter.take(&address) {
        return Err(ApiError::rate_limited(
            "too many requests from this address; slow down (work you return does not count)",
            refused.retry_after_secs(),
        ));
    }
    if !crate::store::remember_nonce(&state.db, address, &h.nonce, h.timestamp_ms + MAX_CLOCK_SKEW_MS + 1000).await? {
        // A concurrent request with the same nonce won.
        state.limiter.refund(&address);
        return Err(reject(&AuthError::ReplayedNonce(h.nonce.clone())));
    }
    Ok(())
}

/// The body is not the one the signature covers (401: the request was altered).
pub(crate) fn body_mismatch() -> ApiError {
    ApiError::unauthorized(format!(
        "the body does not match {}, which the signature covers: it was altered or truncated",
        auth::HEADER_CONTENT_SHA256
    ))
}

fn reject(e: &AuthError) -> ApiError {
    tracing::debug!(reason = %e, "unauthorized request");
    ApiError::unauthorized(e.to_string())
}
