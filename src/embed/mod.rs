//! Sentence embeddings on the GPU: a BERT-family encoder (all-MiniLM-L6-v2 first) run
//! as WGSL kernels (`shaders/embed_*.wgsl`) through the compute [`Engine`](crate::compute::Engine),
//! in dispatches short enough to hand the GPU back to its owner at once.
//!
//! The weights and configuration come from `idlewatt_models` (the same
//! [`Weights`](idlewatt_models::Weights) the coordinator's CPU verifier loads); the
//! node receives token ids, never text.
//!
//! ```no_run
//! # use idlewatt::{compute::{AdapterPolicy, CancelToken, Engine}, embed::EmbedModel};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new(AdapterPolicy::default())?;
//! let weights = idlewatt_models::Weights::load_dir("all-MiniLM-L6-v2".as_ref())?;
//! let model = EmbedModel::upload(&engine, &weights)?;
//! let ids = vec![vec![101, 7592, 2088, 102]]; // [CLS] hello world [SEP]
//! let vectors = model.embed(&engine, &ids, &CancelToken::new(), &mut |_| {})?;
//! assert_eq!(vectors[0].len(), 384);
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`model`]: [`EmbedModel`], the weights on the GPU and the compiled kernels.
//! - [`run`]: [`EmbedRun`], one batch: run, cancel, [`suspend`](EmbedRun::suspend) /
//!   [`resume`](EmbedModel::resume), read the vectors.
//! - [`plan`]: the stages of the forward pass and how each is cut into short dispatches.
//! - [`params`]: the kernels' uniform block and shared constants.
//! - [`reference`]: CPU references of each kernel, for the known-answer tests.
//! - [`error`]: [`EmbedError`], what can go wrong.

pub mod error;
pub mod model;
pub mod params;
pub mod plan;
pub mod reference;
pub mod run;

pub use crate::compute::RunState;
pub use error::EmbedError;
pub use model::EmbedModel;
pub use plan::{BatchShape, Cursor, StageKind};
pub use run::{Activation, EmbedRun, StepReport, SuspendedEmbed};
