//! Models reach nodes safely (issue 15): a real coordinator serves `--model` folders
//! content-addressed over HTTP; the node's [`ModelCache`] downloads them once, resumes
//! an interrupted download with a range request, discards a file whose SHA-256 is not
//! the one the coordinator announced, never downloads a model larger than its quota,
//! and evicts the least recently used model to make room.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::path::{Path, PathBuf};

use idlewatt::model_cache::{CacheError, DownloadProgress, ModelCache};
use idlewatt_coordinator::embed::registry::{ModelRegistry, ModelSpec};
use idlewatt_protocol::models::ModelManifest;
use util::coordinator::Coordinator;

const MB: u64 = 1 << 20;

/// A model folder the coordinator accepts: a tiny WordPiece tokenizer, a BERT-shaped
/// config and `size` bytes of "weights" (distinct per `salt`).
fn model_dir(root: &Path, name: &str, size: usize, salt: u8) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let tokenizer = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "decoder": null,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}}
    });
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    std::fs::write(dir.join("config.json"), r#"{"hidden_size": 8, "max_position_embeddings": 16}"#).unwrap();
    let weights: Vec<u8> = (0..size).map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt)).collect();
    std::fs::write(dir.join("model.safetensors"), weights).unwrap();
    dir
}

struct Served {
    coordinator: Coordinator,
    manifests: Vec<ModelManifest>,
    _dir: tempfile::TempDir,
    dirs: Vec<PathBuf>,
}

/// A coordinator serving models `m0`, `m1`, … of the given sizes.
fn serve(sizes: &[usize]) -> Served {
    let tmp = tempfile::tempdir().unwrap();
    let specs: Vec<ModelSpec> = sizes
        .iter()
        .enumerate()
        .map(|(i, &s)| ModelSpec { name: format!("m{i}"), dir: model_dir(tmp.path(), &format!("m{i}"), s, i as u8) })
        .collect();
    let registry = ModelRegistry::load(&specs).unwrap();
    let manifests = specs.iter().map(|s| registry.get(&s.name).unwrap().manifest.clone()).collect();
    let coordinator = Coordinator::start(idlewatt_coordinator::Config { models: specs.clone(), ..Default::default() });
    Served { coordinator, manifests, dirs: specs.into_iter().map(|s| s.dir).collect(), _dir: tmp }
}

fn ensure(
    cache: &ModelCache,
    url: &str,
    m: &ModelManifest,
    mut progress: impl FnMut(DownloadProgress) -> bool,
) -> Result<PathBuf, CacheError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(cache.ensure(url, m, &mut progress))
}

#[test]
fn a_model_is_downloaded_once_verified_and_resumed_after_an_interruption() {
    let served = serve(&[6 * MB as usize]);
    let m = &served.manifests[0];
    let data = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(data.path().join("models"), 100 * MB);
    let url = served.coordinator.url();

    // Stop after ~2 MB: the part file stays.
    let err = ensure(&cache, &url, m, |p| p.done_bytes < 2 * MB).unwrap_err();
    assert!(matches!(err, CacheError::Stopped), "{err}");
    assert!(cache.ready(m).is_none());
    let part = cache.root().join(m.content_id()).join("model.safetensors.part");
    let kept = std::fs::metadata(&part).unwrap().len();
    let config_bytes = m.files[0].size;
    assert!(kept + config_bytes >= 2 * MB && kept < 6 * MB, "kept {kept} bytes");

    // Resume: the first report already counts the kept bytes (a range request), and
    // the last one is the whole model.
    let mut reports = Vec::new();
    let dir = ensure(&cache, &url, m, |p| {
        reports.push(p.done_bytes);
        true
    })
    .unwrap();
    // The first report past the (already complete) config file: the weights resumed.
    let first = *reports.iter().find(|&&r| r > config_bytes).unwrap();
    assert!(first > config_bytes + kept, "resumed from {kept}: first report {first}");
    assert_eq!(*reports.last().unwrap(), m.total_bytes());
    assert!(reports.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        std::fs::read(dir.join("model.safetensors")).unwrap(),
        std::fs::read(served.dirs[0].join("model.safetensors")).unwrap()
    );
    assert!(!part.exists());

    // Once: a second ensure downloads nothing.
    let mut calls = 0;
    assert_eq!(
        ensure(&cache, &url, m, |_| {
            calls += 1;
            true
        })
        .unwrap(),
        dir
    );
    assert_eq!(calls, 0, "a cached model is not downloaded again");
    let listed = cache.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "m0");
    assert!(listed[0].complete);
    assert_eq!(listed[0].bytes, m.total_bytes() + std::fs::metadata(dir.join("index.json")).unwrap().len());
}

