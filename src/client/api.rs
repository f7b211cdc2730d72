//! [`ClientApi`]: a typed client of the coordinator's client endpoints (DESIGN §3). Every
//! call is signed by the client's wallet (EIP-191 over method, path, body hash,
//! timestamp and a fresh nonce — also GETs, since a client may read only its own jobs).
//! Calls that change nothing or are idempotent (GET, `PUT` of a content-addressed blob)
//! are retried on no answer or a 5xx; submissions are not, so a job is never submitted
//! twice. A 402 comes back as [`ClientApiError::PaymentRequired`] with the amounts.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256};
use idlewatt_protocol::auth::{body_sha256, sign_request};
use idlewatt_protocol::client::{
    BlobStored, ClientAccount, ClientJob, ClientJobList, DepositInfo, FaucetGrant, FaucetRequest, JobSubmission,
    KeyCreate, KeyCreated, KeyInfo, KeyList, PaymentRequiredBody, PriceList,
};
use idlewatt_protocol::deposit::DepositRecord;
use idlewatt_protocol::wire::NetworkStatus;
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::ClientApiError;
use crate::network::client::{CONNECT_TIMEOUT, error_chain, error_of, parse_base_url};
use crate::network::{ClientError, RequestSigner, RetryPolicy};

/// A whole request gives up after this (uploads and downloads of large matrices).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The client's view of a coordinator.
#[derive(Clone)]
pub struct ClientApi {
    base: Url,
    http: reqwest::Client,
    signer: Arc<dyn RequestSigner>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for ClientApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientApi").field("base", &self.base.as_str()).field("address", &self.address()).finish()
    }
}

/// A body to send.
enum Body<'a> {
    None,
    Json(Vec<u8>),
    Bytes(&'a [u8]),
}

