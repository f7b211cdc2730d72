//! One command's session: the client's wallet (its keyring key signs every call), the
//! coordinator (`--coordinator`/`IDLEWATT_COORDINATOR`, else what the node on this
//! computer uses, else the local network started in-process for the command — the
//! resolution `idlewatt-node` uses), and a runtime to run the command on.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use idlewatt::client::{ClientApi, client_wallet};
use idlewatt::paths::DataDirs;
use idlewatt::wallet::WalletSigner;

use super::local_network;

/// The global flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--coordinator` / `IDLEWATT_COORDINATOR`.
    pub coordinator: Option<String>,
    /// `--json`.
    pub json: bool,
}

/// The client's signer, from its own keyring entry.
pub fn signer() -> anyhow::Result<WalletSigner> {
    let wallet = client_wallet(&DataDirs::client_from_env()?);
    wallet.info()?.context(
        "there is no client wallet on this computer yet: create one with `idlewatt-client wallet create` (or import yours with `idlewatt-client wallet import`)",
    )?;
    Ok(wallet.signer()?)
}

/// Runs `work` with an API client signed by the client's wallet, against the
/// coordinator the options pick; a local network started for it is stopped after.
pub fn with_api<T, F, Fut>(options: &Options, work: F) -> anyhow::Result<T>
where
    F: FnOnce(ClientApi, Arc<WalletSigner>) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let signer = Arc::new(signer()?);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (url, network) = local_network::open(options.coordinator.clone(), &DataDirs::from_env()?).await?;
        let result = run_one(&url, signer, work).await;
        local_network::close(network).await?;
        result
    })
}

async fn run_one<T, F, Fut>(url: &str, signer: Arc<WalletSigner>, work: F) -> anyhow::Result<T>
where
    F: FnOnce(ClientApi, Arc<WalletSigner>) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let api = ClientApi::new(url, signer.clone())?;
    work(api, signer).await.with_context(|| format!("at {url}"))
}
