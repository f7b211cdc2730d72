//! BERT-family sentence encoders (all-MiniLM-L6-v2 first) as data: the configuration a
//! sentence-transformers folder describes, the weights its `model.safetensors` holds,
//! and a plain CPU forward pass that turns token ids into sentence embeddings. The GPU
//! engine (core crate, `idlewatt::embed`) uploads these same [`Weights`]; the coordinator
//! uses [`cpu::encode`] to check what nodes return, so this crate stays free of wgpu and
//! of any tokenizer.
//!
//! # Layout
//! - [`config`]: [`ModelConfig`] from `config.json` + `1_Pooling/config.json` +
//!   `modules.json` + `sentence_bert_config.json`, validated.
//! - [`weights`]: [`Weights`] from `model.safetensors`, every shape checked.
//! - [`cpu`]: [`CpuModel`] and [`cpu::encode`], the reference forward pass.
//! - [`error`]: [`ModelError`], naming the file and tensor at fault.
//! - [`testing`]: the MiniLM folder tests use, and seeded synthetic models.
//!
//! A second BERT-family model is a folder, not code: anything with the same tensors
//! (optionally under a `bert.` prefix), `hidden_act = gelu`, absolute positions, and mean
//! or CLS pooling loads through the same path.

pub mod config;
pub mod cpu;
pub mod error;
pub mod testing;
pub mod weights;

pub use config::{ModelConfig, Pooling};
pub use cpu::CpuModel;
pub use error::ModelError;
pub use weights::{LayerWeights, Weights};
