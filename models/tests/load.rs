//! Loading a model folder: a synthetic model written as real files round-trips; a
//! missing or misshapen tensor, a broken file or a bad config is an error that names
//! the file and the tensor; the real all-MiniLM-L6-v2 folder loads with its published
//! shape.

use idlewatt_models::{
    ModelConfig, ModelError, Pooling, Weights,
    testing::{minilm_dir, synthetic_weights, tiny_config, to_safetensors, write_model_dir},
};

#[test]
fn a_written_model_folder_loads_back_identically() {
    let weights = synthetic_weights(&tiny_config(), 7);
    let dir = tempfile::tempdir().unwrap();
    write_model_dir(&weights, dir.path()).unwrap();
    let loaded = Weights::load_dir(dir.path()).unwrap();
    assert_eq!(loaded, weights);
    assert_eq!(loaded.config.pooling, Pooling::Mean);
    assert!(loaded.config.normalize);
}

#[test]
fn missing_and_misshapen_tensors_are_named() {
    let config = tiny_config();
    let weights = synthetic_weights(&config, 1);

    let mut fewer = weights.clone();
    fewer.layers.truncate(1);
    fewer.config.num_layers = 1;
    let bytes = to_safetensors(&fewer);
    let err = Weights::from_safetensors(config.clone(), &bytes, "model.safetensors").unwrap_err();
    assert!(
        matches!(err, ModelError::MissingTensor { ref tensor, .. } if tensor.starts_with("encoder.layer.1.")),
        "{err}"
    );
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    let mut wider = config.clone();
    wider.intermediate_size += 1;
    let err = Weights::from_safetensors(wider, &to_safetensors(&weights), "model.safetensors").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("encoder.layer.0.intermediate.dense.weight") && text.contains("[100, 40]"), "{text}");

    let err = Weights::from_safetensors(config, b"not a safetensors file", "broken.safetensors").unwrap_err();
    assert!(matches!(err, ModelError::Safetensors { .. }) && err.to_string().contains("broken.safetensors"), "{err}");
}

#[test]
fn non_finite_weights_are_refused() {
    let mut weights = synthetic_weights(&tiny_config(), 2);
    weights.layers[1].ffn_out.bias[3] = f32::NAN;
    let err = Weights::from_safetensors(tiny_config(), &to_safetensors(&weights), "m.safetensors").unwrap_err();
    assert!(err.to_string().contains("encoder.layer.1.output.dense.bias"), "{err}");
}

#[test]
fn a_folder_without_config_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = ModelConfig::from_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("config.json"), "{err}");
}

#[test]
fn minilm_loads_with_its_published_shape() {
    let dir = minilm_dir().unwrap_or_else(|e| panic!("{e}"));
    let weights = Weights::load_dir(&dir).unwrap();
    let c = &weights.config;
    assert_eq!((c.hidden_size, c.num_layers, c.num_heads, c.intermediate_size), (384, 6, 12, 1536));
    assert_eq!((c.max_seq_length, c.pooling, c.normalize), (256, Pooling::Mean, true));
    // The published 22.7 M less BERT's pooler (384·384 + 384), which sentence embeddings do not use.
    assert_eq!(weights.parameter_count(), 22_713_216 - 147_840);
}
