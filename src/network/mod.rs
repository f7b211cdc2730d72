//! The node's side of the network (DESIGN §3): a typed client of any coordinator over
//! HTTP, a [`JobSource`](crate::node::JobSource) that leases jobs from it, and an
//! on-disk outbox so a finished result is never lost (offline, crash) nor counted twice
//! (the coordinator is idempotent per lease).
//!
//! - [`signer`]: [`RequestSigner`], what signs requests (the wallet implements it).
//! - [`client`]: [`CoordinatorClient`]: timeouts, retries with jittered backoff, typed errors.
//! - [`outbox`]: [`Outbox`]: results written to disk before the first submit attempt.
//! - [`jobs`]: [`NetworkJobs`]: registers, leases, submits, drains the outbox.
//! - [`for_wallet`]: the `NetworkJobs` of the owner's keyring wallet (node binary and app).
//! - [`withdraw`]: [`withdraw()`](withdraw::withdraw): checks, signs (EIP-712) and
//!   submits a withdrawal of earnings to an on-chain address.
//!
//! The library never embeds a coordinator; the node binary does (feature
//! `embedded-network`).

pub mod client;
pub mod for_wallet;
pub mod jobs;
pub mod outbox;
mod private_runtime;
pub mod signer;
pub mod withdraw;
pub mod withdraw_journal;

pub use client::{ClientError, CoordinatorClient, RetryPolicy};
pub use for_wallet::{ForWalletError, hardware_summary, jobs_for_wallet};
pub use jobs::{FlushReport, NetworkJobs, NetworkJobsError};
pub use outbox::{Outbox, OutboxError, PendingResult};
pub use signer::{RequestSigner, SignerError};
pub use withdraw::{WithdrawError, WithdrawalSigner, withdraw};
pub use withdraw_journal::{JournalError, WithdrawalJournal};
