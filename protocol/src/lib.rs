//! Idlewatt's network protocol, shared by nodes (the core crate) and coordinators, so
//! the two sides cannot drift apart: whatever one side computes, the other computes
//! with the same code.
//!
//! # Layout
//! - [`wire`]: the JSON bodies of the `/v1` API (DESIGN §3) and the error body.
//! - [`client`]: the client half of the API (keys, faucet, blobs, jobs, prices) and
//!   the pricing arithmetic both sides share.
//! - [`openai`]: the OpenAI-compatible `/v1/embeddings` and `/v1/models` bodies.
//! - [`npy`]: NumPy `.npy` matrices (`<f4`, `<f2`), how client inputs and results travel.
//! - [`amount`]: [`TokenAmount`], token base units (18 decimals) as exact integers.
//! - [`auth`]: signing a request (EIP-191 over a canonical string) and verifying it.
//! - [`deposit`]: where clients send tokens on a chain, and what was credited.
//! - [`precision`]: [`Precision`], f32 or f16, carried by every job.
//! - [`models`]: model files by SHA-256 (what a node downloads), an embeddings
//!   batch of token ids and its `f32le-base64` answer.
//! - [`inputs`]: the seeded generator of a matmul job's A and B — *the* definition.
//! - [`verify`]: the check of C = A·B (range, exact entries, Freivalds) with bounds from
//!   A, B, k and the precision only; a verdict of accept, doubt or reject.
//! - [`withdrawal`]: the EIP-712 withdrawal owners sign, its request/status bodies,
//!   payout address rules (EIP-55).
//!
//! # A node's lease flow
//! 1. `POST /v1/nodes` with a signed [`wire::NodeRegistration`].
//! 2. `POST /v1/leases` with a signed [`wire::LeaseRequest`]; the answer is a
//!    [`wire::Lease`] whose [`wire::JobSpec`] is a client's block (A and B are `.npy`
//!    blobs to download) or calibration work (m, n, k and a seed); 503
//!    [`wire::ErrorKind::NoPaidWork`] when there is neither.
//! 3. The node gets A and B ([`inputs::matmul_inputs`] derives calibration inputs
//!    from the seed) and computes C.
//! 4. `POST /v1/leases/{lease_id}/result` with a signed [`wire::ResultSubmission`]
//!    (built by [`wire::ResultSubmission::new`]); the coordinator runs
//!    [`verify::verify_matmul`] and credits the reward.
//!
//! Every state-changing request carries the headers of [`auth::AuthHeaders`].

pub mod amount;
pub mod auth;
pub mod client;
pub mod deposit;
pub mod inputs;
pub mod models;
pub mod npy;
pub mod openai;
pub mod precision;
pub mod verify;
pub mod wire;
pub mod withdrawal;

pub use alloy::primitives::Address;
pub use amount::TokenAmount;
pub use precision::Precision;
