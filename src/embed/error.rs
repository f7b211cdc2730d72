//! What can go wrong running the embedding model on the GPU: a bad batch (the model's
//! own checks), a model or batch this device cannot hold (named limit, nothing
//! allocated), a device problem (the compute engine's errors), or a suspended batch
//! handed to the wrong model.

use thiserror::Error;

use crate::compute::ComputeError;
use idlewatt_models::ModelError;

/// Errors of the GPU embedding engine.
#[derive(Debug, Error)]
pub enum EmbedError {
    /// The token ids do not fit the model (empty, too long, outside the vocabulary).
    #[error("invalid batch: {0}")]
    Batch(#[from] ModelError),

    /// A batch with no sequences.
    #[error("the batch holds no sequences")]
    EmptyBatch,

    /// The model or batch needs something this device or these kernels do not offer.
    #[error("{what}: {reason}")]
    Unsupported {
        /// What was asked for.
        what: String,
        /// Why it cannot run here.
        reason: String,
    },

    /// A suspended batch was given to a model other than the one that ran it.
    #[error(
        "the suspended batch was computed by another model (weights fingerprint {expected:016x}, this model {got:016x})"
    )]
    ForeignState {
        /// Fingerprint recorded in the suspended state.
        expected: u64,
        /// This model's fingerprint.
        got: u64,
    },

    /// A suspended batch that is internally inconsistent (corrupted checkpoint).
    #[error("the suspended batch is inconsistent: {0}")]
    BadState(String),

    /// The device: lost, out of memory, too small, or a wgpu error.
    #[error(transparent)]
    Compute(#[from] ComputeError),
}

impl EmbedError {
    /// True when rebuilding the engine (a new device) may help.
    pub fn needs_rebuild(&self) -> bool {
        matches!(self, Self::Compute(e) if e.needs_rebuild())
    }
}
