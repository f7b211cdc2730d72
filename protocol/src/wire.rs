//! The JSON bodies of the `/v1` API (DESIGN §3). Field names are snake_case; amounts
//! are decimal strings of base units ([`TokenAmount`]); times are unix milliseconds;
//! seeds are below 2⁵³ so every JSON parser reads them exactly.
//!
//! A result's C travels as `f32le-base64`: the m·n f32 values of C, row-major, as
//! little-endian IEEE-754 bytes, base64 (standard alphabet, padded). That is 5.33 bytes
//! per value against ~10–12 for a JSON array of floats, and it round-trips bit-exactly.
//! Its SHA-256 (`c_sha256`, lowercase hex) is taken over those raw bytes, not the text.

use alloy::primitives::Address;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::amount::TokenAmount;
use crate::precision::Precision;

/// Path prefix of this protocol version.
pub const API_PREFIX: &str = "/v1";

/// The only encoding of a result matrix so far.
pub const ENCODING_F32LE_BASE64: &str = "f32le-base64";

/// What a node tells the coordinator about its GPU (from its hardware profile and
/// benchmark), so leases can be sized to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardwareSummary {
    /// Adapter name, e.g. "NVIDIA GeForce RTX 4070".
    pub adapter: String,
    /// wgpu back-end: "vulkan", "metal", "dx12", "gl".
    pub backend: String,
    /// "discrete", "integrated", "virtual", "cpu", "other".
    pub device_type: String,
    /// Largest single buffer the device accepts, bytes.
    pub max_buffer_bytes: u64,
    /// Measured matmul throughput (`idlewatt-node bench`), GFLOP/s.
    pub benchmark_gflops: f64,
    /// The precisions the node benchmarked a kernel path for (its tuning); nodes that
    /// predate the field computed f32 only.
    #[serde(default = "default_precisions")]
    pub precisions: Vec<crate::Precision>,
}

fn default_precisions() -> Vec<crate::Precision> {
    vec![crate::Precision::F32]
}

/// `POST /v1/nodes` body. `address` must be the request's signer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRegistration {
    /// The node's identity: its wallet address.
    pub address: Address,
    /// Its GPU.
    pub hardware: HardwareSummary,
    /// The app's version, e.g. "0.1.0".
    pub app_version: String,
}

/// `POST /v1/nodes` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    /// The registered address.
    pub address: Address,
    /// At most this many leases open at once.
    pub max_open_leases: u32,
    /// Reward rate, base units per TFLOP of verified work.
    pub reward_per_tflop: TokenAmount,
}

/// Limits of what a node can take on now (may be lower than its registered profile,
/// e.g. while the owner uses part of the GPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLimits {
    /// Largest m, n or k.
    pub max_dim: u32,
    /// Largest single buffer (each of A, B and C must fit), bytes.
    pub max_buffer_bytes: u64,
}

/// `POST /v1/leases` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRequest {
    /// What the node can take on.
    pub limits: NodeLimits,
}

/// A job's kind and parameters (`"kind": "matmul"` or `"kind": "client_matmul"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// Calibration work: C (m×n) = A (m×k) · B (k×n) with inputs from
    /// [`crate::inputs::matmul_inputs`]. Paid only from an operator's bootstrap budget
    /// (benchmarks, probation of new nodes), and labelled calibration everywhere.
    Matmul {
        /// Rows of A and C.
        m: u32,
        /// Columns of B and C.
        n: u32,
        /// Columns of A, rows of B.
        k: u32,
        /// Seed of A (B's is derived from it).
        seed: u64,
        /// Storage precision of A and B (older coordinators omit it: f32).
        #[serde(default)]
        precision: Precision,
    },
    /// Rows `row_start..row_start + rows` of a client's C (m×n) = A (m×k) · B (k×n).
    /// A and B are `.npy` blobs the node downloads (`GET /v1/blobs/{sha256}`, cached by
    /// digest); the node computes and submits only its block of C (rows×n, f32).
    ClientMatmul {
        /// SHA-256 of A's `.npy` (m×k).
        a_sha256: String,
        /// SHA-256 of B's `.npy` (k×n).
        b_sha256: String,
        /// Rows of the whole A and C.
        m: u32,
        /// Columns of B and C.
        n: u32,
        /// Columns of A, rows of B.
        k: u32,
        /// First row of C of this block.
        row_start: u32,
        /// Rows of C in this block.
        rows: u32,
        /// Storage precision of A and B (`<f4` or `<f2` blobs).
        #[serde(default)]
        precision: Precision,
    },
    /// A batch of a client's texts (as token ids) to embed with a served model; the
    /// node downloads the model's files once (`GET /v1/models/{sha256}/{file}`) and
    /// submits one L2-normalised vector per sequence, in order (sequences × dim, f32).
    Embeddings(crate::models::EmbeddingsBatch),
}

