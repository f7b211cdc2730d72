//! The model's shape and pooling, read from a sentence-transformers folder: the BERT
//! `config.json` (sizes, layer-norm epsilon, activation), `modules.json` (which modules
//! follow the transformer: pooling, normalisation), the pooling module's
//! `config.json`, and `sentence_bert_config.json` (the maximum sequence length). Every
//! value is validated here once, so the CPU and GPU forward passes can trust it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Upper bounds that keep a hostile or mistaken folder from asking for absurd memory.
pub mod limits {
    /// Largest hidden size accepted.
    pub const MAX_HIDDEN: usize = 8192;
    /// Largest feed-forward size accepted.
    pub const MAX_INTERMEDIATE: usize = 65_536;
    /// Most layers accepted.
    pub const MAX_LAYERS: usize = 96;
    /// Largest vocabulary accepted.
    pub const MAX_VOCAB: usize = 1_000_000;
    /// Most positions accepted.
    pub const MAX_POSITIONS: usize = 8192;
    /// Most token types accepted.
    pub const MAX_TYPES: usize = 16;
}

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Mean over the sequence's real tokens (all-MiniLM-L6-v2).
    Mean,
    /// The [CLS] token's vector (bge models).
    Cls,
}

/// A validated BERT-family sentence-encoder configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Width of every token vector (384 for MiniLM-L6).
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_layers: usize,
    /// Attention heads per layer; divides `hidden_size`.
    pub num_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Rows of the word-embedding table.
    pub vocab_size: usize,
    /// Rows of the position-embedding table.
    pub max_position_embeddings: usize,
    /// Rows of the token-type table (every token uses type 0).
    pub type_vocab_size: usize,
    /// Layer-norm epsilon.
    pub layer_norm_eps: f64,
    /// Longest sequence (tokens, [CLS] and [SEP] included) the sentence encoder takes.
    pub max_seq_length: usize,
    /// Pooling of token vectors into the sentence vector.
    pub pooling: Pooling,
    /// Whether the sentence vector is L2-normalised.
    pub normalize: bool,
}

impl ModelConfig {
    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_heads
    }

    /// Reads and validates the configuration of the sentence-transformers folder `dir`.
    /// `config.json` is required; the others fall back to sentence-transformers' own
    /// defaults (mean pooling, no normalisation, `max_position_embeddings`).
    pub fn from_dir(dir: &Path) -> Result<Self, ModelError> {
        let read = |name: &str| -> Result<Option<String>, ModelError> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(ModelError::Read { path, source }),
            }
        };
        let config = read("config.json")?.ok_or_else(|| ModelError::Read {
            path: dir.join("config.json"),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no config.json: not a model folder"),
        })?;
        let modules = read("modules.json")?;
        let pooling_dir = match &modules {
            Some(text) => pooling_path(text)?,
            None => None,
        };
        let pooling = match &pooling_dir {
            Some(sub) => Some(
                read(&format!("{sub}/config.json"))?
                    .ok_or_else(|| json_err(&format!("{sub}/config.json"), "missing, but modules.json names it"))?,
            ),
            None => None,
        };
        let st = read("sentence_bert_config.json")?;
        Self::from_json(&config, modules.as_deref(), pooling.as_deref(), st.as_deref())
    }

    /// Builds and validates a configuration from the texts of `config.json`,
    /// `modules.json`, the pooling `config.json` and `sentence_bert_config.json`.
    pub fn from_json(
        config_json: &str,
        modules_json: Option<&str>,
        pooling_json: Option<&str>,
        sentence_bert_json: Option<&str>,
    ) -> Result<Self, ModelError> {
        let raw: RawBert = serde_json::from_str(config_json).map_err(|e| json_err("config.json", &e.to_string()))?;
        raw.check()?;

        let normalize = match modules_json {
            Some(text) => modules(text)?.iter().any(|m| m.kind.ends_with(".Normalize")),
            None => false,
        };
        let pooling = match pooling_json {
            Some(text) => parse_pooling(text)?,
            None => Pooling::Mean,
        };
        let max_seq_length = match sentence_bert_json {
            Some(text) => {
                let st: RawSentenceBert =
                    serde_json::from_str(text).map_err(|e| json_err("sentence_bert_config.json", &e.to_string()))?;
                st.max_seq_length.unwrap_or(raw.max_position_embeddings)
            }
            None => raw.max_position_embeddings,
        };
        let config = Self {
            hidden_size: raw.hidden_size,
            num_layers: raw.num_hidden_layers,
            num_heads: raw.num_attention_heads,
            intermediate_size: raw.intermediate_size,
            vocab_size: raw.vocab_size,
            max_position_embeddings: raw.max_position_embeddings,
            type_vocab_size: raw.type_vocab_size,
            layer_norm_eps: raw.layer_norm_eps,
            max_seq_length,
            pooling,
            normalize,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks sizes against each other and against [`limits`].
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |field: &'static str, value: String, reason: &str| {
            Err(ModelError::Config { file: "config.json".into(), field, value, reason: reason.into() })
        };
        let range = |field: &'static str, value: usize, max: usize| {
            if value == 0 || value > max {
                bad(field, value.to_string(), &format!("must be between 1 and {max}"))
            } else {
                Ok(())
            }
        };
        range("hidden_size", self.hidden_size, limits::MAX_HIDDEN)?;
        range("num_hidden_layers", self.num_layers, limits::MAX_LAYERS)?;
        range("num_attention_heads", self.num_heads, self.hidden_size)?;
        range("intermediate_size", self.intermediate_size, limits::MAX_INTERMEDIATE)?;
        range("vocab_size", self.vocab_size, limits::MAX_VOCAB)?;
        range("max_position_embeddings", self.max_position_embeddings, limits::MAX_POSITIONS)?;
        range("type_vocab_size", self.type_vocab_size, limits::MAX_TYPES)?;
        if !self.hidden_size.is_multiple_of(self.num_heads) {
            return bad(
                "num_attention_heads",
                self.num_heads.to_string(),
                &format!("must divide hidden_size ({})", self.hidden_size),
            );
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0 && self.layer_norm_eps < 1.0) {
            return bad("layer_norm_eps", self.layer_norm_eps.to_string(), "must be a small positive number");
        }
        if self.max_seq_length == 0 || self.max_seq_length > self.max_position_embeddings {
            return Err(ModelError::Config {
                file: "sentence_bert_config.json".into(),
                field: "max_seq_length",
                value: self.max_seq_length.to_string(),
                reason: format!("must be between 1 and max_position_embeddings ({})", self.max_position_embeddings),
            });
        }
        Ok(())
    }

    /// Checks a batch of token-id sequences against this model (non-empty, not longer
    /// than [`max_seq_length`](Self::max_seq_length), ids inside the vocabulary).
    pub fn check_batch(&self, batch: &[Vec<u32>]) -> Result<(), ModelError> {
        for (index, ids) in batch.iter().enumerate() {
            if ids.is_empty() {
                return Err(ModelError::EmptySequence { index });
            }
            if ids.len() > self.max_seq_length {
                return Err(ModelError::SequenceTooLong { index, len: ids.len(), max: self.max_seq_length });
            }
            if let Some((position, &id)) = ids.iter().enumerate().find(|(_, id)| **id as usize >= self.vocab_size) {
                return Err(ModelError::TokenOutOfRange { index, position, id, vocab: self.vocab_size });
            }
        }
        Ok(())
    }
}

