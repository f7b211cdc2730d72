//! The layers every request passes before a handler: the per-source-range request
//! budget, tower-http's body and whole-request timeouts, and the rewrite of any error
//! answer that is not yet in the protocol's one JSON shape (axum's own 404/405, an
//! extractor's plain-text rejection, a timeout's empty 408) into an [`ErrorBody`].
//! Connection-level limits (header/idle timeout, connection count) live in `serve`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use idlewatt_protocol::wire::ErrorKind;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::error::ApiError;
use crate::netrange::range_of;
use crate::server::AppState;

/// Wraps the API router in the front-door layers (outermost first: JSON errors, the
/// range budget, the request timeout, the body timeout).
pub(crate) fn wrap(router: Router, state: &AppState) -> Router {
    let l = &state.config.limits;
    router
        .layer(RequestBodyTimeoutLayer::new(l.body_timeout))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, l.request_timeout))
        .layer(middleware::from_fn_with_state(state.clone(), range_budget))
        .layer(middleware::map_response(json_errors))
}

/// The client's IP: what the accept loop recorded (requests that did not come over a
/// socket, e.g. in-process tests, count as 0.0.0.0).
pub(crate) fn source_ip(req_ext: &axum::http::Extensions) -> IpAddr {
    req_ext.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// Takes one request from the source range's budget; refused with 429 and `Retry-After`.
async fn range_budget(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let range = range_of(source_ip(req.extensions()));
    match st.range_limiter.take(&range) {
        Ok(()) => next.run(req).await,
        Err(refused) => {
            tracing::debug!(%range, "source range over its request budget");
            ApiError::rate_limited(
                format!("too many requests from your network ({range}); slow down"),
                refused.retry_after_secs(),
            )
            .into_response()
        }
    }
}

/// Any error answer without a JSON body becomes the protocol's error shape.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // What the framework said (an extractor's reason), at most a few KiB of it.
    let detail = match axum::body::to_bytes(body, 4096).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_owned(),
        Err(_) => String::new(),
    };
    let (kind, message) = match status {
        StatusCode::NOT_FOUND => (ErrorKind::NotFound, "no such endpoint (see /v1/network)".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or("another method");
            (ErrorKind::BadRequest, format!("method not allowed here; use {allowed}"))
        }
        StatusCode::REQUEST_TIMEOUT => (ErrorKind::BadRequest, "the request took too long; try again".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorKind::PayloadTooLarge, "request body too large".to_owned()),
        StatusCode::TOO_MANY_REQUESTS => (ErrorKind::RateLimited, "too many requests; slow down".to_owned()),
        s if s.is_server_error() => {
            tracing::error!(%status, detail, "internal error answered by a layer");
            (ErrorKind::Internal, "internal error".to_owned())
        }
        _ if detail.is_empty() => (ErrorKind::BadRequest, format!("bad request ({status})")),
        _ => (ErrorKind::BadRequest, detail),
    };
    let mut out = ApiError::new(status, kind, message).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// A `Retry-After` value.
pub(crate) fn retry_after_value(secs: u64) -> HeaderValue {
    HeaderValue::from(secs)
}

/// The source range of a request (`netrange`), as an extractor.
#[derive(Debug, Clone)]
pub(crate) struct SourceRange(pub(crate) String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SourceRange {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(range_of(source_ip(&parts.extensions))))
    }
}