/// Who pays for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkOrigin {
    /// A client, from its escrow.
    Client,
    /// The operator's calibration (bootstrap) budget.
    Calibration,
}

impl JobSpec {
    /// Floating-point operations of the job (2·rows·n·k for a matmul; the
    /// coordinator's estimate from the model's configuration for embeddings).
    pub fn flops(&self) -> u128 {
        if let Self::Embeddings(batch) = self {
            return u128::from(batch.flops);
        }
        let (m, n, k) = self.dims();
        2 * u128::from(m) * u128::from(n) * u128::from(k)
    }

    /// Values in the result (rows·n for a matmul, sequences·dim for embeddings).
    pub fn result_len(&self) -> usize {
        let (m, n, _) = self.dims();
        m as usize * n as usize
    }

    /// (rows of the result, n, k): what the node multiplies; for embeddings
    /// (sequences, dim, longest sequence).
    pub fn dims(&self) -> (u32, u32, u32) {
        match self {
            Self::Matmul { m, n, k, .. } => (*m, *n, *k),
            Self::ClientMatmul { n, k, rows, .. } => (*rows, *n, *k),
            Self::Embeddings(b) => {
                let longest = b.sequences.iter().map(Vec::len).max().unwrap_or(0);
                (
                    u32::try_from(b.sequences.len()).unwrap_or(u32::MAX),
                    b.dim,
                    u32::try_from(longest).unwrap_or(u32::MAX),
                )
            }
        }
    }

    /// The inputs' precision (embeddings run in f32).
    pub fn precision(&self) -> Precision {
        match *self {
            Self::Matmul { precision, .. } | Self::ClientMatmul { precision, .. } => precision,
            Self::Embeddings(_) => Precision::F32,
        }
    }

    /// Who pays for it.
    pub fn origin(&self) -> WorkOrigin {
        match self {
            Self::Matmul { .. } => WorkOrigin::Calibration,
            Self::ClientMatmul { .. } | Self::Embeddings(_) => WorkOrigin::Client,
        }
    }
}

/// `POST /v1/leases` answer: a job the node holds until `deadline_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// Where to submit: `POST /v1/leases/{lease_id}/result`.
    pub lease_id: String,
    /// The job (the same job is leased again to another node if this lease expires).
    pub job_id: String,
    /// What to compute.
    pub job: JobSpec,
    /// When the lease was issued, unix ms.
    pub issued_at_ms: i64,
    /// Results after this are refused, unix ms.
    pub deadline_ms: i64,
    /// Credited when the result verifies.
    pub reward: TokenAmount,
}

/// `POST /v1/leases/{id}/result` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultSubmission {
    /// Always [`ENCODING_F32LE_BASE64`] so far.
    pub encoding: String,
    /// C, encoded as `encoding` says.
    pub c: String,
    /// SHA-256 of C's raw little-endian bytes, lowercase hex.
    pub c_sha256: String,
}

/// A result body that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// An encoding other than [`ENCODING_F32LE_BASE64`].
    #[error("unknown encoding {0:?} (expected \"f32le-base64\")")]
    UnknownEncoding(String),
    /// Not base64.
    #[error("c is not valid base64: {0}")]
    Base64(String),
    /// The wrong number of values.
    #[error("c has {got} bytes, expected {expected} ({values} f32 values)")]
    Length {
        /// Bytes decoded.
        got: usize,
        /// Bytes expected.
        expected: usize,
        /// Values expected.
        values: usize,
    },
    /// The digest does not match the data.
    #[error("c_sha256 does not match c (computed {computed})")]
    DigestMismatch {
        /// SHA-256 of the decoded bytes.
        computed: String,
    },
}

/// SHA-256 of a matrix's little-endian bytes, lowercase hex.
pub fn matrix_sha256(c: &[f32]) -> String {
    let mut h = Sha256::new();
    for chunk in c.chunks(4096) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
        h.update(&bytes);
    }
    alloy::hex::encode(h.finalize())
}

impl ResultSubmission {
    /// Encodes C (row-major m×n) for submission.
    pub fn new(c: &[f32]) -> Self {
        let bytes: Vec<u8> = c.iter().flat_map(|x| x.to_le_bytes()).collect();
        Self {
            encoding: ENCODING_F32LE_BASE64.to_owned(),
            c: base64::engine::general_purpose::STANDARD.encode(&bytes),
            c_sha256: alloy::hex::encode(Sha256::digest(&bytes)),
        }
    }

