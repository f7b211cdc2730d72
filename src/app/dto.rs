//! The shapes the desktop app shows (docs/app-ipc.md "Types"): plain serialisable
//! snapshots made from the core's own types, so the UI never sees an internal struct
//! change. Token amounts are decimal strings of whole tokens (18 decimals do not fit a
//! JavaScript number); times are Unix ms; energy is Wh.

use serde::Serialize;

use crate::node::{NodeState, Reason};

/// What the app is doing: the node's state, plus the two states only the app has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    /// Onboarding is not finished; the node is not started.
    Setup,
    /// The node is starting (network, wallet, GPU profile).
    Starting,
    /// See [`NodeState::Waiting`].
    Waiting,
    /// See [`NodeState::Computing`].
    Computing,
    /// See [`NodeState::Yielding`].
    Yielding,
    /// See [`NodeState::Paused`].
    Paused,
    /// See [`NodeState::Throttled`].
    Throttled,
    /// See [`NodeState::Offline`].
    Offline,
    /// See [`NodeState::Error`].
    Error,
}

impl From<NodeState> for AppState {
    fn from(s: NodeState) -> Self {
        match s {
            NodeState::Waiting => Self::Waiting,
            NodeState::Computing => Self::Computing,
            NodeState::Yielding => Self::Yielding,
            NodeState::Paused => Self::Paused,
            NodeState::Throttled => Self::Throttled,
            NodeState::Offline => Self::Offline,
            NodeState::Error => Self::Error,
        }
    }
}

impl AppState {
    /// The lower-case name ("computing"), as in the icons' file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Starting => "starting",
            Self::Waiting => "waiting",
            Self::Computing => "computing",
            Self::Yielding => "yielding",
            Self::Paused => "paused",
            Self::Throttled => "throttled",
            Self::Offline => "offline",
            Self::Error => "error",
        }
    }
}

/// Which network the node earns on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NetworkRef {
    /// The local network in this process.
    pub embedded: bool,
    /// Its URL, once known.
    pub url: Option<String>,
}

/// The app's state at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Status {
    /// State.
    pub state: AppState,
    /// Why (none in setup).
    pub reason: Option<Reason>,
    /// A timed pause ends at this Unix ms.
    pub paused_until_ms: Option<i64>,
    /// Onboarding done.
    pub onboarded: bool,
    /// The network.
    pub network: NetworkRef,
}

/// The GPU as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GpuInfo {
    /// "NVIDIA GeForce RTX 4070", "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// Vendor name.
    pub vendor: String,
    /// "discrete", "integrated", "cpu", ...
    pub device_type: String,
    /// "vulkan", "metal", "dx12", "gl".
    pub backend: String,
    /// Driver name and version.
    pub driver: String,
    /// Largest storage buffer, bytes.
    pub max_buffer_bytes: u64,
    /// A software (CPU) adapter.
    pub software: bool,
}

/// The computer around the GPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HostInfo {
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs.
    pub cores: u32,
    /// RAM, bytes.
    pub ram_bytes: u64,
    /// OS and version.
    pub os: String,
}

/// One sensor and whether it is measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SensorInfo {
    /// "GPU power".
    pub name: String,
    /// How it is obtained ("NVML", "estimate: rated 250 W × duty cycle").
    pub what: String,
    /// Read from an instrument (else estimated or absent).
    pub measured: bool,
    /// The current reading with its unit, when there is one.
    pub value: Option<String>,
}

/// Everything the app knows about the hardware.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Hardware {
    /// The GPU, when one could be opened.
    pub gpu: Option<GpuInfo>,
    /// Why there is none.
    pub gpu_error: Option<String>,
    /// Idlewatt will compute on it (a software adapter only when allowed).
    pub usable: bool,
    /// The host.
    pub host: HostInfo,
    /// Sensors.
    pub sensors: Vec<SensorInfo>,
}

/// The result of the onboarding benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BenchSummary {
    /// Measured matmul speed, GFLOP/s (the largest size run).
    pub gflops: f64,
    /// That size (m = n = k).
    pub size: u32,
    /// Worst relative error against the CPU reference.
    pub max_rel_err: f64,
    /// Estimated tokens per idle hour at the network's current reward, when known.
    pub est_tokens_per_hour: Option<String>,
}

/// The network as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NetworkInfo {
    /// Its URL.
    pub url: String,
    /// The local network in this process.
    pub embedded: bool,
    /// It answered just now.
    pub reachable: bool,
    /// Token symbol.
    pub token_symbol: String,
    /// Tokens per GFLOP of verified work.
    pub reward_per_gflop: Option<String>,
    /// Why it is not reachable.
    pub message: Option<String>,
}

/// The wallet's public facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WalletView {
    /// Checksummed address.
    pub address: String,
    /// The owner confirmed the backup of the phrase.
    pub backed_up: bool,
    /// When it was made (not recorded by the core yet: always `None`).
    pub created_at_ms: Option<i64>,
}

/// A wallet just created: show the phrase once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewWalletView {
    /// Checksummed address.
    pub address: String,
    /// The recovery phrase, word by word.
    pub phrase: Vec<String>,
}

/// Whether a withdrawal address is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AddressCheck {
    /// Valid (checksum right, or all one case).
    pub ok: bool,
    /// The address with its EIP-55 checksum.
    pub checksummed: Option<String>,
    /// What is wrong.
    pub message: Option<String>,
}

