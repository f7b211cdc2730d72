//! `idlewatt-devchain`: a local chain to develop and try payouts on. Starts anvil (npm
//! `@foundry-rs/anvil`, installed by `scripts/setup`) on a free loopback port, deploys
//! an ERC-20 (OpenZeppelin's `ERC20PresetMinterPauser`), mints a supply to the treasury,
//! writes the treasury's key to a 0600 file outside the repository, prints the
//! coordinator's configuration as shell `export` lines, and keeps the chain running
//! until Ctrl-C. The treasury is anvil's first development account: a public test key.

use std::io::Write;
use std::path::PathBuf;

use alloy::primitives::U256;
use anyhow::Context;
use clap::Parser;
use idlewatt_coordinator::devchain::{self, Anvil, DEV_CHAIN_ID, DEV_KEYS};

/// Start a local chain with an ERC-20 and a funded treasury for Idlewatt payouts.
#[derive(Debug, Parser)]
#[command(name = "idlewatt-devchain", version)]
struct Args {
    /// Port to listen on (default: a free one).
    #[arg(long)]
    port: Option<u16>,
    /// Whole tokens minted to the treasury.
    #[arg(long, default_value_t = 1_000_000)]
    supply: u64,
    /// Where to write the treasury key file (mode 0600). Default: a new folder in the
    /// system's temp directory.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Instead of starting a chain: print the token balance of this address on the
    /// chain of IDLEWATT_CHAIN_RPC_URL / IDLEWATT_TOKEN_ADDRESS (what a running
    /// devchain printed), in base units and tokens.
    #[arg(long, value_name = "ADDRESS")]
    balance_of: Option<alloy::primitives::Address>,
}

/// `--balance-of`: reads the ERC-20 balance on the configured chain.
async fn balance_of(who: alloy::primitives::Address) -> anyhow::Result<()> {
    let rpc = std::env::var("IDLEWATT_CHAIN_RPC_URL")
        .context("IDLEWATT_CHAIN_RPC_URL is not set (source the devchain's output)")?;
    let token: alloy::primitives::Address = std::env::var("IDLEWATT_TOKEN_ADDRESS")
        .context("IDLEWATT_TOKEN_ADDRESS is not set (source the devchain's output)")?
        .trim()
        .parse()
        .context("IDLEWATT_TOKEN_ADDRESS is not an address")?;
    let units = devchain::balance_of(&rpc, token, who).await?;
    let amount = idlewatt_protocol::TokenAmount(u128::try_from(units).context("balance above u128")?);
    println!("{who} holds {units} base units = {} tokens", amount.to_token_string());
    Ok(())
}

fn write_key(path: &std::path::Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(DEV_KEYS[0].as_bytes())?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(who) = args.balance_of {
        return balance_of(who).await;
    }
    let port = match args.port {
        Some(p) => p,
        None => devchain::free_port()?,
    };
    let anvil = Anvil::start_on(port, None)?;
    let supply = U256::from(args.supply) * U256::from(10u64).pow(U256::from(18));
    let token = devchain::setup(&anvil.url(), supply).await?;
    let key_file = match args.key_file {
        Some(p) => p,
        None => {
            let dir = std::env::temp_dir().join(format!("idlewatt-devchain-{}", anvil.port()));
            std::fs::create_dir_all(&dir)?;
            dir.join("treasury.key")
        }
    };
    write_key(&key_file)?;
    println!("# idlewatt-devchain: anvil (pid {}) with an ERC-20 and a funded treasury.", anvil.pid().unwrap_or(0));
    println!("# The treasury is anvil's development account 0: a PUBLIC test key, for this chain only.");
    println!("export IDLEWATT_CHAIN_RPC_URL={}", anvil.url());
    println!("export IDLEWATT_CHAIN_ID={DEV_CHAIN_ID}");
    println!("export IDLEWATT_TOKEN_ADDRESS={}", token.token);
    println!("export IDLEWATT_TREASURY_KEY_FILE={}", key_file.display());
    println!("# treasury {} holds {} IDLE", token.treasury, args.supply);
    println!("# running; Ctrl-C (or SIGTERM) stops the chain (its state is not kept)");
    std::io::stdout().flush()?;
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    // Dropping the handle kills anvil by its PID.
    drop(anvil);
    Ok(())
}
