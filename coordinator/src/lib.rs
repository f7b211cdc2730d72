//! Idlewatt's reference coordinator: takes clients' jobs with their payment in escrow,
//! leases parts of them sized to each node, verifies every result with Freivalds'
//! check before paying anything, and keeps an append-only ledger whose books balance. It never depends on the core crate (a server needs no
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
//! - `routes`: the `/v1` handlers; `auth`: signature, nonce and rate checks;
//!   `own_leases`: a node's release and re-claim of its leases.
//! - The front door: `serve` (accept loop: header/idle timeout, connection limit),
//!   `frontdoor` (per-range budget, body/request timeouts, one JSON error shape),
//!   `body` (a large body read only after authentication, capped), [`limits`] (the
//!   numbers), `netrange` (source ranges), `probation` (what fresh identities may do),
//!   `ratelimit` (token buckets with `Retry-After`).
//! - `store`: all SQL (SQLite through sqlx; portable to PostgreSQL), `money`: ledger
//!   amounts as exact integer limbs, `sizing`: how big a job a node gets.
//! - [`chain`]: the payout chain (ERC-20 `transfer` signed from the treasury, receipts,
//!   nonces); `payout`: the worker that pays withdrawals exactly once (outbox recorded
//!   before broadcast, reconciled on restart); `payout_store`: their SQL;
//!   `withdrawals`: the `/v1/withdrawals` handlers.
//! - The demand side (issue 14): `clients` (keys, faucet, balances, prices),
//!   `client_auth` (signature or API key), `client_store` (their SQL: keys, client
//!   jobs, escrow, refunds), `ledger` (two-row movements, the books check), `blobs`
//!   and `datadir` (content-addressed inputs on disk), `jobs_api` (`/v1/jobs`),
//!   `work` (which part a node gets, sized to it; paying a verified part from
//!   escrow), `verification` (the one call into the protocol's verifier), `results`
//!   (verified blocks → C as `.npy`), `openai_api` (`/v1/embeddings`, `/v1/models`),
//!   [`embeddings`] (the extension point of the embeddings job kind).
//! - `deposits`: the watcher that credits clients' ERC-20 transfers to the treasury
//!   exactly once (persisted cursor, confirmations), and `/v1/deposits`;
//!   `deposit_store`: its SQL.
//! - [`devchain`]: a local chain for development and tests (anvil from npm, an
//!   OpenZeppelin ERC-20 deployed from its artifact, a funded treasury).
//! - [`embed`]: served models (`--model NAME=DIR`) and their files for nodes,
//!   tokenization, batching by length, verification of embeddings.
//! - `error`: the API error type, rendered as `{ "error": { "kind", "message" } }`.
//! - `src/main.rs`: the `idlewatt-coordinator` command line.

mod auth;
mod blobs;
mod body;
pub mod chain;
mod client_auth;
mod client_store;
mod clients;
pub mod config;
mod datadir;
mod deposit_store;
mod deposits;
pub mod devchain;
pub mod embed;
pub mod embeddings;
mod error;
mod frontdoor;
#[cfg(test)]
mod fuzz_tests;
mod jobs_api;
mod ledger;
pub mod limits;
mod money;
mod netrange;
mod openai_api;
mod own_leases;
mod payout;
mod payout_store;
mod probation;
mod ratelimit;
mod results;
mod routes;
mod second_opinion;
mod serve;
pub mod server;
mod sizing;
mod store;
mod verification;
mod withdrawals;
mod work;

pub use config::{ChainConfig, Config, DEVNET_BOOTSTRAP_BUDGET, DEVNET_MIN_WITHDRAWAL};
pub use limits::Limits;
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
