//! The client half of the `/v1` API (DESIGN §3 "Clients"): the bodies a client sends
//! and receives to fund an account, create API keys, upload inputs, submit, follow,
//! cancel and collect jobs, and read the price list. The OpenAI-compatible embeddings
//! bodies are in [`crate::openai`].
//!
//! # Who may call what
//! A client's identity is a wallet address. Every client call is either signed like a
//! node's (the headers of [`crate::auth::AuthHeaders`]) or carries
//! `Authorization: Bearer <api key>` from `POST /v1/keys`; the key management calls
//! themselves (`/v1/keys`, `/v1/faucet`) must be signed.
//!
//! | call | body → answer |
//! | --- | --- |
//! | `POST /v1/keys` (signed) | [`KeyCreate`] → 201 [`KeyCreated`] (the key, shown once) |
//! | `GET /v1/keys` (signed) | → [`KeyList`] |
//! | `DELETE /v1/keys/{id}` (signed) | → [`KeyInfo`] (revoked) |
//! | `POST /v1/faucet` (signed, devnet only) | [`FaucetRequest`] → [`FaucetGrant`] |
//! | `GET /v1/clients/{address}` | → [`ClientAccount`] |
//! | `GET /v1/deposit` | → [`DepositInfo`] (where to send tokens) |
//! | `PUT /v1/blobs/{sha256}` | raw `.npy` bytes → [`BlobStored`] (201 new, 200 known) |
//! | `GET /v1/blobs/{sha256}` (signed, nodes holding a lease on it) | → the bytes |
//! | `POST /v1/jobs` | [`JobSubmission`] → 201 [`ClientJob`]; 402 [`PaymentRequiredBody`] |
//! | `GET /v1/jobs` | → [`ClientJobList`] (the caller's own, newest first) |
//! | `GET /v1/jobs/{id}` | → [`ClientJob`] |
//! | `GET /v1/jobs/{id}/result` | → C as `.npy` (`application/octet-stream`) |
//! | `DELETE /v1/jobs/{id}` | → [`ClientJob`] (cancelled, unspent escrow refunded) |
//! | `GET /v1/prices` | → [`PriceList`] |
//!
//! Amounts are [`TokenAmount`]s (decimal strings of base units); times unix ms.

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use crate::amount::TokenAmount;
use crate::precision::Precision;
use crate::wire::ErrorDetail;

/// Prefix of every API key (`iwk_` + 43 characters of base64url).
pub const API_KEY_PREFIX: &str = "iwk_";

/// The `Authorization` scheme of API keys.
pub const BEARER: &str = "Bearer";

/// `POST /v1/keys` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCreate {
    /// A name for people ("laptop", "CI"); at most 64 bytes.
    #[serde(default)]
    pub label: String,
    /// Most the key may commit to jobs in total (escrow held minus refunds); `None`:
    /// only the account's balance limits it.
    #[serde(default)]
    pub spending_limit: Option<TokenAmount>,
    /// The key stops working at this time (unix ms); `None`: until revoked.
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
}

/// A key as listed: never the key itself, which only [`KeyCreated`] shows, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The key's id (for `DELETE /v1/keys/{id}`).
    pub id: String,
    /// Its label.
    pub label: String,
    /// The first characters of the key (`iwk_AbCd`), to recognise it.
    pub prefix: String,
    /// The spending limit, if any.
    pub spending_limit: Option<TokenAmount>,
    /// Committed to jobs so far (escrow held minus refunds).
    pub spent: TokenAmount,
    /// Expiry, if any.
    pub expires_at_ms: Option<i64>,
    /// Created.
    pub created_at_ms: i64,
    /// Last used, if ever.
    pub last_used_at_ms: Option<i64>,
    /// Revoked at, if revoked.
    pub revoked_at_ms: Option<i64>,
}

/// `POST /v1/keys` answer (201): the only time the key is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCreated {
    /// The secret key: send it as `Authorization: Bearer <key>`. The coordinator keeps
    /// only its SHA-256 and cannot show it again.
    pub key: String,
    /// What the listing will show of it.
    #[serde(flatten)]
    pub info: KeyInfo,
}

/// `GET /v1/keys` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    /// The signer's keys, newest first (revoked ones included).
    pub keys: Vec<KeyInfo>,
}

/// `POST /v1/faucet` body (devnet only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaucetRequest {
    /// How much; `None`: the faucet's per-request amount. Capped per address.
    #[serde(default)]
    pub amount: Option<TokenAmount>,
}

