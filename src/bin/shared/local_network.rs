//! Which coordinator a command talks to, shared by `idlewatt-node` and
//! `idlewatt-client`: the URL given (`--coordinator`), else the node's setting, else the
//! local network (DESIGN §6) — a coordinator in this process on 127.0.0.1 (any free
//! port) over the SQLite database in the node's data folder, so the node works with no
//! network configured and a client on the same computer reaches the same local network.
//! Only the binaries embed it; the library talks HTTP to any coordinator.

use anyhow::Context;
use idlewatt::config::Settings;
use idlewatt::paths::DataDirs;

/// The database file of the local network, in the node's data folder.
#[cfg(feature = "embedded-network")]
pub const DATABASE_FILE: &str = "network.sqlite";

/// The embedded coordinator, when this build has one.
#[cfg(feature = "embedded-network")]
pub type LocalHandle = idlewatt_coordinator::Handle;
/// No embedded coordinator in this build.
#[cfg(not(feature = "embedded-network"))]
pub type LocalHandle = std::convert::Infallible;

/// Starts the local network; `handle.url()` is where to point the client. With no
/// chain it is a devnet (withdrawals settled in its ledger only, clients funded by its
/// faucet); the chain of `IDLEWATT_CHAIN_RPC_URL` etc. (what `scripts/devchain` prints)
/// makes it pay out and take deposits for real.
#[cfg(feature = "embedded-network")]
fn local_models() -> Vec<idlewatt_coordinator::embed::registry::ModelSpec> {
    // The models the local network serves: all-MiniLM-L6-v2 when `scripts/setup` put
    // it in `$IDLEWATT_MODELS` (default `~/.cache/idlewatt-models`).
    let root = std::env::var_os("IDLEWATT_MODELS")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache/idlewatt-models")));
    let Some(dir) = root.map(|r| r.join("all-MiniLM-L6-v2")) else { return Vec::new() };
    if dir.join("tokenizer.json").is_file() && dir.join("model.safetensors").is_file() {
        vec![idlewatt_coordinator::embed::registry::ModelSpec { name: "all-MiniLM-L6-v2".into(), dir }]
    } else {
        Vec::new()
    }
}

#[cfg(feature = "embedded-network")]
pub async fn start(data: &DataDirs) -> anyhow::Result<idlewatt_coordinator::Handle> {
    let database = data.join(DATABASE_FILE);
    let chain = idlewatt_coordinator::ChainConfig::from_env().map_err(anyhow::Error::msg)?;
    let config = idlewatt_coordinator::Config {
        models: local_models(),
        ..idlewatt_coordinator::Config::local_network(database.to_string_lossy().into_owned(), chain)
    };
    idlewatt_coordinator::start(config)
        .await
        .with_context(|| format!("starting the local network ({})", database.display()))
}

/// The coordinator to talk to: `explicit`, else the node's setting in `data`, else the
/// local network (returned so the caller keeps it running, then [`close`]s it).
pub async fn open(explicit: Option<String>, data: &DataDirs) -> anyhow::Result<(String, Option<LocalHandle>)> {
    if let Some(url) = explicit.or(Settings::load(data)?.coordinator_url) {
        return Ok((url, None));
    }
    #[cfg(feature = "embedded-network")]
    {
        let network = start(data).await?;
        Ok((network.url(), Some(network)))
    }
    #[cfg(not(feature = "embedded-network"))]
    anyhow::bail!("no coordinator configured and this build has no local network: pass --coordinator URL")
}

/// Stops the local network [`open`] started, if any.
pub async fn close(network: Option<LocalHandle>) -> anyhow::Result<()> {
    #[cfg(feature = "embedded-network")]
    if let Some(n) = network {
        n.shutdown().await.context("stopping the local network")?;
    }
    #[cfg(not(feature = "embedded-network"))]
    let _ = network;
    Ok(())
}