    /// Decodes C, checking that it has `expected_len` values and matches `c_sha256`.
    /// Returns the values and the (recomputed) digest.
    pub fn decode(&self, expected_len: usize) -> Result<(Vec<f32>, String), DecodeError> {
        if self.encoding != ENCODING_F32LE_BASE64 {
            return Err(DecodeError::UnknownEncoding(self.encoding.clone()));
        }
        let expected = expected_len.saturating_mul(4);
        // Refuse before allocating when the text cannot be the right size.
        let max_text = expected.div_ceil(3).saturating_mul(4);
        if self.c.len() > max_text {
            return Err(DecodeError::Length { got: self.c.len() / 4 * 3, expected, values: expected_len });
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.c.as_bytes())
            .map_err(|e| DecodeError::Base64(e.to_string()))?;
        if bytes.len() != expected {
            return Err(DecodeError::Length { got: bytes.len(), expected, values: expected_len });
        }
        let computed = alloy::hex::encode(Sha256::digest(&bytes));
        if !computed.eq_ignore_ascii_case(self.c_sha256.trim()) {
            return Err(DecodeError::DigestMismatch { computed });
        }
        let values = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Ok((values, computed))
    }
}

/// Whether a submitted result verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    /// Passed verification; the reward is credited.
    Verified,
    /// Failed verification; nothing credited, and it counts against the node.
    Rejected,
}

/// `POST /v1/leases/{id}/result` answer (200 when verified). A rejected result is
/// answered 422 with an [`ErrorBody`] of kind [`ErrorKind::ResultRejected`]. Either
/// answer is repeated unchanged for a resubmission of the same result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionOutcome {
    /// The lease.
    pub lease_id: String,
    /// The job.
    pub job_id: String,
    /// Verified or rejected.
    pub status: ResultStatus,
    /// Credited (zero when rejected).
    pub reward: TokenAmount,
    /// SHA-256 of the judged C.
    pub c_sha256: String,
}

/// A lease's state in an account's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Held by the node, not yet submitted.
    Leased,
    /// Result verified, reward credited.
    Verified,
    /// Result failed verification.
    Rejected,
    /// Deadline passed without a result.
    Expired,
}

/// One job in an account's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The lease.
    pub lease_id: String,
    /// The job.
    pub job_id: String,
    /// What it was.
    pub job: JobSpec,
    /// Where it stands.
    pub state: JobState,
    /// The reward (credited only when verified).
    pub reward: TokenAmount,
    /// Issued, unix ms.
    pub issued_at_ms: i64,
    /// Verified/rejected, unix ms.
    pub finished_at_ms: Option<i64>,
    /// The client paying for it (`None` for calibration work, and from older
    /// coordinators): lets a node tell, e.g., its local network's demo client apart.
    #[serde(default)]
    pub client: Option<Address>,
}

/// `GET /v1/accounts/{address}` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountBalance {
    /// The account (a node's address).
    pub address: Address,
    /// Rewards of leases held now, not yet earned.
    pub pending: TokenAmount,
    /// Everything ever credited for verified work.
    pub verified: TokenAmount,
    /// Credits minus withdrawals.
    pub withdrawable: TokenAmount,
    /// The latest jobs, newest first.
    pub recent_jobs: Vec<JobRecord>,
}

/// `GET /v1/network` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkStatus {
    /// Jobs waiting for a node (e.g. after a lease expired).
    pub open_jobs: u64,
    /// Leases being worked on now.
    pub active_leases: u64,
    /// Nodes seen within `online_window_s`.
    pub nodes_online: u64,
    /// What "online" means, seconds.
    pub online_window_s: u64,
    /// Base units per TFLOP of verified work.
    pub reward_per_tflop: TokenAmount,
    /// Chain id withdrawals are signed for and paid on
    /// ([`crate::withdrawal::DEVNET_CHAIN_ID`] on a devnet).
    #[serde(default)]
    pub chain_id: u64,
    /// The token's symbol, e.g. "IDLE".
    #[serde(default)]
    pub token_symbol: String,
    /// The ERC-20 contract paid from (`None` on a devnet).
    #[serde(default)]
    pub token_address: Option<Address>,
    /// No chain configured: withdrawals are settled in the ledger only.
    #[serde(default)]
    pub devnet: bool,
    /// Smallest withdrawal, base units.
    #[serde(default)]
    pub min_withdrawal: TokenAmount,
    /// Client jobs waiting for or being computed by nodes ("paid work waiting").
    #[serde(default)]
    pub paid_jobs_waiting: u64,
    /// Calibration work is paid from an operator budget now.
    #[serde(default)]
    pub calibration_budget: bool,
    /// The ledger's consistency check (older coordinators omit it).
    #[serde(default)]
    pub books: Option<Books>,
}

