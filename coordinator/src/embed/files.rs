//! `GET /v1/models/{sha256}/{file}`: a model's files, content-addressed, with single
//! HTTP range requests (`Range: bytes=a-b`, `a-`, `-n`) so a node resumes an
//! interrupted download where it stopped. Files are streamed from disk, never held in
//! memory; the ETag is the SHA-256 (the bytes under a URL never change).

use std::io::SeekFrom;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use idlewatt_protocol::models::is_sha256_hex;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use crate::error::ApiError;
use crate::server::AppState;

/// A byte range of a file, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteRange {
    pub(crate) first: u64,
    pub(crate) last: u64,
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeAsk {
    /// No (usable) range: the whole file, 200.
    Whole,
    /// One satisfiable range: 206.
    Part(ByteRange),
    /// A range that starts past the end: 416.
    Unsatisfiable,
}

/// Parses one `bytes=` range. Anything else (other units, several ranges, bad syntax)
/// is ignored and the whole file served, as RFC 9110 allows.
pub(crate) fn parse_range(header: Option<&str>, size: u64) -> RangeAsk {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return RangeAsk::Whole };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else { return RangeAsk::Whole };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        // bytes=-n: the last n bytes.
        (true, false) => match num(b) {
            Some(0) => RangeAsk::Unsatisfiable,
            Some(n) if size > 0 => RangeAsk::Part(ByteRange { first: size.saturating_sub(n), last: size - 1 }),
            Some(_) => RangeAsk::Unsatisfiable,
            None => RangeAsk::Whole,
        },
        (false, _) => {
            let Some(first) = num(a) else { return RangeAsk::Whole };
            let last = if b.is_empty() { Some(u64::MAX) } else { num(b) };
            match last {
                None => RangeAsk::Whole,
                Some(last) if last < first => RangeAsk::Whole,
                Some(_) if first >= size => RangeAsk::Unsatisfiable,
                Some(last) => RangeAsk::Part(ByteRange { first, last: last.min(size - 1) }),
            }
        }
        (true, true) => RangeAsk::Whole,
    }
}

/// The handler.
pub(crate) async fn get_file(
    State(st): State<AppState>,
    Path((sha256, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !is_sha256_hex(&sha256) {
        return Err(ApiError::bad_request("the path must be /v1/models/{sha256 in lowercase hex}/{file}"));
    }
    let served = st.models.file(&sha256, &name).cloned().ok_or_else(|| ApiError::not_found("no such model file"))?;
    let mut file = tokio::fs::File::open(&served.path).await.map_err(ApiError::internal)?;
    let size = file.metadata().await.map_err(ApiError::internal)?.len();
    let ask = parse_range(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), size);
    let etag = HeaderValue::from_str(&format!("\"{sha256}\"")).map_err(ApiError::internal)?;
    let (status, first, len) = match ask {
        RangeAsk::Whole => (StatusCode::OK, 0, size),
        RangeAsk::Part(r) => (StatusCode::PARTIAL_CONTENT, r.first, r.last - r.first + 1),
        RangeAsk::Unsatisfiable => {
            let mut res = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            let cr = HeaderValue::from_str(&format!("bytes */{size}")).map_err(ApiError::internal)?;
            res.headers_mut().insert(header::CONTENT_RANGE, cr);
            return Ok(res);
        }
    };
    file.seek(SeekFrom::Start(first)).await.map_err(ApiError::internal)?;
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024);
    let mut res = Response::new(Body::from_stream(stream));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, etag);
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    if status == StatusCode::PARTIAL_CONTENT {
        let cr =
            HeaderValue::from_str(&format!("bytes {first}-{}/{size}", first + len - 1)).map_err(ApiError::internal)?;
        h.insert(header::CONTENT_RANGE, cr);
    }
    tracing::debug!(file = %served.name, %sha256, first, len, "serving model bytes");
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_rfc_9110_says() {
        let p = |h: &str| parse_range(Some(h), 100);
        let part = |first, last| RangeAsk::Part(ByteRange { first, last });
        assert_eq!(parse_range(None, 100), RangeAsk::Whole);
        assert_eq!(p("bytes=0-9"), part(0, 9));
        assert_eq!(p("bytes=90-"), part(90, 99));
        assert_eq!(p("bytes=90-500"), part(90, 99));
        assert_eq!(p("bytes=-10"), part(90, 99));
        assert_eq!(p("bytes=-500"), part(0, 99));
        assert_eq!(p("bytes=100-"), RangeAsk::Unsatisfiable);
        assert_eq!(p("bytes=-0"), RangeAsk::Unsatisfiable);
        assert_eq!(p("bytes=5-2"), RangeAsk::Whole);
        assert_eq!(p("bytes=0-1,5-6"), RangeAsk::Whole);
        assert_eq!(p("items=0-1"), RangeAsk::Whole);
        assert_eq!(p("bytes=x-1"), RangeAsk::Whole);
        assert_eq!(parse_range(Some("bytes=0-"), 0), RangeAsk::Unsatisfiable);
    }
}
