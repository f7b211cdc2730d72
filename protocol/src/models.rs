//! Models on the wire: how a lease names the files a node needs (content-addressed by
//! SHA-256, with their sizes, so a node can check its disk quota before downloading and
//! every byte before using it), where it fetches them (`GET /v1/models/{sha256}/{file}`,
//! with HTTP range requests for resuming), and how an embeddings batch and its answer
//! travel. One definition for the coordinator that serves and the node that fetches.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The files of a sentence-transformers folder a node may get, in the order they are
/// fetched (small first, so a bad model is found before its weights are downloaded).
/// `config.json` and the weights are required; `modules.json` (whether the vectors are
/// L2-normalised), the pooling module's `1_Pooling/config.json` (mean or CLS) and
/// `sentence_bert_config.json` (the maximum length) are sent when the folder has them,
/// so the node computes exactly what the coordinator's reference computes. The
/// tokenizer stays on the coordinator: nodes receive token ids.
pub const MODEL_FILES: [&str; 5] =
    ["config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "model.safetensors"];

/// The files of [`MODEL_FILES`] a model cannot do without.
pub const REQUIRED_MODEL_FILES: [&str; 2] = ["config.json", "model.safetensors"];

/// One file of a model: what it is called in the model's folder, its SHA-256 (lowercase
/// hex) and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelFile {
    /// File name inside the model's folder, one of [`MODEL_FILES`].
    pub name: String,
    /// SHA-256 of the whole file, lowercase hex (64 characters).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl ModelFile {
    /// Where the file is served: `/v1/models/{sha256}/{name}`.
    pub fn path(&self) -> String {
        format!("/v1/models/{}/{}", self.sha256, self.name)
    }
}

/// A model as a node needs it: the name clients ask for and its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelManifest {
    /// The name clients use, e.g. `all-MiniLM-L6-v2`.
    pub name: String,
    /// Its files (see [`MODEL_FILES`]).
    pub files: Vec<ModelFile>,
}

impl ModelManifest {
    /// Bytes of all its files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// A short, stable id of exactly these files (the first 16 hex digits of the
    /// SHA-256 of the weights file, or of the first file): two coordinators serving the
    /// same weights under different names share one cache entry on a node.
    pub fn content_id(&self) -> String {
        let f = self.files.iter().find(|f| f.name == "model.safetensors").or_else(|| self.files.first());
        f.map(|f| f.sha256.chars().take(16).collect()).unwrap_or_default()
    }
}

/// Whether `s` is a lowercase hex SHA-256 (what `/v1/models/{sha256}/…` accepts).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An embeddings lease's work: token-id sequences of one model (each already with
/// `[CLS]`/`[SEP]` and truncated to the model's maximum length). The node answers one
/// L2-normalised vector per sequence, in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingsBatch {
    /// The model and its files.
    pub model: ModelManifest,
    /// Dimension of each output vector (384 for all-MiniLM-L6-v2).
    pub dim: u32,
    /// The sequences, token ids.
    pub sequences: Vec<Vec<u32>>,
    /// The coordinator's estimate of the batch's floating-point operations (from the
    /// model's configuration): for display and sizing, never for pay.
    #[serde(default)]
    pub flops: u64,
}

impl EmbeddingsBatch {
    /// Values in the answer: sequences × dim.
    pub fn result_len(&self) -> usize {
        self.sequences.len() * self.dim as usize
    }

    /// Floating-point operations of a BERT-family encoder over `sequences`: per layer,
    /// the Q/K/V/output projections (4h² per token), the feed-forward (2·h·i per
    /// token) and attention (2·h·len per token), each a multiply-add (×2).
    pub fn estimate_flops(sequences: &[Vec<u32>], layers: u64, hidden: u64, intermediate: u64) -> u64 {
        let per_token = 2 * layers * (4 * hidden * hidden + 2 * hidden * intermediate);
        sequences
            .iter()
            .map(|s| {
                let len = s.len() as u64;
                len.saturating_mul(per_token).saturating_add(2 * layers * 2 * hidden * len * len)
            })
            .fold(0u64, u64::saturating_add)
    }

