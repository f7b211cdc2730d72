//! `idlewatt-coordinator`: runs the reference coordinator until Ctrl-C (or SIGTERM).
//! Every flag maps onto a field of `idlewatt_coordinator::Config`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use idlewatt_coordinator::chain::TreasuryKey;
use idlewatt_coordinator::{ChainConfig, Config, Limits};
use idlewatt_protocol::TokenAmount;

/// Idlewatt's reference coordinator: leases matmul jobs to nodes, verifies every
/// result with Freivalds' check before crediting it, and keeps an append-only ledger.
///
/// State-changing calls must be signed (x-idlewatt-address, -timestamp, -nonce,
/// -signature: EIP-191 over method, path, body SHA-256, timestamp and nonce).
/// Logs go to stderr; IDLEWATT_LOG (a tracing filter, e.g. "debug") sets the level.
///
/// Payouts: with --chain-rpc-url/--chain-id/--token-address and a treasury key, signed
/// withdrawals are paid as ERC-20 transfers from the treasury, exactly once; without
/// a chain they are settled in the ledger only ("devnet (not on chain)"). On a chain,
/// clients deposit by sending the token to the treasury; each transfer is credited
/// to its sender once it has --confirmations.
#[derive(Debug, Parser)]
#[command(name = "idlewatt-coordinator", version)]
struct Args {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8645")]
    listen: SocketAddr,
    /// SQLite database: a file path (created if missing) or `sqlite::memory:`.
    #[arg(long, default_value = "idlewatt-coordinator.sqlite")]
    database: String,
    /// Price list: what clients pay per TFLOP of matmul, in base units (10^18 base
    /// units = 1 token). Nodes get it minus --fee-percent.
    #[arg(long, alias = "price-per-tflop", default_value = "1000000000000000000")]
    reward_per_tflop: TokenAmount,
    /// Price list: what clients pay per 1,000 input tokens of embeddings, base units.
    #[arg(long, default_value = "1000000000000000")]
    price_per_1k_tokens: TokenAmount,
    /// The operator's fee, percent of each verified part's price (0 to 100, steps of 0.01).
    #[arg(long, default_value_t = 5.0)]
    fee_percent: f64,
    /// A reference value of one token for people, e.g. "0.05 EUR": published in
    /// GET /v1/prices so apps can show earnings minus electricity in one currency.
    #[arg(long)]
    reference_value: Option<String>,
    /// Calibration budget in tokens (e.g. 50): seeded matmuls are leased, and paid from
    /// it, only while it lasts. Without it, nodes get only client work.
    #[arg(long, default_value = "0")]
    bootstrap_budget: String,
    /// Devnet faucet: tokens per request and per address in all.
    #[arg(long, default_value = "100")]
    faucet_grant: String,
    /// Devnet faucet: the most one address gets, tokens.
    #[arg(long, default_value = "1000")]
    faucet_cap: String,
    /// Folder for input blobs and results (default: <database>.data).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
    /// Largest input blob (.npy file), MiB.
    #[arg(long, default_value_t = 64)]
    max_blob_mib: u64,
    /// Client jobs not done within this many seconds are expired and refunded (unless
    /// the client asks for another expiry).
    #[arg(long, default_value_t = 3600)]
    job_expiry_seconds: u64,
    /// Seconds a node holds a lease before its job goes to another node.
    #[arg(long, default_value_t = 600)]
    lease_seconds: u64,
    /// Leases one node may hold at once.
    #[arg(long, default_value_t = 4)]
    max_leases_per_node: u32,
    /// Size jobs so the node's own benchmark would take about this many seconds.
    #[arg(long, default_value_t = 30.0)]
    target_job_seconds: f64,
    /// Smallest m, n, k of a job.
    #[arg(long, default_value_t = 64)]
    min_job_dim: u32,
    /// Largest m, n, k of a job (results are 4·dim² bytes).
    #[arg(long, default_value_t = 2048)]
    max_job_dim: u32,
    /// Every job is fixed-size dim³ (for tests and load benchmarks).
    #[arg(long)]
    fixed_job_dim: Option<u32>,
    /// Freivalds rounds per result (a cancelling error escapes with probability 2^-rounds).
    #[arg(long, default_value_t = 3)]
    verify_rounds: u32,
    /// Failed results within --bad-result-window-hours after which a node gets no work.
    #[arg(long, default_value_t = 3)]
    bad_result_limit: u32,
    /// The window of --bad-result-limit, hours.
    #[arg(long, default_value_t = 24)]
    bad_result_window_hours: u64,
    /// A node seen within this many seconds counts as online.
    #[arg(long, default_value_t = 300)]
    online_window_seconds: u64,
    /// Signed requests per second one address may sustain.
    #[arg(long, default_value_t = 20.0)]
    rate_limit: f64,
    /// Burst of signed requests above the sustained rate.
    #[arg(long, default_value_t = 40.0)]
    rate_burst: f64,
    /// Smallest withdrawal, base units (default 0.001 token).
    #[arg(long, default_value = "1000000000000000")]
    min_withdrawal: TokenAmount,
    /// Symbol of the token paid out.
    #[arg(long, default_value = "IDLE")]
    token_symbol: String,
    /// JSON-RPC URL of the payout chain. Without it the network is a devnet: withdrawals
    /// are settled in the ledger only. Also IDLEWATT_CHAIN_RPC_URL.
    #[arg(long)]
    chain_rpc_url: Option<String>,
    /// Chain id of the payout chain (with --chain-rpc-url). Also IDLEWATT_CHAIN_ID.
    #[arg(long)]
    chain_id: Option<u64>,
    /// The ERC-20 (TNT-20) contract paid from. Also IDLEWATT_TOKEN_ADDRESS.
    #[arg(long)]
    token_address: Option<alloy::primitives::Address>,
    /// File holding the treasury's hex private key (keep it mode 0600, outside any
    /// repository). Also IDLEWATT_TREASURY_KEY_FILE, or the key itself in
    /// IDLEWATT_TREASURY_KEY. The key is never logged.
    #[arg(long)]
    treasury_key_file: Option<std::path::PathBuf>,
    /// Blocks a payout or a deposit needs (its own included) before it counts.
    #[arg(long, default_value_t = 1)]
    confirmations: u64,
    /// Seconds a connection has to send a request's headers; idle keep-alive
    /// connections are closed after it too.
    #[arg(long, default_value_t = 10)]
    header_timeout_seconds: u64,
    /// Seconds a request body may stall between pieces.
    #[arg(long, default_value_t = 20)]
    body_timeout_seconds: u64,
    /// Seconds one request may take in all.
    #[arg(long, default_value_t = 120)]
    request_timeout_seconds: u64,
    /// Connections served at once.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Verified results a new address needs to leave probation (0: none). On
    /// probation: small jobs, one lease at a time, earnings held.
    #[arg(long, default_value_t = Limits::public().probation_results)]
    probation_results: u32,
    /// Largest m, n, k of a job for an address on probation.
    #[arg(long, default_value_t = Limits::public().probation_job_dim)]
    probation_job_dim: u32,
    /// Open leases all addresses on probation may hold together.
    #[arg(long, default_value_t = Limits::public().probation_open_leases)]
    probation_open_leases: u32,
    /// New addresses per source range (IPv4 /24, IPv6 /64) per hour.
    #[arg(long, default_value_t = Limits::public().registrations_per_range_per_hour)]
    registrations_per_range_per_hour: u32,
    /// New addresses per hour, all sources together.
    #[arg(long, default_value_t = Limits::public().registrations_per_hour)]
    registrations_per_hour: u32,
    /// Open leases held from one source range.
    #[arg(long, default_value_t = Limits::public().open_leases_per_range)]
    open_leases_per_range: u32,
    /// Requests per second one source range may sustain (any route).
    #[arg(long, default_value_t = Limits::public().range_rate_per_s)]
    range_rate: f64,
    /// Burst of requests above --range-rate.
    #[arg(long, default_value_t = Limits::public().range_burst)]
    range_burst: f64,
    /// The first block the deposit watcher reads on its first start (the block the
    /// treasury started receiving at); later starts continue from where it stopped.
    #[arg(long, default_value_t = 0)]
    deposits_from_block: u64,
    /// Serve a model for embeddings jobs: NAME=DIR, where NAME is what clients ask for
    /// (e.g. all-MiniLM-L6-v2) and DIR a sentence-transformers folder (config.json,
    /// tokenizer.json, model.safetensors). Repeatable.
    #[arg(long = "model", value_name = "NAME=DIR")]
    models: Vec<idlewatt_coordinator::embed::registry::ModelSpec>,
}

