//! Authenticating a signed request: the protocol crate checks the signature and the
//! timestamp, this module adds what needs state — the nonce is new (remembered in the
//! database until its timestamp is stale) and the address is within its rate.

use alloy::primitives::Address;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use idlewatt_protocol::auth::{self, AuthError, AuthHeaders, MAX_CLOCK_SKEW_MS};
use idlewatt_protocol::wire::ErrorKind;

use crate::error::ApiError;
use crate::server::AppState;

/// Checks a signed request; returns its signer.
pub(crate) async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Address, ApiError> {
    let parsed = AuthHeaders::from_lookup(|name| headers.get(name).and_then(|v| v.to_str().ok()));
    let now = auth::now_ms();
    let path = uri.path_and_query().map_or_else(|| uri.path(), |pq| pq.as_str());
    let address = parsed.and_then(|h| auth::verify_request(&h, method.as_str(), path, body, now).map(|a| (a, h)));
    let (address, h) = address.map_err(|e| reject(&e))?;
    if !crate::store::remember_nonce(&state.db, address, &h.nonce, h.timestamp_ms + MAX_CLOCK_SKEW_MS + 1000).await? {
        return Err(reject(&AuthError::ReplayedNonce(h.nonce)));
    }
    if !state.limiter.allow(address) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::RateLimited,
            "too many requests from this address; slow down",
        ));
    }
    Ok(address)
}

fn reject(e: &AuthError) -> ApiError {
    tracing::debug!(reason = %e, "unauthorized request");
    ApiError::unauthorized(e.to_string())
}
