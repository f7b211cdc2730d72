//! The model's parameters, read from `model.safetensors` with the `safetensors` crate
//! and held as plain row-major f32 (F16 and BF16 files are widened on load). Every
//! tensor's shape is checked against the [`ModelConfig`] before it is accepted, and a
//! missing, misshapen or non-finite tensor is an error naming the file and the tensor.
//! Linear layers keep PyTorch's layout: `weight` is `[out, in]` and `y = x·weightᵀ + bias`.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::{ModelConfig, ModelError};

/// The weights file of a sentence-transformers folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// A dense layer: `y = x·weightᵀ + bias`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// `[out, in]`, row-major.
    pub weight: Vec<f32>,
    /// `[out]`.
    pub bias: Vec<f32>,
    /// Output width.
    pub out_features: usize,
    /// Input width.
    pub in_features: usize,
}

/// A layer norm's scale and shift.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerNorm {
    /// Scale, `[hidden]`.
    pub gamma: Vec<f32>,
    /// Shift, `[hidden]`.
    pub beta: Vec<f32>,
}

/// One transformer layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerWeights {
    /// Attention query projection.
    pub query: Linear,
    /// Attention key projection.
    pub key: Linear,
    /// Attention value projection.
    pub value: Linear,
    /// Attention output projection.
    pub attn_out: Linear,
    /// Layer norm after attention (with the residual).
    pub attn_norm: LayerNorm,
    /// Feed-forward expansion (GELU follows).
    pub ffn_in: Linear,
    /// Feed-forward contraction.
    pub ffn_out: Linear,
    /// Layer norm after the feed-forward (with the residual).
    pub ffn_norm: LayerNorm,
}

/// All parameters of a BERT-family encoder, shapes checked against `config`.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// The configuration the shapes were checked against.
    pub config: ModelConfig,
    /// `[vocab_size, hidden]`.
    pub word_embeddings: Vec<f32>,
    /// `[max_position_embeddings, hidden]`.
    pub position_embeddings: Vec<f32>,
    /// `[type_vocab_size, hidden]`.
    pub token_type_embeddings: Vec<f32>,
    /// Layer norm of the summed embeddings.
    pub embeddings_norm: LayerNorm,
    /// The transformer layers, in order.
    pub layers: Vec<LayerWeights>,
}

impl Weights {
    /// Loads `dir/config.json` (+ the sentence-transformers files) and `dir/model.safetensors`.
    pub fn load_dir(dir: &Path) -> Result<Self, ModelError> {
        let config = ModelConfig::from_dir(dir)?;
        Self::load_file(config, &dir.join(WEIGHTS_FILE))
    }