    /// Tokens in the batch (what the work is priced by).
    pub fn tokens(&self) -> u64 {
        self.sequences.iter().map(|s| s.len() as u64).sum()
    }
}

/// Why an embeddings answer cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VectorsError {
    /// Not base64.
    #[error("vectors are not valid base64: {0}")]
    Base64(String),
    /// The wrong number of values.
    #[error("vectors have {got} bytes, expected {expected}")]
    Length {
        /// Bytes decoded.
        got: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// A value that is not a finite number.
    #[error("vector {row} holds a value that is not a finite number")]
    NotFinite {
        /// Which sequence.
        row: usize,
    },
}

/// Encodes row-major vectors as little-endian f32 bytes in base64 (the same
/// `f32le-base64` as a matmul's C), with the SHA-256 of the raw bytes.
pub fn encode_vectors(values: &[f32]) -> (String, String) {
    let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
    (base64::engine::general_purpose::STANDARD.encode(&bytes), alloy::hex::encode(Sha256::digest(&bytes)))
}

/// Decodes `rows` vectors of `dim` values, refusing the wrong size (before allocating
/// when the text is too long) and non-finite values.
pub fn decode_vectors(text: &str, rows: usize, dim: usize) -> Result<Vec<Vec<f32>>, VectorsError> {
    let expected = rows.saturating_mul(dim).saturating_mul(4);
    if text.len() > expected.div_ceil(3).saturating_mul(4) {
        return Err(VectorsError::Length { got: text.len() / 4 * 3, expected });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| VectorsError::Base64(e.to_string()))?;
    if bytes.len() != expected {
        return Err(VectorsError::Length { got: bytes.len(), expected });
    }
    let mut out = Vec::with_capacity(rows);
    for (row, chunk) in bytes.chunks_exact(dim.max(1) * 4).enumerate() {
        let v: Vec<f32> = chunk.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if v.iter().any(|x| !x.is_finite()) {
            return Err(VectorsError::NotFinite { row });
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_and_bad_ones_are_refused() {
        let v = [0.5f32, -0.25, 1.0, 0.0, 3.0, -7.0];
        let (text, digest) = encode_vectors(&v);
        assert_eq!(digest.len(), 64);
        let back = decode_vectors(&text, 2, 3).unwrap();
        assert_eq!(back, vec![vec![0.5, -0.25, 1.0], vec![0.0, 3.0, -7.0]]);
        assert!(matches!(decode_vectors(&text, 3, 3), Err(VectorsError::Length { .. })));
        assert!(matches!(decode_vectors(&text, 1, 3), Err(VectorsError::Length { .. })));
        assert!(matches!(decode_vectors("*", 1, 3), Err(VectorsError::Base64(_))));
        let (nan, _) = encode_vectors(&[1.0, f32::NAN, 0.0]);
        assert_eq!(decode_vectors(&nan, 1, 3), Err(VectorsError::NotFinite { row: 0 }));
    }

    #[test]
    fn manifest_paths_and_ids() {
        let f = ModelFile { name: "model.safetensors".into(), sha256: "ab".repeat(32), size: 7 };
        assert_eq!(f.path(), format!("/v1/models/{}/model.safetensors", "ab".repeat(32)));
        let m = ModelManifest {
            name: "m".into(),
            files: vec![ModelFile { name: "config.json".into(), sha256: "00".repeat(32), size: 3 }, f],
        };
        assert_eq!(m.total_bytes(), 10);
        assert_eq!(m.content_id(), "abababababababab");
        assert!(is_sha256_hex(&"ab".repeat(32)));
        assert!(!is_sha256_hex(&"AB".repeat(32)));
        assert!(!is_sha256_hex("../etc/passwd"));
    }
}