/// The books: deposits − withdrawals = client balances + escrow + node balances +
/// fees, summed over the whole append-only ledger. `balanced` is that equation and
/// "no account is negative".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Books {
    /// Tokens that entered: client deposits, faucet grants, the operator's bootstrap
    /// budget, and rewards minted before escrow existed.
    pub deposits: TokenAmount,
    /// Tokens that left: withdrawals (failed ones refunded).
    pub withdrawals: TokenAmount,
    /// Clients' available balances (the operator's calibration budget included).
    pub client_balances: TokenAmount,
    /// Held for unfinished jobs.
    pub escrow: TokenAmount,
    /// Nodes' withdrawable balances.
    pub node_balances: TokenAmount,
    /// The operator's fee account.
    pub fees: TokenAmount,
    /// The equation holds and no account is negative.
    pub balanced: bool,
}

/// Answer to `POST /v1/leases/{id}/release`: the lease is given back and its job is
/// open for other nodes. Releasing a lease already released answers the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseReleased {
    /// The lease given back.
    pub lease_id: String,
    /// Its job, open again.
    pub job_id: String,
}

/// What went wrong, for a program to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Malformed body or parameter (400).
    BadRequest,
    /// Missing/bad signature, stale timestamp, replayed nonce (401).
    Unauthorized,
    /// Not allowed: not your lease, not registered (403).
    Forbidden,
    /// The node gets no more work (403); the message says why.
    NodeRefused,
    /// No such lease or account (404).
    NotFound,
    /// A different result was already submitted (409).
    Conflict,
    /// The lease's deadline passed (410).
    LeaseExpired,
    /// Body too large (413).
    PayloadTooLarge,
    /// The result failed verification (422).
    ResultRejected,
    /// Too many requests or open leases (429).
    RateLimited,
    /// A withdrawal above the withdrawable balance (409); nothing was debited.
    InsufficientBalance,
    /// The treasury cannot pay this withdrawal now (503); nothing was debited.
    TreasuryLow,
    /// The coordinator's fault (500).
    Internal,
    /// The job's price is above the client's balance, maximum or key limit (402); the
    /// body is a [`crate::client::PaymentRequiredBody`] with the amounts.
    PaymentRequired,
    /// No client work and no calibration budget: nothing to lease now (503); ask again
    /// later.
    NoPaidWork,
}

/// The `error` member of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// What kind of error.
    pub kind: ErrorKind,
    /// For people.
    pub message: String,
}

/// Every error answer: `{ "error": { "kind": ..., "message": ... } }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// An error body.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { error: ErrorDetail { kind, message: message.into() } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_encoding_round_trips_bit_exactly() {
        let c = vec![1.0f32, -0.0, f32::MIN_POSITIVE, 3.25, -7.5e-30];
        let s = ResultSubmission::new(&c);
        assert_eq!(s.encoding, "f32le-base64");
        let (back, digest) = s.decode(5).unwrap();
        assert_eq!(
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            c.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(digest, matrix_sha256(&c));
        assert!(matches!(s.decode(4), Err(DecodeError::Length { .. })));
        assert!(matches!(s.decode(6), Err(DecodeError::Length { .. })));
        let mut bad = s.clone();
        bad.c_sha256 = "00".repeat(32);
        assert!(matches!(bad.decode(5), Err(DecodeError::DigestMismatch { .. })));
        bad = s.clone();
        bad.c.replace_range(0..1, "*");
        assert!(matches!(bad.decode(5), Err(DecodeError::Base64(_))));
        bad = s;
        bad.encoding = "json".into();
        assert!(matches!(bad.decode(5), Err(DecodeError::UnknownEncoding(_))));
    }

    #[test]
    fn wire_shapes_are_as_documented() {
        let job = JobSpec::Matmul { m: 2, n: 3, k: 4, seed: 9, precision: Precision::F32 };
        assert_eq!(
            serde_json::to_value(&job).unwrap(),
            serde_json::json!({"kind": "matmul", "m": 2, "n": 3, "k": 4, "seed": 9, "precision": "f32"})
        );
        // An older coordinator's calibration lease (no precision) still parses.
        let old: JobSpec =
            serde_json::from_value(serde_json::json!({"kind": "matmul", "m": 2, "n": 3, "k": 4, "seed": 9})).unwrap();
        assert_eq!(old, job);
        assert_eq!(job.flops(), 48);
        assert_eq!(job.origin(), WorkOrigin::Calibration);
        let block = JobSpec::ClientMatmul {
            a_sha256: "aa".into(),
            b_sha256: "bb".into(),
            m: 100,
            n: 3,
            k: 4,
            row_start: 10,
            rows: 5,
            precision: Precision::F16,
        };
        assert_eq!(block.flops(), 2 * 5 * 3 * 4);
        assert_eq!(block.result_len(), 15);
        assert_eq!(serde_json::to_value(&block).unwrap()["kind"], "client_matmul");
        assert_eq!(block.origin(), WorkOrigin::Client);
        let e = ErrorBody::new(ErrorKind::NodeRefused, "3 bad results");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"error": {"kind": "node_refused", "message": "3 bad results"}})
        );
    }
}
