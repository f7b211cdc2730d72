//! `idlewatt-client`: the client tool of the Idlewatt network. Fund an account (the
//! devnet faucet, or an ERC-20 deposit on a chain), create API keys for OpenAI-style
//! tools, and submit work — matmuls of your own `.npy` matrices, embeddings of your
//! texts — paid from escrow and verified before you are charged.
//!
//! A thin command line over `idlewatt::client`; each subcommand is a few lines in
//! `idlewatt-client/`. Its wallet is its own keyring entry and its own data folder
//! (`IDLEWATT_CLIENT_DATA_DIR`), apart from the node's.
//!
//! Exit codes: 0 success; 1 failure (the network refused or could not be reached); 2 bad
//! arguments or input (also a 400 from the coordinator, e.g. a malformed `.npy`); 3
//! payment required (the balance, `--max-price` or the key's limit is short: the message
//! says by how much); 4 no usable OS keyring; 5 the job ended without a result
//! (cancelled, expired, failed) or did not finish within `--wait`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use idlewatt::client::ClientApiError;
use idlewatt::network::ClientError;
use idlewatt::wallet::WalletError;

// Which coordinator, and the embedded local network (shared with `idlewatt-node`).
#[path = "shared/local_network.rs"]
mod local_network;
// `wallet create|import|address|…` (shared with `idlewatt-node`).
#[path = "shared/wallet_cli.rs"]
mod wallet_cli;

#[path = "idlewatt-client/account.rs"]
mod account;
#[path = "idlewatt-client/jobs.rs"]
mod jobs;
#[path = "idlewatt-client/keys.rs"]
mod keys;
#[path = "idlewatt-client/output.rs"]
mod output;
#[path = "idlewatt-client/session.rs"]
mod session;

#[derive(Parser, Debug)]
#[command(
    name = "idlewatt-client",
    version,
    about = "Pay the Idlewatt network for GPU work: fund, key, submit, collect."
)]
struct Cli {
    /// Coordinator URL (http://host:port); also IDLEWATT_COORDINATOR. Default: the node's
    /// setting on this computer, else its local network.
    #[arg(long, global = true)]
    coordinator: Option<String>,
    /// Print one JSON document on stdout instead of text (errors too, as {"error": …}).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The client's wallet: its address is the client's identity and pays for work.
    Wallet {
        #[command(subcommand)]
        command: wallet_cli::WalletCommand,
    },
    /// Show the client's balance, escrow and totals.
    Account,
    /// Fund the account from the network's faucet (devnet only).
    Faucet {
        /// How many tokens (default: the faucet's usual grant).
        #[arg(long)]
        amount: Option<String>,
    },
    /// Deposit tokens on the network's chain: an ERC-20 transfer from this wallet to the
    /// treasury (you pay the gas), credited once it has the network's confirmations.
    Deposit {
        /// How many tokens, e.g. 2.5.
        #[arg(long)]
        amount: String,
        /// The chain's JSON-RPC URL (http://…); also IDLEWATT_CHAIN_RPC_URL.
        #[arg(long)]
        rpc_url: Option<String>,
        /// Seconds to wait for the coordinator to credit the deposit.
        #[arg(long, default_value_t = 300)]
        wait: u64,
    },
    /// API keys for tools that send `Authorization: Bearer` (the OpenAI SDKs).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// C = A·B of your own matrices: A.npy (m×k) and B.npy (k×n), f32 or f16.
    Matmul(jobs::MatmulArgs),
    /// Sentence embeddings of each line of a text file, saved as an .npy matrix.
    Embed(jobs::EmbedArgs),
    /// Your jobs, newest first.
    Jobs,
    /// One job: status, progress, cost.
    Job {
        /// The job's id.
        id: String,
    },
    /// Cancel a job; the unspent escrow is refunded.
    Cancel {
        /// The job's id.
        id: String,
    },
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("IDLEWATT_LOG").unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::error(&err, json);
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let ctx = session::Options { coordinator: cli.coordinator.or_else(|| env("IDLEWATT_COORDINATOR")), json: cli.json };
    match cli.command {
        Command::Wallet { command } => {
            let dirs = idlewatt::paths::DataDirs::client_from_env()?;
            wallet_cli::run(&idlewatt::client::client_wallet(&dirs), "idlewatt-client", command)
        }
        Command::Account => account::account(&ctx),
        Command::Faucet { amount } => account::faucet(&ctx, amount.as_deref()),
        Command::Deposit { amount, rpc_url, wait } => {
            account::deposit(&ctx, &amount, rpc_url.or_else(|| env("IDLEWATT_CHAIN_RPC_URL")).as_deref(), wait)
        }
        Command::Keys { command } => keys::run(&ctx, command),
        Command::Matmul(args) => jobs::matmul(&ctx, &args),
        Command::Embed(args) => jobs::embed(&ctx, &args),
        Command::Jobs => jobs::list(&ctx),
        Command::Job { id } => jobs::show(&ctx, &id),
        Command::Cancel { id } => jobs::cancel(&ctx, &id),
    }
}

/// The documented exit code of an error (see the file's docs).
fn exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<WalletError>().is_some_and(WalletError::is_keyring_unavailable) {
        return 4;
    }
    if let Some(e) = err.chain().find_map(|c| c.downcast_ref::<ClientApiError>()) {
        return match e {
            ClientApiError::PaymentRequired { .. } => 3,
            ClientApiError::JobEnded { .. } | ClientApiError::Timeout { .. } => 5,
            ClientApiError::Input(_) | ClientApiError::File { .. } => 2,
            ClientApiError::Request(ClientError::Api { status: 400, .. }) => 2,
            _ => 1,
        };
    }
    if err.chain().any(|c| c.downcast_ref::<output::BadArgument>().is_some()) {
        return 2;
    }
    1
}
