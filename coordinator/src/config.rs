//! The coordinator's configuration. `Config::default()` is a working local network
//! (in-memory database, any free loopback port), so embedding needs no setup; the
//! binary's flags map one-to-one onto these fields.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::client::ReferenceValue;

use crate::chain::TreasuryKey;
use crate::embed::registry::ModelSpec;
use crate::embeddings::EmbeddingsService;
pub use crate::limits::Limits;

/// Everything the operator can set.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one (see [`crate::Handle::local_addr`]).
    pub listen: SocketAddr,
    /// SQLite database: a file path (created if missing) or `sqlite::memory:`.
    pub database: String,
    /// Price of matmul work per TFLOP (10¹² FLOPs), in base units (18 decimals): what a
    /// client pays; the node that computed a verified part gets it minus the fee.
    pub reward_per_tflop: TokenAmount,
    /// Price of embeddings per 1,000 input tokens, base units.
    pub embeddings_per_1k_tokens: TokenAmount,
    /// The operator's fee, basis points of each verified part's price (250 = 2.5 %).
    pub fee_bps: u32,
    /// A reference value of the token in a currency, published in `GET /v1/prices`
    /// for display (earnings minus electricity); never used to move money.
    pub reference_value: Option<ReferenceValue>,
    /// Calibration budget: seeded matmuls are leased (and paid from this budget) only
    /// while it lasts; zero means no calibration work. Topped up to this total at start.
    pub bootstrap_budget: TokenAmount,
    /// Devnet faucet: what one request grants by default.
    pub faucet_grant: TokenAmount,
    /// Devnet faucet: the most one address gets in total.
    pub faucet_cap: TokenAmount,
    /// Where input blobs and verified result blocks live. `None`: next to a database
    /// file (`<database>.data/`), or a temporary folder for an in-memory database.
    pub data_dir: Option<PathBuf>,
    /// Largest input blob (`.npy` file), bytes.
    pub max_blob_bytes: u64,
    /// A blob no unfinished job refers to is deleted once it is this old.
    pub blob_grace: Duration,
    /// A client job not done within this is expired and refunded (when the client
    /// does not say otherwise).
    pub default_job_expiry: Duration,
    /// The longest expiry a client may ask for.
    pub max_job_expiry: Duration,
    /// A part whose results are rejected this many times fails its job (refunded).
    pub max_part_attempts: u32,
    /// An embeddings batch whose result was doubted or rejected waits this long for a
    /// node of another vendor or back-end before a node of the same kind may take it
    /// (never the same node: a node gets a part at most once).
    pub second_opinion_hold: Duration,
    /// Longest wait of `POST /v1/embeddings` for its job.
    pub embeddings_timeout: Duration,
    /// The embeddings job kind (models, tokenizer); `None`: no model is served and
    /// every model is answered `model_not_found`.
    pub embeddings: Option<Arc<dyn EmbeddingsService>>,
    /// How long a node holds a lease before the job goes to another node.
    pub lease_duration: Duration,
    /// Leases one node may hold at once.
    pub max_leases_per_node: u32,
    /// Jobs are sized so the node's benchmark would take about this long.
    pub target_job_seconds: f64,
    /// Smallest m, n, k of a job.
    pub min_job_dim: u32,
    /// Largest m, n, k of a job (bounds result bodies: 4·dim² bytes of C).
    pub max_job_dim: u32,
    /// Every job m = n = k = this (tests and load benchmarks), instead of sizing.
    pub fixed_job_dim: Option<u32>,
    /// Freivalds rounds per result.
    pub verify_rounds: u32,
    /// Failed results within `bad_result_window` after which a node gets no work.
    pub bad_result_limit: u32,
    /// The window of `bad_result_limit`.
    pub bad_result_window: Duration,
    /// A node seen within this is online (`GET /v1/network`).
    pub online_window: Duration,
    /// Signed requests per second one address may sustain.
    pub rate_limit_per_s: f64,
    /// Burst of signed requests above the sustained rate.
    pub rate_limit_burst: f64,
    /// Body limit for everything but results, bytes.
    pub small_body_limit: usize,
    /// Load benchmarks only: draw job seeds from this list instead of at random, so
    /// simulated nodes can precompute answers. Makes results predictable: never set
    /// it on a real network (the binary has no flag for it).
    pub job_seeds: Option<Vec<u64>>,
    /// Where withdrawals are paid. `None`: a devnet, withdrawals are settled in the
    /// ledger only and labelled `devnet (not on chain)`.
    pub chain: Option<ChainConfig>,
    /// Smallest withdrawal, base units.
    pub min_withdrawal: TokenAmount,
    /// Symbol of the token, for people (the chain's token, or the devnet's).
    pub token_symbol: String,
    /// Crash tests only: `std::process::abort()` right after a payout is broadcast and
    /// before that is recorded. The binary sets it from `IDLEWATT_CRASH_AFTER_BROADCAST=1`.
    pub crash_after_broadcast: bool,
    /// Timeouts, connection limit, probation and per-range limits ([`Limits`]).
    pub limits: Limits,
    /// Models served for embeddings jobs (`--model NAME=DIR`, repeatable).
    pub models: Vec<ModelSpec>,
}

