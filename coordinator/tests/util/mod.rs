//! Shared helpers of the coordinator's tests: one `init_tracing`, a coordinator on
//! 127.0.0.1:0, and a simulated node that signs real requests with a fixed test key
//! (generated here, never a secret) and computes results on the CPU.

#![allow(dead_code, clippy::unwrap_used)]

pub mod client;

use std::time::Duration;

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use idlewatt_coordinator::{Config, Handle};
use idlewatt_protocol::auth::{AuthHeaders, sign_request_with_key};
use idlewatt_protocol::inputs::matmul_inputs;
use idlewatt_protocol::wire::{
    AccountBalance, ErrorBody, HardwareSummary, JobSpec, Lease, LeaseRequest, NodeLimits, NodeRegistration,
    ResultSubmission,
};
use reqwest::StatusCode;

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("IDLEWATT_LOG").unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
}

/// A test config: small fixed jobs, generous rate limits.
pub fn test_config() -> Config {
    Config {
        fixed_job_dim: Some(64),
        rate_limit_per_s: 1000.0,
        rate_limit_burst: 1000.0,
        // Calibration work for the tests that exercise leases; client tests use their own.
        bootstrap_budget: idlewatt_protocol::TokenAmount::tokens(1_000_000_000),
        ..Config::default()
    }
}

pub async fn start(config: Config) -> Handle {
    init_tracing();
    idlewatt_coordinator::start(config).await.unwrap()
}

/// A node: a fixed key and an HTTP client.
pub struct Node {
    pub key: PrivateKeySigner,
    pub http: reqwest::Client,
    pub base: String,
}

pub const LIMITS: NodeLimits = NodeLimits { max_dim: 4096, max_buffer_bytes: 1 << 30 };

impl Node {
    pub fn new(handle: &Handle, n: u8) -> Self {
        Self::at(&handle.url(), n)
    }

    /// A node of the coordinator at `base` (e.g. one running as a subprocess).
    pub fn at(base: &str, n: u8) -> Self {
        let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(n)).unwrap();
        Self { key, http: reqwest::Client::new(), base: base.to_owned() }
    }

    /// A node with key number `n` (any u64) whose connections come from `ip` (any
    /// 127.x.y.z works on loopback without set-up), for tests of per-range limits.
    pub fn from_ip(handle: &Handle, n: u64, ip: std::net::IpAddr) -> Self {
        let mut bytes = [0x11u8; 32];
        bytes[24..].copy_from_slice(&n.to_be_bytes());
        let key = PrivateKeySigner::from_bytes(&B256::from(bytes)).unwrap();
        let http = reqwest::Client::builder().local_address(ip).build().unwrap();
        Self { key, http, base: handle.url() }
    }

    /// A GET signed by this node.
    pub async fn get_signed(&self, path: &str) -> reqwest::Response {
        let auth = sign_request_with_key(&self.key, "GET", path, b"").unwrap();
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in auth.to_pairs() {
            req = req.header(k, v);
        }
        req.send().await.unwrap()
    }

    pub fn address(&self) -> alloy::primitives::Address {
        self.key.address()
    }

    /// POSTs `body` with the given auth headers.
    pub async fn post_with(&self, path: &str, body: Vec<u8>, auth: &AuthHeaders) -> reqwest::Response {
        let mut req = self.http.post(format!("{}{path}", self.base)).header("content-type", "application/json");
        for (k, v) in auth.to_pairs() {
            req = req.header(k, v);
        }
        req.body(body).send().await.unwrap()
    }

    /// POSTs `body` signed now with a fresh nonce.
    pub async fn post(&self, path: &str, body: Vec<u8>) -> reqwest::Response {
        let auth = sign_request_with_key(&self.key, "POST", path, &body).unwrap();
        self.post_with(path, body, &auth).await
    }

    pub async fn register(&self) {
        self.register_full("Test CPU", "vulkan", &[idlewatt_protocol::Precision::F32]).await;
    }

    /// Registers with the given adapter name (its first word is the vendor) and back-end.
    pub async fn register_as(&self, adapter: &str, backend: &str) {
        self.register_full(adapter, backend, &[idlewatt_protocol::Precision::F32]).await;
    }

    /// Registers (or re-registers) saying it benchmarked `precisions`.
    pub async fn register_with(&self, precisions: &[idlewatt_protocol::Precision]) {
        self.register_full("Test CPU", "vulkan", precisions).await;
    }

    /// Registers with an adapter, back-end and benchmarked precisions.
    pub async fn register_full(&self, adapter: &str, backend: &str, precisions: &[idlewatt_protocol::Precision]) {
        let reg = NodeRegistration {
            address: self.address(),
            hardware: HardwareSummary {
                adapter: adapter.into(),
                backend: backend.into(),
                device_type: "cpu".into(),
                max_buffer_bytes: 1 << 30,
                benchmark_gflops: 1.0,
                precisions: precisions.to_vec(),
            },
            app_version: "0.1.0".into(),
        };
        let r = self.post("/v1/nodes", serde_json::to_vec(&reg).unwrap()).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    pub async fn try_lease(&self) -> reqwest::Response {
        self.post("/v1/leases", serde_json::to_vec(&LeaseRequest { limits: LIMITS }).unwrap()).await
    }

    pub async fn lease(&self) -> Lease {
        let r = self.try_lease().await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    pub async fn submit(&self, lease: &Lease, sub: &ResultSubmission) -> reqwest::Response {
        self.post(&format!("/v1/leases/{}/result", lease.lease_id), serde_json::to_vec(sub).unwrap()).await
    }

    /// The node's account as its owner sees it (a signed GET: with the job history).
    pub async fn balance(&self) -> AccountBalance {
        let r = self.get_signed(&format!("/v1/accounts/{}", self.address())).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// The node's account as anyone sees it (unsigned).
    pub async fn public_balance(&self) -> AccountBalance {
        let r = self.http.get(format!("{}/v1/accounts/{}", self.base, self.address())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }
}

/// The honest answer, computed on the CPU in f32.
pub fn compute(job: &JobSpec) -> Vec<f32> {
    let JobSpec::Matmul { m, n, k, seed, .. } = *job else { panic!("not calibration work: {job:?}") };
    let (a, b) = matmul_inputs(seed, m, n, k);
    let (m, n, k) = (m as usize, n as usize, k as usize);
    let mut c = vec![0.0f32; m * n];
    for i in 0..m {
        for p in 0..k {
            let aip = a[i * k + p];
            for j in 0..n {
                c[i * n + j] += aip * b[p * n + j];
            }
        }
    }
    c
}

/// An error answer's body.
pub async fn error_of(r: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an error body ({e}): {text}")))
}

pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
