//! Idlewatt's core: everything the desktop app and the headless node do, with no GUI
//! dependency, so all of it is testable headless.
//!
//! # Layout
//! - [`compute`]: the wgpu engine, the kernel registry (`shaders/*.wgsl`), slicing.
//! - [`bench`]: the GPU-vs-CPU matmul benchmark behind `idlewatt-node bench`.
//! - [`embed`]: sentence embeddings (BERT-family encoders) on the GPU, sliced and resumable.
//! - [`idle`]: time since the owner's last input, per desktop (X11, GNOME, KDE, Windows, macOS).
//! - [`model_cache`]: models downloaded from the coordinator (resumed, hash-checked),
//!   kept under a disk quota with least-recently-used eviction.
//! - [`node`]: the agent's state machine (waiting, computing, yielding, ...) and its events.
//! - [`paths`]: the per-user data folder (`IDLEWATT_DATA_DIR` overrides it).
//! - [`sensors`]: GPU/CPU power, GPU temperature, mains/battery; measured or estimated.
//! - [`governor`]: limits + a reading → a duty cycle and its reason (pure, simulated in tests).
//! - [`energy`]: power → Wh per minute/day/job/total in SQLite, with cost and CO₂.
//! - [`config`]: the owner's settings (`settings.json`), versioned and validated.
//! - [`wallet`]: the owner's key in the OS keyring; create/import/backup; EIP-191/712 signing.
//! - [`network`]: the coordinator client, [`network::NetworkJobs`], the results outbox, and
//!   [`network::withdraw()`] (withdrawing earnings on chain).
//! - [`client`]: the client's side: [`client::ClientApi`] (accounts, keys, blobs, jobs),
//!   deposits on a chain, and the embedded network's demo client.
//! - [`app`]: the desktop app without its window: node lifecycle, status, wallet, settings.
//! - `src/bin/idlewatt-node.rs`: the headless node's command line; `src/bin/idlewatt-client.rs`:
//!   the client tool's; `src/bin/shared/`: what both use (the local network, wallet commands).

pub mod app;
pub mod bench;
pub mod client;
pub mod compute;
pub mod config;
pub mod embed;
pub mod energy;
pub mod governor;
pub mod idle;
pub mod model_cache;
pub mod network;
pub mod node;
pub mod paths;
pub mod sensors;
pub mod storage;
pub mod wallet;