/// The chain payouts are made on: an ERC-20 (TNT-20 on Theta) paid from a treasury.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// JSON-RPC endpoint, e.g. `http://127.0.0.1:8545`.
    pub rpc_url: String,
    /// The chain's id (withdrawals are signed for it; the endpoint must serve it).
    pub chain_id: u64,
    /// The ERC-20 contract.
    pub token: Address,
    /// The key that holds the tokens and pays the gas.
    pub treasury: TreasuryKey,
    /// Blocks on top of a payout's (itself included) before it counts as confirmed.
    pub confirmations: u64,
    /// How often the payout worker looks at the chain while work is pending.
    pub poll_interval: Duration,
    /// Longest wait between tries while the chain is unreachable (backoff doubles up to it).
    pub max_backoff: Duration,
    /// The first block the deposit watcher reads when it has no cursor yet (set it to
    /// the block the treasury started receiving at; 0 reads the whole chain).
    pub deposits_from_block: u64,
}

impl ChainConfig {
    /// A chain with the default confirmations (1), polling (1 s), backoff (30 s), and
    /// deposits read from block 0.
    pub fn new(rpc_url: impl Into<String>, chain_id: u64, token: Address, treasury: TreasuryKey) -> Self {
        Self {
            rpc_url: rpc_url.into(),
            chain_id,
            token,
            treasury,
            confirmations: 1,
            poll_interval: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            deposits_from_block: 0,
        }
    }