/// The node's account on the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Balance {
    /// Token symbol.
    pub symbol: String,
    /// Can be withdrawn now.
    pub withdrawable: String,
    /// Leased work not yet verified.
    pub pending: String,
    /// Everything credited.
    pub total_earned: String,
    /// Credited today (local day), from the recent jobs.
    pub today_earned: String,
    /// Verified jobs among the recent ones.
    pub jobs_verified: u32,
    /// Rejected jobs among the recent ones.
    pub jobs_rejected: u32,
    /// The local development network (its tokens are not real).
    pub devnet: bool,
    /// The latest jobs (the coordinator's recent 20), newest first, each with who paid.
    pub recent_jobs: Vec<JobView>,
}

/// Who paid for a job (issue 14: the app shows where the money came from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum JobOrigin {
    /// A client of the network, from its escrow.
    ClientPaid,
    /// The built-in demo client of the local network (devnet faucet tokens).
    DemoClient,
    /// Calibration work, from the operator's bootstrap budget.
    Calibration,
}

/// What a job was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A matrix product: `rows`×`n`×`k`.
    Matmul,
    /// Sentence embeddings: `rows` texts of up to `k` tokens, vectors of `n` values.
    Embeddings,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// Leased, not judged yet.
    Running,
    /// Verified and paid.
    Verified,
    /// Failed verification: not paid.
    Rejected,
    /// Not finished in time, given back or cancelled: not paid.
    Expired,
}

/// One job of the node, as the app lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobView {
    /// The lease.
    pub lease_id: String,
    /// What it was.
    pub kind: JobKind,
    /// Rows of the result (texts for embeddings).
    pub rows: u32,
    /// Columns of the result (the vector size for embeddings).
    pub n: u32,
    /// The inner dimension (the longest text's tokens for embeddings).
    pub k: u32,
    /// Who paid.
    pub origin: JobOrigin,
    /// Where it stands.
    pub outcome: JobOutcome,
    /// Tokens (credited only when verified).
    pub reward: String,
    /// Issued, Unix ms.
    pub issued_at_ms: i64,
    /// Judged, Unix ms.
    pub finished_at_ms: Option<i64>,
}

/// A price in the operator's reference currency (a display figure: no money moves by it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReferenceView {
    /// ISO 4217 code, e.g. "EUR".
    pub currency: String,
    /// Value of one whole token.
    pub per_token: f64,
    /// A TFLOP of matmul in that currency.
    pub matmul_per_tflop: f64,
    /// 1,000 tokens of embeddings input in that currency.
    pub embeddings_per_1k_tokens: f64,
}

/// The network's public price list (`GET /v1/prices`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PriceView {
    /// Token symbol.
    pub symbol: String,
    /// What a client pays per TFLOP of matmul (tokens).
    pub matmul_per_tflop: String,
    /// What a client pays per 1,000 input tokens of embeddings (tokens).
    pub embeddings_per_1k_tokens: String,
    /// The node's share of a TFLOP of matmul, after the operator's fee (tokens).
    pub node_matmul_per_tflop: String,
    /// The operator's fee, basis points (1/100 of a percent).
    pub fee_bps: u32,
    /// The operator's reference value of the token, when set.
    pub reference: Option<ReferenceView>,
}

/// Demand and prices on the network (`GET /v1/network` and `GET /v1/prices`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Market {
    /// Client jobs waiting for or being computed by nodes ("paid work waiting");
    /// `None` when the network did not answer.
    pub paid_jobs_waiting: Option<u64>,
    /// Calibration work is paid from the operator's budget now.
    pub calibration_budget: bool,
    /// The price list (`None`: not published, or the network did not answer).
    pub prices: Option<PriceView>,
    /// The local network in this process.
    pub embedded: bool,
    /// The local network's built-in demo client is submitting the jobs.
    pub demo_client: bool,
    /// Why the network did not answer.
    pub message: Option<String>,
}

/// Where a withdrawal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalStatus {
    /// Accepted, not sent yet.
    Queued,
    /// Sent (has a tx hash).
    Submitted,
    /// In a block.
    Confirmed,
    /// Failed (see `reason`).
    Failed,
}

/// One withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WithdrawalView {
    /// Id.
    pub id: String,
    /// Destination address.
    pub to: String,
    /// Tokens.
    pub amount: String,
    /// Status.
    pub status: WithdrawalStatus,
    /// Transaction hash once sent.
    pub tx_hash: Option<String>,
    /// Block once confirmed.
    pub block: Option<u64>,
    /// Why it failed.
    pub reason: Option<String>,
    /// On the local development chain.
    pub devnet: bool,
    /// Created, Unix ms.
    pub created_at_ms: i64,
}

/// One day's energy and earnings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DayEnergy {
    /// Local date, YYYY-MM-DD.
    pub date: String,
    /// Wh (measured + estimated).
    pub wh: f64,
    /// The measured part.
    pub measured_wh: f64,
    /// What it cost, in the settings' currency.
    pub cost: f64,
    /// g CO₂.
    pub co2_g: f64,
    /// Tokens credited that day (from the recent jobs).
    pub earned: String,
}

/// Energy per day.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EnergyReport {
    /// Currency of `cost`.
    pub currency: String,
    /// Today.
    pub today: DayEnergy,
    /// The last N days, oldest first (today last).
    pub days: Vec<DayEnergy>,
    /// All-time Wh.
    pub total_wh: f64,
    /// Jobs finished (from the network's recent jobs).
    pub jobs_done: u32,
}

/// About the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AppInfo {
    /// Version.
    pub version: String,
    /// The data folder.
    pub data_dir: String,
    /// The log folder.
    pub log_dir: String,
}

/// The AI models this computer keeps for embeddings jobs (Hardware → "Models on this
/// computer"), and the disk space they may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelStorage {
    /// Each model, most recently used first.
    pub models: Vec<crate::model_cache::CachedModel>,
    /// Bytes they use (partial downloads included).
    pub used_bytes: u64,
    /// The most they may use (Settings → model storage), bytes.
    pub quota_bytes: u64,
}
