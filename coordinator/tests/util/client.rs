//! A test client of the demand side: a fixed test key (generated here, never a secret)
//! that signs its requests, or an API key as a bearer token; helpers for the faucet,
//! blobs, jobs, and the books check every scenario ends with.

use std::io::Write as _;

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::auth::sign_request_with_key;
use idlewatt_protocol::client::{
    BlobStored, ClientAccount, ClientJob, FaucetGrant, JobSubmission, KeyCreate, KeyCreated,
};
use idlewatt_protocol::wire::{JobSpec, Lease, NetworkStatus, ResultSubmission};
use idlewatt_protocol::{Precision, npy};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};

/// A client: a wallet key, and optionally an API key used instead of signatures.
#[derive(Clone)]
pub struct Client {
    pub key: PrivateKeySigner,
    pub http: reqwest::Client,
    pub base: String,
    pub bearer: Option<String>,
}

impl Client {
    /// Client `n` (key bytes 0xC0 + n) of the coordinator at `base`.
    pub fn new(base: &str, n: u8) -> Self {
        let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(0xC0 + n)).unwrap();
        Self { key, http: reqwest::Client::new(), base: base.to_owned(), bearer: None }
    }

    /// The same wallet, authenticating with `api_key` instead of signatures.
    pub fn with_key(&self, api_key: &str) -> Self {
        Self {
            key: self.key.clone(),
            http: self.http.clone(),
            base: self.base.clone(),
            bearer: Some(api_key.to_owned()),
        }
    }

    pub fn address(&self) -> alloy::primitives::Address {
        self.key.address()
    }

    /// Any request, signed (or with the bearer key).
    pub async fn send(&self, method: Method, path: &str, body: Vec<u8>) -> reqwest::Response {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(k) = &self.bearer {
            req = req.header("authorization", format!("Bearer {k}"));
        } else {
            let auth = sign_request_with_key(&self.key, method.as_str(), path, &body).unwrap();
            for (k, v) in auth.to_pairs() {
                req = req.header(k, v);
            }
        }
        req.body(body).send().await.unwrap()
    }

    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        want: StatusCode,
    ) -> T {
        let r = self.send(method, path, body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, want, "{text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    pub async fn faucet(&self, amount: TokenAmount) -> FaucetGrant {
        let body = serde_json::to_vec(&serde_json::json!({ "amount": amount })).unwrap();
        self.json(Method::POST, "/v1/faucet", body, StatusCode::OK).await
    }

    pub async fn create_key(&self, req: &KeyCreate) -> KeyCreated {
        self.json(Method::POST, "/v1/keys", serde_json::to_vec(req).unwrap(), StatusCode::CREATED).await
    }

    pub async fn put_blob(&self, bytes: &[u8]) -> reqwest::Response {
        let sha = alloy::hex::encode(Sha256::digest(bytes));
        self.send(Method::PUT, &format!("/v1/blobs/{sha}"), bytes.to_vec()).await
    }

    /// Uploads a matrix; returns its SHA-256.
    pub async fn upload(&self, rows: usize, cols: usize, data: &[f32]) -> String {
        let bytes = npy::write_f32(rows, cols, data);
        let r = self.put_blob(&bytes).await;
        assert!(r.status() == StatusCode::CREATED || r.status() == StatusCode::OK, "{}", r.text().await.unwrap());
        let stored: BlobStored = r.json().await.unwrap();
        assert_eq!(stored.shape, [rows as u64, cols as u64]);
        stored.sha256
    }

    /// Uploads a matrix stored as f16 (`<f2`; `data` must be exact in f16).
    pub async fn upload_f16(&self, rows: usize, cols: usize, data: &[f32]) -> String {
        let r = self.put_blob(&npy::write_f16(rows, cols, data)).await;
        assert!(r.status() == StatusCode::CREATED || r.status() == StatusCode::OK, "{}", r.text().await.unwrap());
        let stored: BlobStored = r.json().await.unwrap();
        stored.sha256
    }

    pub async fn submit(
        &self,
        a: &str,
        b: &str,
        max_price: TokenAmount,
        expires_in_s: Option<u64>,
    ) -> reqwest::Response {
        self.submit_as(a, b, Precision::F32, max_price, expires_in_s).await
    }

    /// Submits a matmul in `precision`.
    pub async fn submit_as(
        &self,
        a: &str,
        b: &str,
        precision: Precision,
        max_price: TokenAmount,
        expires_in_s: Option<u64>,
    ) -> reqwest::Response {
        let sub = JobSubmission::Matmul {
            a_sha256: a.to_owned(),
            b_sha256: b.to_owned(),
            precision,
            max_price,
            expires_in_s,
        };
        self.send(Method::POST, "/v1/jobs", serde_json::to_vec(&sub).unwrap()).await
    }

    pub async fn job(&self, id: &str) -> ClientJob {
        self.json(Method::GET, &format!("/v1/jobs/{id}"), Vec::new(), StatusCode::OK).await
    }

    pub async fn account(&self) -> ClientAccount {
        let r = self.http.get(format!("{}/v1/clients/{}", self.base, self.address())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }
}

/// A/B test matrices: values from the protocol's generator (exact in f32).
pub fn matrices(m: usize, n: usize, k: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    idlewatt_protocol::inputs::matmul_inputs(seed, m as u32, n as u32, k as u32)
}

/// A·B in f64, the reference a result is compared with.
pub fn reference(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f64> {
    let mut c = vec![0.0f64; m * n];
    for i in 0..m {
        for p in 0..k {
            let x = f64::from(a[i * k + p]);
            for j in 0..n {
                c[i * n + j] += x * f64::from(b[p * n + j]);
            }
        }
    }
    c
}

/// What an honest node computes for a client block: downloads A and B (signed by the
/// node, as the real node does) and multiplies its rows in f32.
pub async fn compute_block(node: &super::Node, lease: &Lease) -> Vec<f32> {
    let JobSpec::ClientMatmul { a_sha256, b_sha256, n, k, row_start, rows, .. } = &lease.job else {
        panic!("not a client block: {:?}", lease.job)
    };
    let get = |sha: String| async move {
        let path = format!("/v1/blobs/{sha}");
        let auth = sign_request_with_key(&node.key, "GET", &path, b"").unwrap();
        let mut req = node.http.get(format!("{}{path}", node.base));
        for (k, v) in auth.to_pairs() {
            req = req.header(k, v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.unwrap();
        assert_eq!(alloy::hex::encode(Sha256::digest(&bytes)), sha);
        npy::read(&bytes, u64::MAX).unwrap()
    };
    let a = get(a_sha256.clone()).await;
    let b = get(b_sha256.clone()).await;
    let (n, k, r0, rows) = (*n as usize, *k as usize, *row_start as usize, *rows as usize);
    let mut c = vec![0.0f32; rows * n];
    for i in 0..rows {
        for p in 0..k {
            let x = a.data[(r0 + i) * k + p];
            for j in 0..n {
                c[i * n + j] += x * b.data[p * n + j];
            }
        }
    }
    c
}

/// Leases and honestly computes parts until there is no work; returns how many.
pub async fn work_all(node: &super::Node) -> usize {
    let mut done = 0;
    loop {
        let r = node.try_lease().await;
        if r.status() != StatusCode::OK {
            return done;
        }
        let lease: Lease = r.json().await.unwrap();
        let c = match lease.job {
            JobSpec::ClientMatmul { .. } => compute_block(node, &lease).await,
            JobSpec::Matmul { .. } => super::compute(&lease.job),
            JobSpec::Embeddings(_) => panic!("this helper serves matmul work only"),
        };
        let r = node.submit(&lease, &ResultSubmission::new(&c)).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        done += 1;
    }
}

/// The money invariant, asserted after every scenario: deposits − withdrawals =
/// client balances + escrow + node balances + fees, and no account is negative.
pub async fn assert_books(base: &str) -> idlewatt_protocol::wire::Books {
    // A scenario that flooded the coordinator may be rate-limited for a moment.
    let mut r = reqwest::get(format!("{base}/v1/network")).await.unwrap();
    for _ in 0..40 {
        if r.status() != reqwest::StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        r = reqwest::get(format!("{base}/v1/network")).await.unwrap();
    }
    let net: NetworkStatus = r.json().await.unwrap();
    let b = net.books.expect("the coordinator reports its books");
    assert!(b.balanced, "books do not balance: {b:?}");
    assert_eq!(
        b.deposits.0 - b.withdrawals.0,
        b.client_balances.0 + b.escrow.0 + b.node_balances.0 + b.fees.0,
        "{b:?}"
    );
    // One line per scenario, written past the test harness's capture so that a run of
    // the suite shows every invariant it checked.
    let _ = writeln!(
        std::io::stderr().lock(),
        "money invariant holds: deposits {} - withdrawals {} = client balances {} + escrow {} + node balances {} + fees {}",
        b.deposits.to_token_string(),
        b.withdrawals.to_token_string(),
        b.client_balances.to_token_string(),
        b.escrow.to_token_string(),
        b.node_balances.to_token_string(),
        b.fees.to_token_string()
    );
    b
}

/// Checks the books, then stops the coordinator: how every scenario that moves money
/// ends, so the invariant is checked (and its line printed) over the whole suite.
pub async fn stop(handle: idlewatt_coordinator::Handle) {
    assert_books(&handle.url()).await;
    handle.shutdown().await.unwrap();
}