    /// The chain from the environment, as the dev-chain script prints it:
    /// `IDLEWATT_CHAIN_RPC_URL`, `IDLEWATT_CHAIN_ID`, `IDLEWATT_TOKEN_ADDRESS`, and the
    /// treasury key from the file `IDLEWATT_TREASURY_KEY_FILE` or the hex in
    /// `IDLEWATT_TREASURY_KEY`. `Ok(None)` when `IDLEWATT_CHAIN_RPC_URL` is unset.
    pub fn from_env() -> Result<Option<Self>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(rpc_url) = var("IDLEWATT_CHAIN_RPC_URL") else { return Ok(None) };
        let need = |name: &str| var(name).ok_or_else(|| format!("IDLEWATT_CHAIN_RPC_URL is set but {name} is not"));
        let chain_id =
            need("IDLEWATT_CHAIN_ID")?.trim().parse().map_err(|e| format!("IDLEWATT_CHAIN_ID is not a number: {e}"))?;
        let token = need("IDLEWATT_TOKEN_ADDRESS")?
            .trim()
            .parse()
            .map_err(|e| format!("IDLEWATT_TOKEN_ADDRESS is not an address: {e}"))?;
        let treasury = match (var("IDLEWATT_TREASURY_KEY_FILE"), std::env::var("IDLEWATT_TREASURY_KEY").ok()) {
            (Some(path), _) => TreasuryKey::from_file(std::path::Path::new(path.trim())),
            (None, Some(hex)) => TreasuryKey::from_hex(&hex, "IDLEWATT_TREASURY_KEY"),
            (None, None) => {
                return Err("a chain is configured but no treasury key: set IDLEWATT_TREASURY_KEY_FILE".into());
            }
        }
        .map_err(|e| e.to_string())?;
        Ok(Some(Self::new(rpc_url, chain_id, token, treasury)))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: "sqlite::memory:".to_owned(),
            reward_per_tflop: TokenAmount::tokens(1),
            embeddings_per_1k_tokens: TokenAmount(TokenAmount::tokens(1).0 / 1000),
            fee_bps: 500,
            reference_value: None,
            bootstrap_budget: TokenAmount::ZERO,
            faucet_grant: TokenAmount::tokens(100),
            faucet_cap: TokenAmount::tokens(1000),
            data_dir: None,
            max_blob_bytes: 64 * 1024 * 1024,
            blob_grace: Duration::from_secs(3600),
            default_job_expiry: Duration::from_secs(3600),
            max_job_expiry: Duration::from_secs(7 * 24 * 3600),
            max_part_attempts: 3,
            second_opinion_hold: Duration::from_secs(60),
            embeddings_timeout: Duration::from_secs(60),
            embeddings: None,
            lease_duration: Duration::from_secs(600),
            max_leases_per_node: 4,
            target_job_seconds: 30.0,
            min_job_dim: 64,
            max_job_dim: 2048,
            fixed_job_dim: None,
            verify_rounds: 3,
            bad_result_limit: 3,
            bad_result_window: Duration::from_secs(24 * 3600),
            online_window: Duration::from_secs(300),
            rate_limit_per_s: 20.0,
            rate_limit_burst: 40.0,
            small_body_limit: 16 * 1024,
            job_seeds: None,
            chain: None,
            min_withdrawal: TokenAmount(1_000_000_000_000_000),
            token_symbol: "IDLE".to_owned(),
            crash_after_broadcast: false,
            limits: Limits::default(),
            models: Vec::new(),
        }
    }
}

/// The calibration budget of the embedded devnet (the app's and `idlewatt-node`'s local
/// network), so a first launch has work before any client shows up.
pub const DEVNET_BOOTSTRAP_BUDGET: TokenAmount = TokenAmount::tokens(10);

/// The smallest withdrawal on the embedded devnet: 0.000001 tokens. On a chain the
/// minimum saves gas on dust; a devnet settles in its ledger, so an owner trying the
/// whole flow on a first launch (minutes of earnings on a slow GPU) can withdraw.
pub const DEVNET_MIN_WITHDRAWAL: TokenAmount = TokenAmount(1_000_000_000_000);

impl Config {
    /// The embedded local network of the app and `idlewatt-node` (one definition for
    /// both), its database at `database`. Without `chain` it is a devnet: calibration
    /// work paid from [`DEVNET_BOOTSTRAP_BUDGET`] and withdrawals settled in its ledger
    /// from [`DEVNET_MIN_WITHDRAWAL`] up; with a chain, the defaults.
    pub fn local_network(database: String, chain: Option<ChainConfig>) -> Self {
        let defaults = Self::default();
        let devnet = chain.is_none();
        Self {
            database,
            bootstrap_budget: if devnet { DEVNET_BOOTSTRAP_BUDGET } else { defaults.bootstrap_budget },
            min_withdrawal: if devnet { DEVNET_MIN_WITHDRAWAL } else { defaults.min_withdrawal },
            chain,
            ..defaults
        }
    }
}

/// The largest m, n or k any configuration may use (C of 4 GiB... is not a job).
pub const HARD_MAX_DIM: u32 = 8192;