impl Args {
    /// The payout chain: the flags, else the IDLEWATT_CHAIN_* environment.
    fn chain(&self) -> anyhow::Result<Option<ChainConfig>> {
        let mut chain = match (&self.chain_rpc_url, self.chain_id, self.token_address) {
            (Some(url), Some(id), Some(token)) => {
                let key = match &self.treasury_key_file {
                    Some(path) => TreasuryKey::from_file(path)?,
                    None => match std::env::var("IDLEWATT_TREASURY_KEY_FILE") {
                        Ok(path) => TreasuryKey::from_file(std::path::Path::new(path.trim()))?,
                        Err(_) => TreasuryKey::from_hex(
                            &std::env::var("IDLEWATT_TREASURY_KEY").context(
                                "a chain needs a treasury key: --treasury-key-file PATH (or IDLEWATT_TREASURY_KEY_FILE)",
                            )?,
                            "IDLEWATT_TREASURY_KEY",
                        )?,
                    },
                };
                Some(ChainConfig::new(url.clone(), id, token, key))
            }
            (None, None, None) => ChainConfig::from_env().map_err(anyhow::Error::msg)?,
            _ => anyhow::bail!("--chain-rpc-url, --chain-id and --token-address go together"),
        };
        if let Some(c) = chain.as_mut() {
            c.confirmations = self.confirmations;
            c.deposits_from_block = self.deposits_from_block;
        }
        Ok(chain)
    }

