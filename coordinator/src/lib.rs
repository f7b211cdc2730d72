//! Idlewatt's reference coordinator: registers nodes, leases matmul jobs sized to each
//! node, verifies every result with Freivalds' check before crediting anything, and
//! keeps an append-only ledger. It never depends on the core crate (a server needs no
//! wgpu); it shares the protocol crate with the nodes.
//!
//! Embedding (the node binary's local network, tests):
//!
//! ```no_run
//! # async fn demo() -> Result<(), idlewatt_coordinator::StartError> {
//! let handle = idlewatt_coordinator::start(idlewatt_coordinator::Config::default()).await?;
//! println!("coordinator on {}", handle.url());
//! handle.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`config`]: [`Config`], every knob with its default.
//! - [`server`]: [`start`], the running [`Handle`], the background sweeper.
//! - `routes`: the `/v1` handlers; `auth`: signature, nonce and rate checks.
//! - `store`: all SQL (SQLite through sqlx; portable to PostgreSQL), `money`: ledger
//!   amounts as exact integer limbs, `sizing`: how big a job a node gets.
//! - [`chain`]: the payout chain (ERC-20 `transfer` signed from the treasury, receipts,
//!   nonces); `payout`: the worker that pays withdrawals exactly once (outbox recorded
//!   before broadcast, reconciled on restart); `payout_store`: their SQL;
//!   `withdrawals`: the `/v1/withdrawals` handlers.
//! - `deposits`: the watcher that credits clients' ERC-20 transfers to the treasury
//!   exactly once (persisted cursor, confirmations), and `/v1/deposits`;
//!   `deposit_store`: its SQL.
//! - [`devchain`]: a local chain for development and tests (anvil from npm, an
//!   OpenZeppelin ERC-20 deployed from its artifact, a funded treasury).
//! - `error`: the API error type, rendered as `{ "error": { "kind", "message" } }`.
//! - `src/main.rs`: the `idlewatt-coordinator` command line.

mod auth;
pub mod chain;
pub mod config;
mod deposit_store;
mod deposits;
pub mod devchain;
mod error;
mod money;
mod payout;
mod payout_store;
mod ratelimit;
mod routes;
pub mod server;
mod sizing;
mod store;
mod withdrawals;

pub use config::{ChainConfig, Config};
pub use server::{Handle, StartError, start};

/// The coordinator, for callers that prefer `Coordinator::start(config)`.
#[derive(Debug, Clone, Copy)]
pub struct Coordinator;

impl Coordinator {
    /// Same as [`start`].
    pub async fn start(config: Config) -> Result<Handle, StartError> {
        start(config).await
    }
}
