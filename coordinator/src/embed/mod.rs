//! Embeddings on the coordinator (issue 15): the models it serves, their files for
//! nodes, text → token ids, batches by length, and the verification of a node's
//! vectors against an independent CPU implementation.
//!
//! - [`registry`]: `--model NAME=DIR`: each model's tokenizer, limits and hashed files.
//! - `files`: `GET /v1/models/{sha256}/{file}` with range requests.
//! - [`service`]: the models as the demand side's `EmbeddingsService` (listing, billing).
//! - [`tokenize`]: the Hugging Face tokenizer (pure Rust), truncation, `[CLS]`/`[SEP]`.
//! - [`batching`]: sequences grouped into leases by length bucket.
//! - [`canary`]: sentences with known embeddings, mixed into every batch.
//! - [`judge`]: one batch's verdict (canaries, then a random CPU sample).
//! - [`layout`]: client rows and canaries shuffled into a leased batch (secret).
//! - [`verify`]: canaries, random CPU samples, tolerances, escape probability.

pub mod batching;
pub mod canary;
pub(crate) mod files;
pub mod judge;
pub mod layout;
pub mod registry;
pub mod service;
pub mod tokenize;
pub mod verify;
