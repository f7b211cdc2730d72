//! Which network the app earns on, and starting it: the coordinator URL from the
//! settings, or the local network the binary embeds (DESIGN §6). The core never depends
//! on the coordinator crate, so the binary hands in a [`Launcher`] that starts it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::client::demo::{self, DemoClient, DemoConfig};
use crate::paths::DataDirs;

/// A local network started in this process.
pub trait LocalNetwork: Send + Sync + std::fmt::Debug {
    /// Where it listens (`http://127.0.0.1:PORT`).
    fn url(&self) -> String;
    /// Stops it (waits for in-flight requests).
    fn stop(self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// What starting a local network returns: the network, or a sentence saying why not.
pub type LaunchFuture = Pin<Box<dyn Future<Output = Result<Box<dyn LocalNetwork>, String>> + Send>>;

/// Starts the local network with its database in the data folder.
pub type Launcher = Arc<dyn Fn(DataDirs) -> LaunchFuture + Send + Sync>;

/// The network in use.
#[derive(Debug)]
pub(crate) struct Network {
    pub url: String,
    /// Keeps the local network running; `None` for a remote coordinator.
    pub local: Option<Box<dyn LocalNetwork>>,
    /// The local network's demo client (`None`: a remote coordinator, or disabled).
    pub demo: Option<DemoClient>,
}

impl Network {
    /// The coordinator of `settings_url`, or the local network started by `launch`.
    pub async fn start(settings_url: Option<&str>, launch: &Launcher, data: &DataDirs) -> Result<Self, String> {
        match settings_url {
            Some(url) => Ok(Self { url: url.to_owned(), local: None, demo: None }),
            None => {
                let local = launch(data.clone()).await?;
                let url = local.url();
                let demo = if demo::enabled() {
                    DemoClient::start(&url, data, DemoConfig::default())
                        .inspect_err(|e| tracing::warn!(error = %e, "the demo client did not start"))
                        .ok()
                } else {
                    None
                };
                Ok(Self { url, local: Some(local), demo })
            }
        }
    }

    /// Stops the demo client and the local network, if any.
    pub async fn stop(self) {
        if let Some(demo) = self.demo {
            demo.stop().await;
        }
        if let Some(local) = self.local {
            local.stop().await;
        }
    }
}