    /// Loads the safetensors file at `path` for `config`.
    pub fn load_file(config: ModelConfig, path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Read { path: path.to_path_buf(), source })?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| WEIGHTS_FILE.into());
        Self::from_safetensors(config, &bytes, &name)
    }

    /// Parses the bytes of a safetensors file (`file` only names it in errors).
    pub fn from_safetensors(config: ModelConfig, bytes: &[u8], file: &str) -> Result<Self, ModelError> {
        config.validate()?;
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| ModelError::Safetensors { file: file.into(), reason: e.to_string() })?;
        // BertModel checkpoints name tensors `embeddings.…`; BertForX ones `bert.embeddings.…`.
        let prefix = if tensors.names().iter().any(|n| n.starts_with("bert.")) { "bert." } else { "" };
        let reader = Reader { tensors: &tensors, file, prefix };
        let (h, i) = (config.hidden_size, config.intermediate_size);

        let norm = |base: &str| -> Result<LayerNorm, ModelError> {
            Ok(LayerNorm {
                gamma: reader.get(&format!("{base}.LayerNorm.weight"), &[h])?,
                beta: reader.get(&format!("{base}.LayerNorm.bias"), &[h])?,
            })
        };
        let linear = |base: &str, out: usize, inp: usize| -> Result<Linear, ModelError> {
            Ok(Linear {
                weight: reader.get(&format!("{base}.weight"), &[out, inp])?,
                bias: reader.get(&format!("{base}.bias"), &[out])?,
                out_features: out,
                in_features: inp,
            })
        };

        let mut layers = Vec::with_capacity(config.num_layers);
        for l in 0..config.num_layers {
            let base = format!("encoder.layer.{l}");
            layers.push(LayerWeights {
                query: linear(&format!("{base}.attention.self.query"), h, h)?,
                key: linear(&format!("{base}.attention.self.key"), h, h)?,
                value: linear(&format!("{base}.attention.self.value"), h, h)?,
                attn_out: linear(&format!("{base}.attention.output.dense"), h, h)?,
                attn_norm: norm(&format!("{base}.attention.output"))?,
                ffn_in: linear(&format!("{base}.intermediate.dense"), i, h)?,
                ffn_out: linear(&format!("{base}.output.dense"), h, i)?,
                ffn_norm: norm(&format!("{base}.output"))?,
            });
        }
        Ok(Self {
            word_embeddings: reader.get("embeddings.word_embeddings.weight", &[config.vocab_size, h])?,
            position_embeddings: reader
                .get("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h])?,
            token_type_embeddings: reader
                .get("embeddings.token_type_embeddings.weight", &[config.type_vocab_size, h])?,
            embeddings_norm: norm("embeddings")?,
            layers,
            config,
        })
    }

    /// Number of parameters (what the forward pass reads).
    pub fn parameter_count(&self) -> usize {
        let lin = |l: &Linear| l.weight.len() + l.bias.len();
        let norm = |n: &LayerNorm| n.gamma.len() + n.beta.len();
        self.word_embeddings.len()
            + self.position_embeddings.len()
            + self.token_type_embeddings.len()
            + norm(&self.embeddings_norm)
            + self
                .layers
                .iter()
                .map(|l| {
                    lin(&l.query)
                        + lin(&l.key)
                        + lin(&l.value)
                        + lin(&l.attn_out)
                        + lin(&l.ffn_in)
                        + lin(&l.ffn_out)
                        + norm(&l.attn_norm)
                        + norm(&l.ffn_norm)
                })
                .sum::<usize>()
    }
}

struct Reader<'a, 'b> {
    tensors: &'a SafeTensors<'b>,
    file: &'a str,
    prefix: &'static str,
}

impl Reader<'_, '_> {
    /// The tensor `name` as f32, after checking its shape and values.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
        let full = format!("{}{name}", self.prefix);
        let view = self
            .tensors
            .tensor(&full)
            .map_err(|_| ModelError::MissingTensor { file: self.file.into(), tensor: full.clone() })?;
        if view.shape() != shape {
            return Err(ModelError::TensorShape {
                file: self.file.into(),
                tensor: full,
                got: view.shape().to_vec(),
                expected: shape.to_vec(),
            });
        }
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => data.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))
                .collect(),
            other => {
                return Err(ModelError::TensorDtype {
                    file: self.file.into(),
                    tensor: full,
                    dtype: format!("{other:?}"),
                });
            }
        };
        if values.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite { file: self.file.into(), tensor: full });
        }
        Ok(values)
    }
}

/// IEEE half → single, exactly (subnormals included).
fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exp = u32::from((bits >> 10) & 0x1f);
    let frac = u32::from(bits & 0x3ff);
    let magnitude = match (exp, frac) {
        (0, 0) => 0,
        (0, f) => {
            // Subnormal: value = f · 2⁻²⁴ (exact in f32).
            let value = f as f32 * 2f32.powi(-24);
            return if sign != 0 { -value } else { value };
        }
        (0x1f, f) => 0x7f80_0000 | (f << 13),
        (e, f) => ((e + 112) << 23) | (f << 13),
    };
    f32::from_bits(sign | magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_widens_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8001), -(2f32.powi(-24)));
        assert!(f16_to_f32(0x7c00).is_infinite());
    }
}
