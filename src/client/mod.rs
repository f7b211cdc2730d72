//! The client's side of the network (DESIGN §3 "Clients"): what `idlewatt-client` and the
//! embedded network's demo client use to fund an account, manage API keys, upload
//! matrices, submit, follow, cancel and collect jobs, and deposit on a chain.
//!
//! - [`api`]: [`ClientApi`], a typed HTTP client of the coordinator's client endpoints,
//!   every call signed by the client's wallet; 402 answers carry the amount needed.
//! - [`work`]: uploading `.npy` inputs and submitting matmul/embeddings jobs with a
//!   maximum price from the public price list, and following a job to its result.
//! - [`deposit`]: an ERC-20 transfer from the client's wallet to the treasury, then
//!   waiting until the coordinator has credited it.
//! - [`demo`]: the demo client the embedded network runs, so a first launch earns.
//!
//! The client's wallet is the core's [`crate::wallet::Wallet`] under its own keyring
//! service ([`KEYRING_SERVICE`]) and its own data folder
//! ([`crate::paths::DataDirs::client_from_env`]), so one person can be both owner and
//! client on one computer.

pub mod api;
pub mod demo;
pub mod deposit;
pub mod error;
pub mod work;

pub use api::ClientApi;
pub use error::ClientApiError;

use crate::paths::DataDirs;
use crate::wallet::Wallet;

/// The keyring service of client wallets (the node's is [`crate::wallet::SERVICE`]).
pub const KEYRING_SERVICE: &str = "org.idlewatt.client-wallet";

/// The client's wallet: `wallet.json` in the client's data folder, its key in the OS
/// keyring under [`KEYRING_SERVICE`].
pub fn client_wallet(dirs: &DataDirs) -> Wallet {
    Wallet::with_service(dirs, KEYRING_SERVICE)
}