#[test]
fn a_file_whose_hash_does_not_match_is_discarded_and_reported() {
    let served = serve(&[MB as usize]);
    let m = &served.manifests[0];
    // The operator's file changes after the coordinator hashed it (same size).
    let weights = served.dirs[0].join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&weights, bytes).unwrap();

    let data = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(data.path().join("models"), 100 * MB);
    let err = ensure(&cache, &served.coordinator.url(), m, |_| true).unwrap_err();
    let CacheError::HashMismatch { file, expected, got } = &err else { panic!("expected a hash mismatch, got {err}") };
    assert_eq!(file, "model.safetensors");
    assert_eq!(expected, &m.files[1].sha256);
    assert_ne!(got, expected);
    let dir = cache.root().join(m.content_id());
    assert!(!dir.join("model.safetensors").exists() && !dir.join("model.safetensors.part").exists());
    assert!(cache.ready(m).is_none());
}

#[test]
fn the_quota_is_kept_by_evicting_the_least_recently_used_model() {
    let served = serve(&[3 * MB as usize, 3 * MB as usize, 3 * MB as usize, 12 * MB as usize]);
    let url = served.coordinator.url();
    let data = tempfile::tempdir().unwrap();
    // Room for two 3 MB models, not three.
    let cache = ModelCache::new(data.path().join("models"), 7 * MB);
    let [a, b, c, big] = [0, 1, 2, 3].map(|i| &served.manifests[i]);

    // Too large for the whole quota: refused before a byte is fetched.
    let err = ensure(&cache, &url, big, |_| panic!("no download")).unwrap_err();
    assert!(matches!(err, CacheError::TooLarge { need, quota, .. } if need > quota), "{err}");
    assert!(!cache.could_hold(big));

    ensure(&cache, &url, a, |_| true).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    ensure(&cache, &url, b, |_| true).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    // Using `a` makes `b` the least recently used.
    assert!(cache.ready(a).is_some());
    std::thread::sleep(std::time::Duration::from_millis(5));
    ensure(&cache, &url, c, |_| true).unwrap();

    let names: Vec<String> = cache.list().into_iter().map(|m| m.name).collect();
    assert_eq!(names, vec!["m2", "m0"], "b was evicted, newest first");
    assert!(cache.ready(b).is_none());
    assert!(cache.used_bytes() <= cache.quota());
    assert!(cache.clear().unwrap() > 6 * MB);
    assert!(cache.list().is_empty());
}

#[test]
fn a_manifest_that_could_escape_the_cache_folder_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(data.path().join("models"), 100 * MB);
    let mut m = ModelManifest {
        name: "evil".into(),
        files: vec![idlewatt_protocol::models::ModelFile {
            name: "../../.bashrc".into(),
            sha256: "ab".repeat(32),
            size: 10,
        }],
    };
    let err = ensure(&cache, "http://127.0.0.1:9", &m, |_| true).unwrap_err();
    assert!(matches!(err, CacheError::BadManifest(_)), "{err}");
    m.files[0].name = "model.safetensors".into();
    m.files[0].sha256 = "../".repeat(21) + "x";
    assert!(matches!(ensure(&cache, "http://127.0.0.1:9", &m, |_| true), Err(CacheError::BadManifest(_))));
    assert!(!data.path().join("models").exists(), "nothing written");
}
