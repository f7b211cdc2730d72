//! Quality of the CPU forward pass against sentence-transformers itself: every sentence
//! of `tests/fixtures/embeddings/minilm_reference.json` (written by
//! `scripts/reference-embeddings.py` with the library's own tokenizer and model) is
//! encoded from its token ids and must agree at cosine ≥ 0.9999. Also: a synthetic model
//! is invariant to how sequences are grouped into a batch.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idlewatt_models::{
    CpuModel, ModelError, cpu,
    testing::{minilm_dir, synthetic_weights, tiny_config},
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    versions: serde_json::Value,
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    text: String,
    ids: Vec<u32>,
    vector: Vec<f32>,
}

fn fixture() -> Fixture {
    let path =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"))
            .join("../tests/fixtures/embeddings/minilm_reference.json");
    let text = std::fs::read_to_string(path).expect("the fixture is in the repository");
    serde_json::from_str(&text).expect("the fixture is valid JSON")
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn cpu_model_agrees_with_sentence_transformers() {
    let dir = minilm_dir().unwrap_or_else(|e| panic!("{e}"));
    let model = CpuModel::load_dir(&dir).unwrap();
    let fx = fixture();
    assert!(fx.items.len() >= 200);
    let batch: Vec<Vec<u32>> = fx.items.iter().map(|i| i.ids.clone()).collect();
    let started = std::time::Instant::now();
    let vectors = cpu::encode(&model, &batch).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let tokens: usize = batch.iter().map(Vec::len).sum();

    let mut min_cos = f64::INFINITY;
    let mut max_abs = 0f64;
    for (item, v) in fx.items.iter().zip(&vectors) {
        let c = cosine(v, &item.vector);
        let abs = v.iter().zip(&item.vector).map(|(a, b)| f64::from((a - b).abs())).fold(0.0, f64::max);
        assert!(c >= 0.9999, "{:?}: cosine {c}", item.text);
        min_cos = min_cos.min(c);
        max_abs = max_abs.max(abs);
    }
    println!(
        "CPU vs sentence-transformers {}: {} sentences, {tokens} tokens, min cosine {min_cos:.9}, \
         max abs diff {max_abs:.3e}, {:.1} s ({:.0} tokens/s)",
        fx.versions,
        fx.items.len(),
        seconds,
        tokens as f64 / seconds
    );
}

#[test]
fn batch_grouping_and_threads_do_not_change_results() {
    let weights = synthetic_weights(&tiny_config(), 3);
    let model = CpuModel::new(weights.clone()).with_threads(3);
    let batch: Vec<Vec<u32>> = (1..=12u32).map(|n| (0..n).map(|i| (i * 7 + n) % 97).collect()).collect();
    let together = cpu::encode(&model, &batch).unwrap();
    let single = CpuModel::new(weights).with_threads(1);
    for (ids, v) in batch.iter().zip(&together) {
        assert_eq!(&cpu::encode(&single, std::slice::from_ref(ids)).unwrap()[0], v);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }
}

#[test]
fn bad_ids_are_refused_before_any_work() {
    let model = CpuModel::new(synthetic_weights(&tiny_config(), 4));
    assert!(matches!(cpu::encode(&model, &[vec![1, 2], vec![]]), Err(ModelError::EmptySequence { index: 1 })));
    assert!(matches!(cpu::encode(&model, &[vec![97]]), Err(ModelError::TokenOutOfRange { id: 97, .. })));
    assert!(matches!(cpu::encode(&model, &[vec![1; 34]]), Err(ModelError::SequenceTooLong { len: 34, max: 33, .. })));
    assert!(cpu::encode(&model, &[]).unwrap().is_empty());
}