impl Config {
    /// Checks the values make sense together; the message names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        self.limits.validate()?;
        if self.min_job_dim == 0 || self.min_job_dim > self.max_job_dim || self.max_job_dim > HARD_MAX_DIM {
            return Err(format!(
                "job dims must satisfy 1 <= min ({}) <= max ({}) <= {HARD_MAX_DIM}",
                self.min_job_dim, self.max_job_dim
            ));
        }
        if let Some(d) = self.fixed_job_dim
            && (d == 0 || d > self.max_job_dim)
        {
            return Err(format!("fixed job dim {d} must be in 1..={}", self.max_job_dim));
        }
        if self.job_seeds.as_ref().is_some_and(|s| s.is_empty() || s.iter().any(|&x| x >= 1 << 53)) {
            return Err("job seeds must be a non-empty list of values below 2^53".into());
        }
        if self.verify_rounds == 0 || self.verify_rounds > 64 {
            return Err("verify rounds must be in 1..=64".into());
        }
        if self.max_leases_per_node == 0 || self.bad_result_limit == 0 {
            return Err("max leases per node and the bad-result limit must be at least 1".into());
        }
        if self.lease_duration.is_zero() || self.lease_duration > Duration::from_secs(7 * 24 * 3600) {
            return Err("lease duration must be between 1 ms and 7 days".into());
        }
        if !(self.target_job_seconds.is_finite() && self.target_job_seconds > 0.0) {
            return Err("target job seconds must be positive".into());
        }
        if !(self.rate_limit_per_s > 0.0 && self.rate_limit_burst >= 1.0) {
            return Err("rate limit must be positive and the burst at least 1".into());
        }
        if self.fee_bps > 10_000 {
            return Err(format!("the fee is {} basis points; at most 10000 (100 %)", self.fee_bps));
        }
        if self.faucet_grant > self.faucet_cap {
            return Err("the faucet grant must not exceed the faucet cap".into());
        }
        if self.max_blob_bytes < 128 || self.max_part_attempts == 0 {
            return Err("the blob size cap must be at least 128 bytes and part attempts at least 1".into());
        }
        if self.default_job_expiry.is_zero() || self.default_job_expiry > self.max_job_expiry {
            return Err("the default job expiry must be above zero and at most the maximum expiry".into());
        }
        if self
            .reference_value
            .as_ref()
            .is_some_and(|r| !(r.per_token.is_finite() && r.per_token >= 0.0) || r.currency.len() > 8)
        {
            return Err("the reference value must be a non-negative number and the currency a short code".into());
        }
        if self.min_withdrawal == TokenAmount::ZERO {
            return Err("the minimum withdrawal must be above zero".into());
        }
        if let Some(c) = &self.chain {
            if c.confirmations == 0 || c.poll_interval.is_zero() || c.max_backoff < c.poll_interval {
                return Err("chain: confirmations >= 1, poll interval > 0 and max backoff >= poll interval".into());
            }
            if c.chain_id == idlewatt_protocol::withdrawal::DEVNET_CHAIN_ID {
                return Err("chain id 0 is reserved for the devnet (no chain)".into());
            }
        }
        let max = u128::from(self.max_job_dim);
        if TokenAmount::for_flops(2 * max * max * max, self.reward_per_tflop)
            .is_none_or(|r| r.0 > i64::MAX as u128 * 1_000_000_000)
        {
            return Err("reward per TFLOP too large: a largest job's reward overflows".into());
        }
        Ok(())
    }

    /// Body limit of a result: C of the largest job in base64, plus JSON overhead.
    pub fn result_body_limit(&self) -> usize {
        let d = self.max_job_dim as usize;
        result_body_limit_for(d * d)
    }
}

/// The most bytes a result body for a C of `elements` f32 may have: its base64 text
/// plus the JSON around it (field names, the encoding, the digest, some whitespace).
pub fn result_body_limit_for(elements: usize) -> usize {
    (elements.saturating_mul(4)).div_ceil(3).saturating_mul(4).saturating_add(1024)
}