/// `POST /v1/faucet` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaucetGrant {
    /// The funded client.
    pub address: Address,
    /// Credited now (a deposit in the ledger).
    pub credited: TokenAmount,
    /// The client's available balance after it.
    pub balance: TokenAmount,
    /// What this address may still get from the faucet.
    pub remaining: TokenAmount,
}

/// `GET /v1/clients/{address}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAccount {
    /// The client.
    pub address: Address,
    /// Available for new jobs.
    pub balance: TokenAmount,
    /// Held for the client's running jobs.
    pub escrow: TokenAmount,
    /// Everything ever deposited (chain deposits and faucet grants).
    pub deposited: TokenAmount,
    /// Everything paid for verified work (to nodes and fees).
    pub spent: TokenAmount,
    /// Jobs not finished yet.
    pub active_jobs: u64,
}

/// `GET /v1/deposit` answer: where a client sends tokens to fund its account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositInfo {
    /// No chain: fund with `POST /v1/faucet` instead.
    pub devnet: bool,
    /// The chain (0 on a devnet).
    pub chain_id: u64,
    /// The ERC-20 to send (`None` on a devnet).
    pub token_address: Option<Address>,
    /// The treasury to send it to (`None` on a devnet). A `Transfer` to it is
    /// credited to the transfer's sender.
    pub treasury: Option<Address>,
    /// Blocks (the transfer's own included) before a deposit is credited.
    pub confirmations: u64,
    /// Token symbol.
    pub token_symbol: String,
    /// The faucet is open (devnet only).
    pub faucet: bool,
}

/// `PUT /v1/blobs/{sha256}` answer (201 when stored now, 200 when already known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStored {
    /// SHA-256 of the bytes, lowercase hex (the blob's name).
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// `"f32"` or `"f16"` (the `.npy` dtype `<f4` or `<f2`).
    pub dtype: Precision,
    /// `[rows, cols]`.
    pub shape: [u64; 2],
}

/// `POST /v1/jobs` body: the job and the most the client will pay for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSubmission {
    /// C = A·B of the client's own matrices, uploaded first as blobs.
    Matmul {
        /// SHA-256 of A's `.npy` blob (m×k).
        a_sha256: String,
        /// SHA-256 of B's `.npy` blob (k×n).
        b_sha256: String,
        /// Must be the blobs' dtype (`f32` for `<f4`, `f16` for `<f2`); C is always f32.
        #[serde(default)]
        precision: Precision,
        /// Refused (402) if the quote is higher.
        max_price: TokenAmount,
        /// Refunded if not done within this many seconds (default: the coordinator's).
        #[serde(default)]
        expires_in_s: Option<u64>,
    },
    /// Sentence embeddings of `input` with `model` (see `GET /v1/models`).
    Embeddings {
        /// A model the network serves.
        model: String,
        /// The texts.
        input: Vec<String>,
        /// Refused (402) if the quote is higher.
        max_price: TokenAmount,
        /// Refunded if not done within this many seconds (default: the coordinator's).
        #[serde(default)]
        expires_in_s: Option<u64>,
    },
}

impl JobSubmission {
    /// The most the client will pay.
    pub fn max_price(&self) -> TokenAmount {
        match self {
            Self::Matmul { max_price, .. } | Self::Embeddings { max_price, .. } => *max_price,
        }
    }

    /// The requested expiry, seconds.
    pub fn expires_in_s(&self) -> Option<u64> {
        match self {
            Self::Matmul { expires_in_s, .. } | Self::Embeddings { expires_in_s, .. } => *expires_in_s,
        }
    }
}

/// The kind of a client job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientJobKind {
    /// C = A·B.
    Matmul,
    /// Sentence embeddings.
    Embeddings,
}

/// Where a client job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientJobStatus {
    /// Escrow held, no node has started yet.
    Queued,
    /// Nodes are computing it.
    Running,
    /// Every part verified: the result is ready.
    Done,
    /// Cancelled by the client; the unspent escrow was refunded.
    Cancelled,
    /// Not finished in time; the unspent escrow was refunded.
    Expired,
    /// A part could not be verified after repeated tries; the unspent escrow was refunded.
    Failed,
}

impl ClientJobStatus {
    /// Done, cancelled, expired or failed: nothing will change any more.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

/// How far a job is: `done` of `total` units (rows of C for a matmul, texts for
/// embeddings), verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Units verified.
    pub done: u64,
    /// Units in the job.
    pub total: u64,
}

/// Shape of a matmul job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatmulShape {
    /// Rows of A and C.
    pub m: u32,
    /// Columns of B and C.
    pub n: u32,
    /// Columns of A, rows of B.
    pub k: u32,
    /// The inputs' precision.
    pub precision: Precision,
}

