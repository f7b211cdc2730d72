//! What can be wrong with a model folder or with the token ids given to a model: one
//! typed enum that names the file, the field or the tensor, so an operator who points the
//! coordinator at the wrong folder reads what to fix, and a node sent bad ids refuses
//! the batch instead of crashing.

use std::path::PathBuf;

use thiserror::Error;

/// Errors of loading a model or encoding with it.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A file of the model folder could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// A JSON file of the model folder is not what a sentence-transformers folder holds.
    #[error("{file}: {reason}")]
    Json {
        /// The file (e.g. `config.json`).
        file: String,
        /// What the parser said.
        reason: String,
    },

    /// The configuration is readable but not one this implementation runs.
    #[error("{file}: {field} = {value}: {reason}")]
    Config {
        /// The file the value came from.
        file: String,
        /// The offending field.
        field: &'static str,
        /// Its value, as written.
        value: String,
        /// Why it is refused.
        reason: String,
    },

    /// The safetensors file could not be parsed.
    #[error("{file}: not a valid safetensors file: {reason}")]
    Safetensors {
        /// The weights file.
        file: String,
        /// What the parser said.
        reason: String,
    },

    /// A tensor the model needs is absent.
    #[error("{file}: tensor {tensor} is missing")]
    MissingTensor {
        /// The weights file.
        file: String,
        /// The tensor name.
        tensor: String,
    },

    /// A tensor's shape disagrees with the configuration.
    #[error("{file}: tensor {tensor} has shape {got:?}, the configuration calls for {expected:?}")]
    TensorShape {
        /// The weights file.
        file: String,
        /// The tensor name.
        tensor: String,
        /// Shape in the file.
        got: Vec<usize>,
        /// Shape the configuration implies.
        expected: Vec<usize>,
    },

    /// A tensor's element type is not a float type we read (F32, F16, BF16).
    #[error("{file}: tensor {tensor} has dtype {dtype}; only F32, F16 and BF16 are supported")]
    TensorDtype {
        /// The weights file.
        file: String,
        /// The tensor name.
        tensor: String,
        /// The dtype in the file.
        dtype: String,
    },

    /// A tensor holds a NaN or an infinity.
    #[error("{file}: tensor {tensor} holds a non-finite value")]
    NonFinite {
        /// The weights file.
        file: String,
        /// The tensor name.
        tensor: String,
    },

    /// A sequence has no tokens at all (a tokenized sentence has at least [CLS] [SEP]).
    #[error("sequence {index} is empty")]
    EmptySequence {
        /// Index in the batch.
        index: usize,
    },

    /// A sequence is longer than the model's maximum sequence length.
    #[error("sequence {index} has {len} tokens; the model takes at most {max}")]
    SequenceTooLong {
        /// Index in the batch.
        index: usize,
        /// Its length.
        len: usize,
        /// The model's limit.
        max: usize,
    },

    /// A token id is outside the vocabulary.
    #[error("sequence {index}, position {position}: token id {id} is outside the vocabulary of {vocab}")]
    TokenOutOfRange {
        /// Index in the batch.
        index: usize,
        /// Position in the sequence.
        position: usize,
        /// The id.
        id: u32,
        /// Vocabulary size.
        vocab: usize,
    },
}