impl ClientApi {
    /// A client of the coordinator at `url`, signing as `signer`.
    pub fn new(url: &str, signer: Arc<dyn RequestSigner>) -> Result<Self, ClientApiError> {
        let base = parse_base_url(url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("idlewatt-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(Self { base, http, signer, retry: RetryPolicy::default() })
    }

    /// Uses `retry` for the calls that may be retried.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The coordinator's base URL.
    pub fn url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The client's address (its identity).
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// `GET /v1/prices`.
    pub async fn prices(&self) -> Result<PriceList, ClientApiError> {
        self.json(Method::GET, "/v1/prices", Body::None).await
    }

    /// `GET /v1/network`.
    pub async fn network(&self) -> Result<NetworkStatus, ClientApiError> {
        self.json(Method::GET, "/v1/network", Body::None).await
    }

    /// `GET /v1/clients/{address}`: this client's balance, escrow and totals.
    pub async fn account(&self) -> Result<ClientAccount, ClientApiError> {
        self.json(Method::GET, &format!("/v1/clients/{}", self.address()), Body::None).await
    }

    /// `POST /v1/faucet` (devnet only): `None` asks for the faucet's usual amount.
    pub async fn faucet(&self, amount: Option<idlewatt_protocol::TokenAmount>) -> Result<FaucetGrant, ClientApiError> {
        self.json(Method::POST, "/v1/faucet", json(&FaucetRequest { amount })?).await
    }

    /// `POST /v1/keys`: a new API key, shown once.
    pub async fn create_key(&self, request: &KeyCreate) -> Result<KeyCreated, ClientApiError> {
        self.json(Method::POST, "/v1/keys", json(request)?).await
    }

    /// `GET /v1/keys`: this client's keys (never the keys themselves).
    pub async fn keys(&self) -> Result<Vec<KeyInfo>, ClientApiError> {
        Ok(self.json::<KeyList>(Method::GET, "/v1/keys", Body::None).await?.keys)
    }

    /// `DELETE /v1/keys/{id}`: revokes a key at once.
    pub async fn revoke_key(&self, id: &str) -> Result<KeyInfo, ClientApiError> {
        self.json(Method::DELETE, &format!("/v1/keys/{}", segment(id)?), Body::None).await
    }

    /// `PUT /v1/blobs/{sha256}`: uploads a `.npy` file (the coordinator checks its
    /// hash, dtype and shape; uploading the same bytes again is harmless).
    pub async fn put_blob(&self, bytes: &[u8]) -> Result<BlobStored, ClientApiError> {
        let sha = body_sha256(bytes);
        self.json(Method::PUT, &format!("/v1/blobs/{sha}"), Body::Bytes(bytes)).await
    }

    /// `POST /v1/jobs`: submits a job; its price is held in escrow.
    pub async fn submit(&self, job: &JobSubmission) -> Result<ClientJob, ClientApiError> {
        self.json(Method::POST, "/v1/jobs", json(job)?).await
    }

    /// `GET /v1/jobs/{id}`.
    pub async fn job(&self, id: &str) -> Result<ClientJob, ClientApiError> {
        self.json(Method::GET, &format!("/v1/jobs/{}", segment(id)?), Body::None).await
    }

    /// `GET /v1/jobs`: this client's jobs, newest first.
    pub async fn jobs(&self) -> Result<Vec<ClientJob>, ClientApiError> {
        Ok(self.json::<ClientJobList>(Method::GET, "/v1/jobs", Body::None).await?.jobs)
    }

    /// `DELETE /v1/jobs/{id}`: cancels; the unspent escrow is refunded.
    pub async fn cancel(&self, id: &str) -> Result<ClientJob, ClientApiError> {
        self.json(Method::DELETE, &format!("/v1/jobs/{}", segment(id)?), Body::None).await
    }

    /// `GET /v1/jobs/{id}/result`: the result as `.npy` bytes.
    pub async fn result(&self, id: &str) -> Result<Vec<u8>, ClientApiError> {
        self.call(Method::GET, &format!("/v1/jobs/{}/result", segment(id)?), Body::None).await
    }

    /// `GET /v1/deposit`: where to send tokens on a chain (or that this is a devnet).
    pub async fn deposit_info(&self) -> Result<DepositInfo, ClientApiError> {
        self.json(Method::GET, "/v1/deposit", Body::None).await
    }

    /// `GET /v1/deposits/{tx_hash}`: what the coordinator credited of one transaction
    /// (empty until it has its confirmations).
    pub async fn deposits_of(&self, tx_hash: B256) -> Result<Vec<DepositRecord>, ClientApiError> {
        self.json(Method::GET, &format!("/v1/deposits/{tx_hash}"), Body::None).await
    }

    async fn json<T: DeserializeOwned>(&self, method: Method, path: &str, body: Body<'_>) -> Result<T, ClientApiError> {
        let bytes = self.call(method, path, body).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Protocol { status: 200, detail: format!("not the expected JSON: {e}") }.into())
    }

    /// One call, signed, retried when that is safe.
    async fn call(&self, method: Method, path: &str, body: Body<'_>) -> Result<Vec<u8>, ClientApiError> {
        let retriable = matches!(method, Method::GET | Method::PUT);
        let span = tracing::debug_span!("client_api", %method, path);
        async {
            let mut retry = 0;
            loop {
                match self.once(&method, path, &body).await {
                    Err(ClientApiError::Request(e))
                        if retriable && retryable_now(&e) && retry + 1 < self.retry.attempts =>
                    {
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

    async fn once(&self, method: &Method, path: &str, body: &Body<'_>) -> Result<Vec<u8>, ClientApiError> {
        let full_path = format!("{}{path}", self.base.path().trim_end_matches('/'));
        let mut url = self.base.clone();
        url.set_path(&full_path);
        let bytes: &[u8] = match body {
            Body::None => &[],
            Body::Json(b) => b,
            Body::Bytes(b) => b,
        };
        let signer = &self.signer;
        let auth = sign_request(signer.address(), |m| signer.sign_message(m), method.as_str(), &full_path, bytes)
            .map_err(ClientError::from)?;
        let mut req = self.http.request(method.clone(), url.clone());
        for (k, v) in auth.to_pairs() {
            req = req.header(k, v);
        }
        match body {
            Body::None => {}
            Body::Json(b) => req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(b.clone()),
            Body::Bytes(b) => {
                req = req.header(reqwest::header::CONTENT_TYPE, "application/octet-stream").body(b.to_vec());
            }
        }
        let unreachable =
            |e: reqwest::Error| ClientError::Unreachable { url: url.to_string(), reason: error_chain(&e) };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(unreachable)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        if status.as_u16() == 402
            && let Ok(p) = serde_json::from_slice::<PaymentRequiredBody>(&bytes)
        {
            return Err(ClientApiError::PaymentRequired { message: p.error.message, payment: p.payment });
        }
        Err(error_of(status, &bytes, None).into())
    }
}

fn json(value: &impl Serialize) -> Result<Body<'static>, ClientApiError> {
    serde_json::to_vec(value).map(Body::Json).map_err(|e| ClientError::Setup(e.to_string()).into())
}

/// No answer or a 5xx: worth another try at once (for safe calls).
fn retryable_now(e: &ClientError) -> bool {
    match e {
        ClientError::Unreachable { .. } => true,
        ClientError::Api { status, .. } | ClientError::Protocol { status, .. } => *status >= 500,
        _ => false,
    }
}

/// An id as one URL path segment: only characters that need no escaping.
fn segment(id: &str) -> Result<&str, ClientApiError> {
    if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Ok(id)
    } else {
        Err(ClientApiError::Input(format!("{id:?} is not an id (1-128 of A-Z, a-z, 0-9, - and _)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_plain_path_segments() {
        assert!(segment("a1-B_2").is_ok());
        for bad in ["", "../x", "a/b", "a?b", "a b"] {
            assert!(segment(bad).is_err(), "{bad}");
        }
    }
}
