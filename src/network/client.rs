//! A typed client of a coordinator's `/v1` API (DESIGN §3). Every state-changing
//! request is signed afresh on every attempt (a retried request must not reuse a
//! nonce the coordinator may have seen). Connection failures, timeouts and 5xx
//! answers are retried with jittered exponential backoff; 4xx answers are final and
//! come back as [`ClientError::Api`] with the coordinator's [`ErrorKind`].
//!
//! TLS: the core builds reqwest without a TLS back-end of its own (rustls pulls in
//! aws-lc or ring, a heavy build; only the desktop app's updater links the system's TLS),
//! so only `http://` URLs work for now; an `https://` URL is refused up front with a
//! clear error rather than failing at the first request.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use idlewatt_protocol::auth::sign_request;
use idlewatt_protocol::wire::{
    AccountBalance, ErrorBody, ErrorKind, HardwareSummary, Lease, LeaseReleased, LeaseRequest, NetworkStatus,
    NodeLimits, NodeRegistration, Registered, ResultSubmission, SubmissionOutcome,
};
use idlewatt_protocol::withdrawal::{WithdrawalInfo, WithdrawalRequest};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;
use tracing::Instrument;

use super::signer::RequestSigner;

/// Connecting to the coordinator gives up after this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole request (including a large result upload) gives up after this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest wait for one input blob (up to the coordinator's blob cap, 64 MiB by default).
pub const BLOB_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a call to the coordinator failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The coordinator URL cannot be used.
    #[error("bad coordinator URL {url:?}: {reason}")]
    InvalidUrl {
        /// What was given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No answer: connection refused, DNS failure, timeout (after all retries).
    #[error("cannot reach the coordinator at {url}: {reason}")]
    Unreachable {
        /// The request's URL.
        url: String,
        /// The last transport error.
        reason: String,
    },
    /// The coordinator answered with a documented error body.
    #[error("coordinator refused ({status}, {kind:?}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// What went wrong, for a program to act on.
        kind: ErrorKind,
        /// For people.
        message: String,
        /// When the coordinator said to come back (`Retry-After`, with 429).
        retry_after: Option<Duration>,
    },
    /// The coordinator answered something that is not the protocol (a proxy's error
    /// page, a different server, a truncated body).
    #[error("unexpected answer from the coordinator ({status}): {detail}")]
    Protocol {
        /// HTTP status.
        status: u16,
        /// What was wrong with it.
        detail: String,
    },
    /// The node's signer failed.
    #[error(transparent)]
    Sign(#[from] idlewatt_protocol::auth::SignError),
    /// A signed call on a client made with [`CoordinatorClient::read_only`].
    #[error("this call must be signed, but the client has no signer (no wallet)")]
    NoSigner,
    /// The HTTP client could not be built (TLS/system set-up).
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

impl ClientError {
    /// Worth retrying later: nothing was decided by the coordinator (no answer, its own
    /// fault, rate limiting, or a signature it could not check yet, e.g. clock skew).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Api { kind, .. } => {
                matches!(kind, ErrorKind::Internal | ErrorKind::RateLimited | ErrorKind::Unauthorized)
            }
            Self::Protocol { status, .. } => *status >= 500,
            Self::InvalidUrl { .. } | Self::Sign(_) | Self::NoSigner | Self::Setup(_) => false,
        }
    }

    /// How long the coordinator asked us to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The coordinator's error kind, if it sent one.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Self::Api { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

/// How often and how patiently to retry transient failures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all (1 = no retry).
    pub attempts: u32,
    /// Wait before the first retry; doubles each time, up to `max_delay`.
    pub base_delay: Duration,
    /// Longest wait between tries.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 4, base_delay: Duration::from_millis(250), max_delay: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// No retries (tests, one-shot commands).
    pub const fn once() -> Self {
        Self { attempts: 1, base_delay: Duration::ZERO, max_delay: Duration::ZERO }
    }

    /// The wait before retry number `retry` (0-based): "full jitter", uniform in
    /// [0, min(max, base·2^retry)], so many nodes that lost the coordinator together
    /// do not come back in lockstep.
    pub fn delay(&self, retry: u32) -> Duration {
        let cap = self.base_delay.saturating_mul(1u32 << retry.min(16)).min(self.max_delay);
        cap.mul_f64(jitter_fraction())
    }
}