fn json_err(file: &str, reason: &str) -> ModelError {
    ModelError::Json { file: file.into(), reason: reason.into() }
}

/// The fields of a Hugging Face BERT `config.json` that matter here.
#[derive(Debug, Deserialize)]
struct RawBert {
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    vocab_size: usize,
    max_position_embeddings: usize,
    #[serde(default = "default_types")]
    type_vocab_size: usize,
    #[serde(default = "default_eps")]
    layer_norm_eps: f64,
    #[serde(default = "default_act")]
    hidden_act: String,
    #[serde(default)]
    model_type: Option<String>,
    #[serde(default)]
    position_embedding_type: Option<String>,
}

fn default_types() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}

impl RawBert {
    fn check(&self) -> Result<(), ModelError> {
        let bad = |field: &'static str, value: &str, reason: &str| {
            Err(ModelError::Config { file: "config.json".into(), field, value: value.into(), reason: reason.into() })
        };
        if self.hidden_act != "gelu" {
            return bad("hidden_act", &self.hidden_act, "only \"gelu\" (the erf form) is implemented");
        }
        if let Some(kind) = &self.model_type
            && kind != "bert"
        {
            return bad("model_type", kind, "only BERT-family encoders (\"bert\") are implemented");
        }
        if let Some(kind) = &self.position_embedding_type
            && kind != "absolute"
        {
            return bad("position_embedding_type", kind, "only absolute position embeddings are implemented");
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
struct RawSentenceBert {
    #[serde(default)]
    max_seq_length: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct RawModule {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

fn modules(text: &str) -> Result<Vec<RawModule>, ModelError> {
    serde_json::from_str(text).map_err(|e| json_err("modules.json", &e.to_string()))
}

/// The pooling module's folder, if `modules.json` lists one.
fn pooling_path(modules_json: &str) -> Result<Option<String>, ModelError> {
    let list = modules(modules_json)?;
    let Some(pooling) = list.iter().find(|m| m.kind.ends_with(".Pooling")) else {
        return Ok(None);
    };
    // The path is a sub-folder name; refuse anything that could leave the model folder.
    let path = &pooling.path;
    if path.is_empty() || path.contains("..") || path.starts_with('/') || path.contains('\\') {
        return Err(ModelError::Config {
            file: "modules.json".into(),
            field: "path",
            value: path.clone(),
            reason: "the pooling module must live in a sub-folder of the model".into(),
        });
    }
    Ok(Some(path.clone()))
}

#[derive(Debug, Deserialize)]
struct RawPooling {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
}

fn parse_pooling(text: &str) -> Result<Pooling, ModelError> {
    let file = "1_Pooling/config.json";
    let raw: RawPooling = serde_json::from_str(text).map_err(|e| json_err(file, &e.to_string()))?;
    let unsupported = raw.pooling_mode_max_tokens
        || raw.pooling_mode_mean_sqrt_len_tokens
        || raw.pooling_mode_weightedmean_tokens
        || raw.pooling_mode_lasttoken;
    match (raw.pooling_mode_mean_tokens, raw.pooling_mode_cls_token, unsupported) {
        (true, false, false) => Ok(Pooling::Mean),
        (false, true, false) => Ok(Pooling::Cls),
        _ => Err(ModelError::Config {
            file: file.into(),
            field: "pooling_mode_*",
            value: text.split_whitespace().collect::<Vec<_>>().join(" "),
            reason: "exactly one of mean or CLS pooling must be enabled (others are not implemented)".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{"hidden_act":"gelu","hidden_size":384,"intermediate_size":1536,
        "layer_norm_eps":1e-12,"max_position_embeddings":512,"model_type":"bert",
        "num_attention_heads":12,"num_hidden_layers":6,"type_vocab_size":2,"vocab_size":30522,
        "position_embedding_type":"absolute"}"#;
    const MODULES: &str = r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
        {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
        {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]"#;
    const MEAN: &str = r#"{"word_embedding_dimension":384,"pooling_mode_cls_token":false,
        "pooling_mode_mean_tokens":true,"pooling_mode_max_tokens":false}"#;

    #[test]
    fn minilm_folder_config_reads_as_published() {
        let c = ModelConfig::from_json(MINILM, Some(MODULES), Some(MEAN), Some(r#"{"max_seq_length":256}"#))
            .expect("valid");
        assert_eq!((c.hidden_size, c.num_layers, c.num_heads, c.head_dim()), (384, 6, 12, 32));
        assert_eq!((c.intermediate_size, c.vocab_size, c.max_seq_length), (1536, 30522, 256));
        assert_eq!(c.pooling, Pooling::Mean);
        assert!(c.normalize);
        let bare = ModelConfig::from_json(MINILM, None, None, None).expect("valid");
        assert_eq!((bare.max_seq_length, bare.normalize), (512, false));
    }

    #[test]
    fn heads_must_divide_hidden() {
        let text = MINILM.replace("\"num_attention_heads\":12", "\"num_attention_heads\":7");
        let err = ModelConfig::from_json(&text, None, None, None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("num_attention_heads") && err.contains("divide"), "{err}");
    }

    #[test]
    fn other_activations_and_models_are_refused() {
        let text = MINILM.replace("\"gelu\"", "\"relu\"");
        let err = ModelConfig::from_json(&text, None, None, None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("hidden_act = relu"), "{err}");
        let text = MINILM.replace("\"bert\"", "\"roberta\"");
        assert!(ModelConfig::from_json(&text, None, None, None).is_err());
        let text = MINILM.replace("\"absolute\"", "\"relative_key\"");
        assert!(ModelConfig::from_json(&text, None, None, None).is_err());
    }

    #[test]
    fn absurd_sizes_and_lengths_are_refused() {
        let text = MINILM.replace("\"vocab_size\":30522", "\"vocab_size\":1000000000");
        let err = ModelConfig::from_json(&text, None, None, None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("vocab_size"), "{err}");
        let err = ModelConfig::from_json(MINILM, None, None, Some(r#"{"max_seq_length":1024}"#))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("sentence_bert_config.json") && err.contains("max_seq_length"), "{err}");
        assert!(ModelConfig::from_json("{not json", None, None, None).is_err());
    }

    #[test]
    fn pooling_modes() {
        let cls = r#"{"pooling_mode_cls_token":true,"pooling_mode_mean_tokens":false}"#;
        let c = ModelConfig::from_json(MINILM, Some(MODULES), Some(cls), None).expect("valid");
        assert_eq!(c.pooling, Pooling::Cls);
        let max = r#"{"pooling_mode_max_tokens":true}"#;
        assert!(ModelConfig::from_json(MINILM, Some(MODULES), Some(max), None).is_err());
        let both = r#"{"pooling_mode_cls_token":true,"pooling_mode_mean_tokens":true}"#;
        assert!(ModelConfig::from_json(MINILM, Some(MODULES), Some(both), None).is_err());
        let escape = MODULES.replace("\"1_Pooling\"", "\"../etc\"");
        assert!(pooling_path(&escape).is_err());
    }

    #[test]
    fn batches_are_checked() {
        let c = ModelConfig::from_json(MINILM, None, None, Some(r#"{"max_seq_length":4}"#)).expect("valid");
        assert!(c.check_batch(&[vec![101, 102]]).is_ok());
        assert!(matches!(c.check_batch(&[vec![101], vec![]]), Err(ModelError::EmptySequence { index: 1 })));
        assert!(matches!(c.check_batch(&[vec![1; 5]]), Err(ModelError::SequenceTooLong { len: 5, max: 4, .. })));
        assert!(matches!(
            c.check_batch(&[vec![101, 30522]]),
            Err(ModelError::TokenOutOfRange { position: 1, id: 30522, .. })
        ));
    }
}