/// A client job: `POST /v1/jobs`, `GET /v1/jobs/{id}` and `DELETE /v1/jobs/{id}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientJob {
    /// The job's id.
    pub id: String,
    /// Its kind.
    pub kind: ClientJobKind,
    /// Where it stands.
    pub status: ClientJobStatus,
    /// Matmul jobs: the shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matmul: Option<MatmulShape>,
    /// Embeddings jobs: the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Verified units.
    pub progress: Progress,
    /// The quote, held in escrow when the job was accepted.
    pub price: TokenAmount,
    /// The client's maximum.
    pub max_price: TokenAmount,
    /// Paid out of escrow so far (to nodes and fees) for verified parts.
    pub cost_so_far: TokenAmount,
    /// Given back to the client's balance (cancel, expiry, failure).
    pub refunded: TokenAmount,
    /// Submitted, unix ms.
    pub created_at_ms: i64,
    /// Refunded if not done by then, unix ms.
    pub expires_at_ms: i64,
    /// Done/cancelled/expired/failed at, unix ms.
    pub finished_at_ms: Option<i64>,
    /// Path of the result (`/v1/jobs/{id}/result`) once done.
    pub result_url: Option<String>,
    /// Why it failed, expired or was cancelled.
    pub reason: Option<String>,
}

/// `GET /v1/jobs` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientJobList {
    /// The caller's jobs, newest first (at most 100).
    pub jobs: Vec<ClientJob>,
}

/// Why a job needs more money (402).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortfallReason {
    /// The client's available balance is below the quote.
    Balance,
    /// The quote is above the submission's `max_price`.
    MaxPrice,
    /// The API key's spending limit would be exceeded.
    SpendingLimit,
}

/// The payment details of a 402.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    /// Which limit is short.
    pub reason: ShortfallReason,
    /// The job's price.
    pub price: TokenAmount,
    /// What that limit allows now (balance, max price, or what is left of the key's limit).
    pub available: TokenAmount,
    /// How much more is needed: `price − available`.
    pub needed: TokenAmount,
}

/// A 402 answer: the usual error body (kind `payment_required`) plus the amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequiredBody {
    /// `{ "kind": "payment_required", "message": ... }`.
    pub error: ErrorDetail,
    /// The amounts.
    pub payment: Shortfall,
}

/// A reference value of the token, set by the operator, for showing earnings minus
/// electricity in one currency. A display figure only: no money moves by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceValue {
    /// ISO 4217 code, e.g. "EUR".
    pub currency: String,
    /// Value of one whole token in that currency.
    pub per_token: f64,
}

/// `GET /v1/prices` answer: the operator's public price list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceList {
    /// Matmul: base units per TFLOP (10¹² floating-point operations, 2·m·n·k per job).
    pub matmul_per_tflop: TokenAmount,
    /// Embeddings: base units per 1,000 input tokens.
    pub embeddings_per_1k_tokens: TokenAmount,
    /// The operator's fee, in basis points (1/100 of a percent) of each verified part's
    /// price; the node gets the rest.
    pub fee_bps: u32,
    /// The token's symbol.
    pub token_symbol: String,
    /// The operator's reference value of the token, if set.
    pub reference: Option<ReferenceValue>,
    /// Calibration (seeded) work is paid from an operator budget now.
    pub calibration_budget: bool,
}

impl PriceList {
    /// The node's share of `price` (the price minus the fee, rounded in the node's
    /// favour: the fee is rounded down).
    pub fn node_share(&self, price: TokenAmount) -> TokenAmount {
        TokenAmount(price.0 - fee_of(price, self.fee_bps).0)
    }
}

/// The fee on `price` at `fee_bps` basis points, rounded down.
pub fn fee_of(price: TokenAmount, fee_bps: u32) -> TokenAmount {
    let bps = u128::from(fee_bps.min(10_000));
    // price · bps / 10⁴ without overflow: split the price.
    TokenAmount(price.0 / 10_000 * bps + price.0 % 10_000 * bps / 10_000)
}

/// The quote of a matmul: 2·m·n·k FLOPs at `per_tflop`, rounded up to a whole base
/// unit so that no job is free; `None` on overflow.
pub fn matmul_price(m: u32, n: u32, k: u32, per_tflop: TokenAmount) -> Option<TokenAmount> {
    let flops = 2 * u128::from(m) * u128::from(n) * u128::from(k);
    flops.checked_mul(per_tflop.0).map(|x| TokenAmount(x.div_ceil(1_000_000_000_000).max(1)))
}