    fn into_config(self) -> anyhow::Result<Config> {
        let chain = self.chain()?;
        let tokens = |flag: &str, s: &str| {
            TokenAmount::from_token_str(s).with_context(|| format!("--{flag} takes an amount of tokens like 50 or 0.5"))
        };
        if !(self.fee_percent.is_finite() && (0.0..=100.0).contains(&self.fee_percent)) {
            anyhow::bail!("--fee-percent must be between 0 and 100");
        }
        let reference_value = match &self.reference_value {
            None => None,
            Some(s) => {
                let (value, currency) = s
                    .trim()
                    .split_once(' ')
                    .context("--reference-value takes a number and a currency, like \"0.05 EUR\"")?;
                let per_token: f64 = value.trim().parse().context("--reference-value: not a number")?;
                Some(idlewatt_protocol::client::ReferenceValue { currency: currency.trim().to_owned(), per_token })
            }
        };
        let limits = Limits {
            header_timeout: Duration::from_secs(self.header_timeout_seconds),
            body_timeout: Duration::from_secs(self.body_timeout_seconds),
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            max_connections: self.max_connections,
            probation_results: self.probation_results,
            probation_job_dim: self.probation_job_dim,
            probation_open_leases: self.probation_open_leases,
            registrations_per_range_per_hour: self.registrations_per_range_per_hour,
            registrations_per_hour: self.registrations_per_hour,
            open_leases_per_range: self.open_leases_per_range,
            range_rate_per_s: self.range_rate,
            range_burst: self.range_burst,
        };
        Ok(Config {
            embeddings_per_1k_tokens: self.price_per_1k_tokens,
            fee_bps: (self.fee_percent * 100.0).round() as u32,
            reference_value,
            bootstrap_budget: tokens("bootstrap-budget", &self.bootstrap_budget)?,
            faucet_grant: tokens("faucet-grant", &self.faucet_grant)?,
            faucet_cap: tokens("faucet-cap", &self.faucet_cap)?,
            data_dir: self.data_dir,
            max_blob_bytes: self.max_blob_mib.saturating_mul(1024 * 1024),
            default_job_expiry: Duration::from_secs(self.job_expiry_seconds),
            listen: self.listen,
            database: self.database,
            reward_per_tflop: self.reward_per_tflop,
            lease_duration: Duration::from_secs(self.lease_seconds),
            max_leases_per_node: self.max_leases_per_node,
            target_job_seconds: self.target_job_seconds,
            min_job_dim: self.min_job_dim,
            max_job_dim: self.max_job_dim,
            fixed_job_dim: self.fixed_job_dim,
            verify_rounds: self.verify_rounds,
            bad_result_limit: self.bad_result_limit,
            bad_result_window: Duration::from_secs(self.bad_result_window_hours * 3600),
            online_window: Duration::from_secs(self.online_window_seconds),
            rate_limit_per_s: self.rate_limit,
            rate_limit_burst: self.rate_burst,
            chain,
            min_withdrawal: self.min_withdrawal,
            token_symbol: self.token_symbol,
            models: self.models,
            // Crash tests: abort right after a payout is broadcast, before recording it.
            crash_after_broadcast: std::env::var("IDLEWATT_CRASH_AFTER_BROADCAST").is_ok_and(|v| v == "1"),
            limits,
            ..Config::default()
        })
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("IDLEWATT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let handle = idlewatt_coordinator::start(args.into_config()?).await.context("starting the coordinator")?;
    eprintln!("idlewatt-coordinator listening on {}", handle.url());
    handle.run_until(shutdown_signal()).await.context("stopping the coordinator")?;
    Ok(())
}
