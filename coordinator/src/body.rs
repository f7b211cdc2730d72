//! Reading a large body only after the request is authenticated, and only as much as
//! it may carry: a declared `Content-Length` above the cap is refused before a byte is
//! read, and a body that streams past the cap is cut off there (413). A stalled body
//! fails with 408 (tower-http's body timeout), a broken one with 400.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use idlewatt_protocol::wire::ErrorKind;

use crate::error::ApiError;

/// Reads `body`, at most `cap` bytes.
pub(crate) async fn read_capped(body: Body, headers: &HeaderMap, cap: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::PayloadTooLarge,
            format!("the body is larger than this request may carry ({cap} bytes)"),
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    match Limited::new(body, cap).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
            while let Some(err) = cur {
                if err.is::<LengthLimitError>() {
                    return Err(too_large());
                }
                if err.is::<tower_http::timeout::TimeoutError>() {
                    return Err(ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        ErrorKind::BadRequest,
                        "the body stalled; send it again",
                    ));
                }
                cur = err.source();
            }
            Err(ApiError::bad_request(format!("could not read the body: {e}")))
        }
    }
}