/// A random fraction in [0, 1) from the standard library's per-process random keys.
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// A coordinator, as the node sees it.
#[derive(Clone)]
pub struct CoordinatorClient {
    base: Url,
    http: reqwest::Client,
    signer: Option<Arc<dyn RequestSigner>>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for CoordinatorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoordinatorClient")
            .field("base", &self.base.as_str())
            .field("address", &self.address())
            .field("retry", &self.retry)
            .finish()
    }
}

/// Parses and checks a coordinator base URL (`http://host:port`, optionally with a
/// path prefix).
pub fn parse_base_url(url: &str) -> Result<Url, ClientError> {
    let bad = |reason: &str| ClientError::InvalidUrl { url: url.to_owned(), reason: reason.to_owned() };
    let mut parsed = Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    match parsed.scheme() {
        "http" => {}
        "https" => return Err(bad("https is not supported by this build (no TLS back-end); use http://")),
        other => return Err(bad(&format!("unsupported scheme {other:?}; expected http://host:port"))),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a base URL takes no query or fragment"));
    }
    // Paths are appended: "http://h/prefix" and "http://h/prefix/" mean the same.
    let path = parsed.path().trim_end_matches('/').to_owned();
    parsed.set_path(&path);
    Ok(parsed)
}

impl CoordinatorClient {
    /// A client of the coordinator at `url`, signing as `signer`.
    pub fn new(url: &str, signer: Arc<dyn RequestSigner>) -> Result<Self, ClientError> {
        Self::build(url, Some(signer))
    }

    /// A client for the public calls only ([`Self::balance`], [`Self::network_status`]).
    pub fn read_only(url: &str) -> Result<Self, ClientError> {
        Self::build(url, None)
    }

