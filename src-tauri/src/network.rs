//! The local network the app embeds (DESIGN §6): the reference coordinator on
//! 127.0.0.1 (a free port) with its database in the data folder. The core cannot depend
//! on the coordinator crate, so the app hands it this [`Launcher`]. Like `idlewatt-node`,
//! it pays withdrawals on the chain given by `IDLEWATT_CHAIN_RPC_URL`, `IDLEWATT_CHAIN_ID`,
//! `IDLEWATT_TOKEN_ADDRESS` and `IDLEWATT_TREASURY_KEY(_FILE)`, or settles them in its
//! ledger only (a devnet) when none is set.

use std::sync::Arc;

use idlewatt::app::{Launcher, LocalNetwork};
use idlewatt::paths::DataDirs;

/// The local network's database file in the data folder (shared with `idlewatt-node`).
const DATABASE_FILE: &str = "network.sqlite";

#[derive(Debug)]
struct Embedded(idlewatt_coordinator::Handle);

impl LocalNetwork for Embedded {
    fn url(&self) -> String {
        self.0.url()
    }

    fn stop(self: Box<Self>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            if let Err(e) = self.0.shutdown().await {
                tracing::warn!(%e, "the local network did not stop cleanly");
            }
        })
    }
}

/// Starts the coordinator in this process.
pub fn launcher() -> Launcher {
    Arc::new(|data: DataDirs| {
        Box::pin(async move {
            let database = data.join(DATABASE_FILE);
            // No chain configured: a devnet (withdrawals settled in its ledger only);
            // `IDLEWATT_CHAIN_RPC_URL` etc. (what `scripts/devchain` prints) pay for real.
            let chain = idlewatt_coordinator::ChainConfig::from_env()?;
            let config = idlewatt_coordinator::Config::local_network(database.to_string_lossy().into_owned(), chain);
            let handle = idlewatt_coordinator::start(config).await.map_err(|e| e.to_string())?;
            tracing::info!(url = %handle.url(), "local network started");
            Ok(Box::new(Embedded(handle)) as Box<dyn LocalNetwork>)
        })
    })
}