/// The share of `price` that rows `start..end` of `total` rows carry: the differences
/// of ⌊price·r/total⌋, so the parts add up to exactly `price` however the rows are cut.
pub fn part_price(price: TokenAmount, start: u64, end: u64, total: u64) -> TokenAmount {
    let at = |r: u64| -> u128 {
        if total == 0 {
            return 0;
        }
        let (p, r, t) = (price.0, u128::from(r), u128::from(total));
        // ⌊p·r/t⌋ without overflowing u128: p = q·t + s.
        (p / t) * r + (p % t) * r / t
    };
    TokenAmount(at(end.min(total)) - at(start.min(end).min(total)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn submissions_have_the_documented_shape() {
        let s: JobSubmission = serde_json::from_value(serde_json::json!({
            "kind": "matmul", "a_sha256": "aa", "b_sha256": "bb", "max_price": "1000"
        }))
        .unwrap();
        assert_eq!(
            s,
            JobSubmission::Matmul {
                a_sha256: "aa".into(),
                b_sha256: "bb".into(),
                precision: Precision::F32,
                max_price: TokenAmount(1000),
                expires_in_s: None
            }
        );
        let e: JobSubmission = serde_json::from_value(serde_json::json!({
            "kind": "embeddings", "model": "all-MiniLM-L6-v2", "input": ["hi"], "max_price": "5", "expires_in_s": 60
        }))
        .unwrap();
        assert_eq!(e.max_price(), TokenAmount(5));
        assert_eq!(e.expires_in_s(), Some(60));
        let created = KeyCreated {
            key: "iwk_x".into(),
            info: KeyInfo {
                id: "k1".into(),
                label: "ci".into(),
                prefix: "iwk_x".into(),
                spending_limit: None,
                spent: TokenAmount::ZERO,
                expires_at_ms: None,
                created_at_ms: 1,
                last_used_at_ms: None,
                revoked_at_ms: None,
            },
        };
        let v = serde_json::to_value(&created).unwrap();
        assert_eq!(v["key"], "iwk_x");
        assert_eq!(v["id"], "k1");
        assert_eq!(serde_json::from_value::<KeyCreated>(v).unwrap(), created);
    }

    #[test]
    fn prices_fees_and_parts() {
        // 2·64³ FLOPs at 1 token/TFLOP.
        assert_eq!(matmul_price(64, 64, 64, TokenAmount::tokens(1)), Some(TokenAmount(524_288_000_000)));
        assert_eq!(matmul_price(1, 1, 1, TokenAmount(1)), Some(TokenAmount(1)));
        assert_eq!(fee_of(TokenAmount(10_000), 250), TokenAmount(250));
        assert_eq!(fee_of(TokenAmount(99), 250), TokenAmount(2));
        assert_eq!(fee_of(TokenAmount(u128::MAX), 10_000), TokenAmount(u128::MAX));
        assert_eq!(part_price(TokenAmount(10), 0, 3, 3), TokenAmount(10));
        assert_eq!(part_price(TokenAmount(10), 0, 1, 3), TokenAmount(3));
        assert_eq!(part_price(TokenAmount(10), 1, 2, 3), TokenAmount(3));
        assert_eq!(part_price(TokenAmount(10), 2, 3, 3), TokenAmount(4));
    }

    proptest! {
        #[test]
        fn parts_add_up_to_the_price(price: u128, total in 1u64..10_000, cuts in prop::collection::vec(any::<u64>(), 0..20)) {
            let mut cuts: Vec<u64> = cuts.into_iter().map(|c| c % (total + 1)).collect();
            cuts.push(0);
            cuts.push(total);
            cuts.sort_unstable();
            let sum: u128 = cuts.windows(2).map(|w| part_price(TokenAmount(price), w[0], w[1], total).0).sum();
            prop_assert_eq!(sum, price);
        }

        #[test]
        fn fee_never_exceeds_the_price(price: u128, bps in 0u32..=10_000) {
            let fee = fee_of(TokenAmount(price), bps);
            prop_assert!(fee.0 <= price);
            prop_assert_eq!(fee.0, (primitive_mul_div(price, bps)));
        }
    }

    /// price·bps/10⁴ in 256-bit arithmetic, as the reference for `fee_of`.
    fn primitive_mul_div(price: u128, bps: u32) -> u128 {
        let p = alloy::primitives::U256::from(price);
        let r = p * alloy::primitives::U256::from(bps) / alloy::primitives::U256::from(10_000u32);
        r.to::<u128>()
    }
}