    fn build(url: &str, signer: Option<Arc<dyn RequestSigner>>) -> Result<Self, ClientError> {
        let base = parse_base_url(url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("idlewatt-node/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(Self { base, http, signer, retry: RetryPolicy::default() })
    }

    /// Uses `retry` instead of [`RetryPolicy::default`].
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The coordinator's base URL.
    pub fn url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The address requests are signed as (none for a read-only client).
    pub fn address(&self) -> Option<Address> {
        self.signer.as_ref().map(|s| s.address())
    }

    /// `POST /v1/nodes`: registers (or updates) this node.
    pub async fn register(&self, hardware: HardwareSummary) -> Result<Registered, ClientError> {
        let body = NodeRegistration {
            address: self.address().ok_or(ClientError::NoSigner)?,
            hardware,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        self.call(Method::POST, "/v1/nodes", Some(&body)).await
    }

    /// `POST /v1/leases`: a job fitting `limits`.
    pub async fn lease(&self, limits: NodeLimits) -> Result<Lease, ClientError> {
        self.call(Method::POST, "/v1/leases", Some(&LeaseRequest { limits })).await
    }

    /// `POST /v1/leases/{lease_id}/result`. A rejected result is
    /// `Err(ClientError::Api { kind: ResultRejected, .. })`.
    pub async fn submit(&self, lease_id: &str, c: &[f32]) -> Result<SubmissionOutcome, ClientError> {
        self.submit_encoded(lease_id, &ResultSubmission::new(c)).await
    }

    /// [`Self::submit`] with an already encoded result.
    pub async fn submit_encoded(
        &self,
        lease_id: &str,
        submission: &ResultSubmission,
    ) -> Result<SubmissionOutcome, ClientError> {
        let id = path_segment(lease_id)?;
        self.call(Method::POST, &format!("/v1/leases/{id}/result"), Some(submission)).await
    }

    /// `GET /v1/accounts/{address}`: the balances, and the job history when `address`
    /// is this client's own (the GET is then signed; history is shown to its owner only).
    pub async fn balance(&self, address: Address) -> Result<AccountBalance, ClientError> {
        let path = format!("/v1/accounts/{address}");
        if self.address() == Some(address) {
            self.call_signed_get(&path).await
        } else {
            self.call::<(), _>(Method::GET, &path, None).await
        }
    }

    /// `POST /v1/leases/{lease_id}/release`: gives back a lease this node will not
    /// finish; its job goes to another node at once and the node's slot is free.
    pub async fn release(&self, lease_id: &str) -> Result<LeaseReleased, ClientError> {
        let id = path_segment(lease_id)?;
        let empty = serde_json::Map::new();
        self.call(Method::POST, &format!("/v1/leases/{id}/release"), Some(&empty)).await
    }

    /// `GET /v1/leases` (signed): the leases this node holds now, so that after a
    /// restart it can resume or release them.
    pub async fn open_leases(&self) -> Result<Vec<Lease>, ClientError> {
        self.call_signed_get("/v1/leases").await
    }

    /// `POST /v1/withdrawals`: a signed withdrawal (see [`super::withdraw()`]). Idempotent
    /// by its nonce: sending it again answers the same withdrawal.
    pub async fn submit_withdrawal(&self, request: &WithdrawalRequest) -> Result<WithdrawalInfo, ClientError> {
        self.call(Method::POST, "/v1/withdrawals", Some(request)).await
    }

    /// `GET /v1/withdrawals/{id}`.
    pub async fn withdrawal(&self, id: &str) -> Result<WithdrawalInfo, ClientError> {
        let id = path_segment(id)?;
        self.call::<(), _>(Method::GET, &format!("/v1/withdrawals/{id}"), None).await
    }

    /// `GET /v1/accounts/{address}/withdrawals`, newest first.
    pub async fn withdrawals(&self, address: Address) -> Result<Vec<WithdrawalInfo>, ClientError> {
        self.call::<(), _>(Method::GET, &format!("/v1/accounts/{address}/withdrawals"), None).await
    }

    /// `GET /v1/network`.
    pub async fn network_status(&self) -> Result<NetworkStatus, ClientError> {
        self.call::<(), _>(Method::GET, "/v1/network", None).await
    }

    /// `GET /v1/prices`: the operator's price list.
    pub async fn prices(&self) -> Result<idlewatt_protocol::client::PriceList, ClientError> {
        self.call::<(), _>(Method::GET, "/v1/prices", None).await
    }

    /// `GET /v1/blobs/{sha256}` (signed: the coordinator serves a blob to a node that
    /// holds a lease on it): the raw bytes, checked against their SHA-256.
    pub async fn blob(&self, sha256: &str) -> Result<Vec<u8>, ClientError> {
        let sha = path_segment(sha256)?;
        let mut retry = 0;
        loop {
            match self.blob_once(sha).await {
                Err(e) if e.is_retryable_now() && retry + 1 < self.retry.attempts => {
                    tokio::time::sleep(self.retry.delay(retry)).await;
                    retry += 1;
                }
                other => return other,
            }
        }
    }

    async fn blob_once(&self, sha256: &str) -> Result<Vec<u8>, ClientError> {
        let full_path = format!("{}/v1/blobs/{sha256}", self.base.path().trim_end_matches('/'));
        let mut url = self.base.clone();
        url.set_path(&full_path);
        let signer = self.signer.as_ref().ok_or(ClientError::NoSigner)?;
        let auth = sign_request(signer.address(), |m| signer.sign_message(m), "GET", &full_path, b"")?;
        let mut req = self.http.get(url.clone()).timeout(BLOB_TIMEOUT);
        for (k, v) in auth.to_pairs() {
            req = req.header(k, v);
        }
        let unreachable =
            |e: reqwest::Error| ClientError::Unreachable { url: url.to_string(), reason: error_chain(&e) };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(error_of(status, &bytes, None));
        }
        let digest = idlewatt_protocol::auth::body_sha256(&bytes);
        if digest != sha256 {
            return Err(ClientError::Protocol {
                status: status.as_u16(),
                detail: format!("blob {sha256} arrived with SHA-256 {digest}"),
            });
        }
        Ok(bytes.to_vec())
    }

    /// One API call with retries. POSTs are signed; GETs are public.
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let body = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| ClientError::Setup(e.to_string()))?),
            None => None,
        };
        self.call_raw(method, path, body, false).await
    }

    /// A GET signed by this client (over the empty body).
    async fn call_signed_get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call_raw(Method::GET, path, None, true).await
    }

    async fn call_raw<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        sign_get: bool,
    ) -> Result<T, ClientError> {
        let span = tracing::debug_span!("coordinator", %method, path);
        async {
            let mut retry = 0;
            loop {
                let result = self.once(&method, path, body.as_deref(), sign_get).await;
                match result {
                    Err(e) if e.is_retryable_now() && retry + 1 < self.retry.attempts => {
                        let wait = self.retry.delay(retry);
                        tracing::debug!(error = %e, ?wait, retry, "retrying");
                        tokio::time::sleep(wait).await;
                        retry += 1;
                    }
                    other => return other,
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn once<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
        body: Option<&[u8]>,
        sign_get: bool,
    ) -> Result<T, ClientError> {
        // `path` is built by this module from checked parts; the base may have a prefix.
        let full_path = format!("{}{path}", self.base.path().trim_end_matches('/'));
        let mut url = self.base.clone();
        url.set_path(&full_path);
        let mut req = self.http.request(method.clone(), url.clone());
        if let Some(body) = body {
            let signer = self.signer.as_ref().ok_or(ClientError::NoSigner)?;
            let auth = sign_request(signer.address(), |m| signer.sign_message(m), method.as_str(), &full_path, body)?;
            for (k, v) in auth.to_pairs() {
                req = req.header(k, v);
            }
            req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_vec());
        } else if sign_get {
            let signer = self.signer.as_ref().ok_or(ClientError::NoSigner)?;
            let auth = sign_request(signer.address(), |m| signer.sign_message(m), method.as_str(), &full_path, b"")?;
            for (k, v) in auth.to_pairs() {
                req = req.header(k, v);
            }
        }
        let unreachable =
            |e: reqwest::Error| ClientError::Unreachable { url: url.to_string(), reason: error_chain(&e) };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(3600)));
        let bytes = resp.bytes().await.map_err(unreachable)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol {
                status: status.as_u16(),
                detail: format!("not the expected JSON: {e}"),
            });
        }
        Err(error_of(status, &bytes, retry_after))
    }
}

/// The error a failed answer stands for: the API's `{ "error": … }` shape, or a
/// protocol error quoting the start of whatever else came back.
pub(crate) fn error_of(status: StatusCode, bytes: &[u8], retry_after: Option<Duration>) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(b) => {
            ClientError::Api { status: status.as_u16(), kind: b.error.kind, message: b.error.message, retry_after }
        }
        Err(_) => ClientError::Protocol { status: status.as_u16(), detail: snippet(bytes, status) },
    }
}

impl ClientError {
    /// Retried within one call: no answer or a 5xx. (429 and 401 are transient for the
    /// caller but retrying them at once would not help.)
    fn is_retryable_now(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            // "No paid work right now" is an answer, not a failure.
            Self::Api { kind: ErrorKind::NoPaidWork, .. } => false,
            Self::Api { status, .. } | Self::Protocol { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// A lease id as one URL path segment: only characters that need no escaping.
fn path_segment(id: &str) -> Result<&str, ClientError> {
    if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Ok(id)
    } else {
        Err(ClientError::InvalidUrl { url: id.to_owned(), reason: "an id must be 1-128 of [A-Za-z0-9_-]".into() })
    }
}

/// The error's causes on one line: reqwest's own message repeats the URL and hides
/// the cause ("connection refused") in its sources.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    if parts.is_empty() { e.to_string() } else { parts.join(": ") }
}

/// The start of a non-protocol body, for the error message.
pub(crate) fn snippet(bytes: &[u8], status: StatusCode) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).trim().to_owned();
    if text.is_empty() { format!("{status} with no body") } else { format!("{status}: {text}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080/").map(|u| u.to_string()).ok(),
            Some("http://127.0.0.1:8080/".into())
        );
        assert_eq!(parse_base_url("http://h/api/").map(|u| u.path().to_owned()).ok(), Some("/api".into()));
        for bad in ["", "127.0.0.1:8080", "ftp://h", "http://", "https://example.org", "http://h/?q=1", "not a url"] {
            assert!(matches!(parse_base_url(bad), Err(ClientError::InvalidUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy { attempts: 10, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(1) };
        for retry in 0..10 {
            let cap = Duration::from_millis(100 * (1 << retry)).min(Duration::from_secs(1));
            assert!(p.delay(retry) <= cap);
        }
        assert_eq!(RetryPolicy::once().delay(3), Duration::ZERO);
    }

    #[test]
    fn lease_ids_must_be_plain_path_segments() {
        assert!(path_segment("abc-DEF_123").is_ok());
        for bad in ["", "../x", "a/b", "a?b", "a b", &"x".repeat(129)] {
            assert!(path_segment(bad).is_err(), "{bad}");
        }
    }
}
