//! The models this coordinator serves (`--model NAME=DIR`, repeatable). At start each
//! sentence-transformers folder is read once: its tokenizer loaded, its maximum
//! sequence length and output dimension taken from its own config files, and the files
//! nodes need hashed (SHA-256), so leases can name them by content and
//! `GET /v1/models/{sha256}/{file}` can serve exactly those bytes.

use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use idlewatt_protocol::models::{MODEL_FILES, ModelFile, ModelManifest, REQUIRED_MODEL_FILES};
use sha2::{Digest, Sha256};

use super::tokenize::{TextTokenizer, TokenizeError};

/// Longest sequence any model may be configured for (BERT's position table).
const HARD_MAX_LEN: usize = 512;

/// `NAME=DIR`: the name clients ask for and the model's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// What clients put in `model`, e.g. `all-MiniLM-L6-v2`.
    pub name: String,
    /// A sentence-transformers folder (`config.json`, `tokenizer.json`, `model.safetensors`).
    pub dir: PathBuf,
}

impl std::str::FromStr for ModelSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, dir) = s.split_once('=').ok_or_else(|| format!("{s:?} is not NAME=DIR"))?;
        let name = name.trim();
        let ok = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
        if name.is_empty() || name.len() > 128 || !name.chars().all(ok) {
            return Err(format!("model name {name:?} must be 1-128 letters, digits, '-', '_' or '.'"));
        }
        if dir.trim().is_empty() {
            return Err(format!("model {name} has no folder"));
        }
        Ok(Self { name: name.to_owned(), dir: PathBuf::from(dir.trim()) })
    }
}

/// Why a model folder cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file is missing or unreadable.
    #[error("model {model}: cannot read {path}: {source}")]
    Read {
        /// The model's name.
        model: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A config file that does not say what it must.
    #[error("model {model}: {reason}")]
    Config {
        /// The model's name.
        model: String,
        /// What is wrong.
        reason: String,
    },
    /// The tokenizer.
    #[error("model {model}: {source}")]
    Tokenizer {
        /// The model's name.
        model: String,
        /// Why.
        #[source]
        source: TokenizeError,
    },
    /// The same name twice.
    #[error("model {0} is given twice")]
    Duplicate(String),
}

/// One served model.
#[derive(Debug)]
pub struct ServedModel {
    /// Its name and files, as leases carry them.
    pub manifest: ModelManifest,
    /// Its folder.
    pub dir: PathBuf,
    /// Output dimension (`hidden_size`).
    pub dim: u32,
    /// Longest sequence, `[CLS]`/`[SEP]` included.
    pub max_len: usize,
    /// Its tokenizer.
    pub tokenizer: TextTokenizer,
    /// The verifier's side (CPU model, canaries), loaded on first use: a coordinator
    /// that never gets an embeddings job never holds the weights in memory.
    reference: std::sync::OnceLock<Result<Arc<Reference>, String>>,
    /// Whether [`ServedModel::warm_up`] started the load.
    loading: std::sync::atomic::AtomicBool,
}

/// What verifying a model's batches needs: the independent CPU implementation, the
/// canaries computed with it, and the shape that estimates a batch's work.
#[derive(Debug)]
pub struct Reference {
    /// The CPU model.
    pub cpu: Arc<idlewatt_models::CpuModel>,
    /// Its canaries.
    pub canaries: super::canary::Canaries,
    /// Layers, hidden size, feed-forward size.
    pub shape: (u64, u64, u64),
}

impl ServedModel {
    /// The verifier's side if it is loaded.
    pub fn loaded_reference(&self) -> Option<Arc<Reference>> {
        self.reference.get().and_then(|r| r.as_ref().ok()).cloned()
    }

    /// The verifier's side, loaded (and its canaries computed) on first use; blocking,
    /// and a second caller waits for the first's load. A failure is kept: the files do
    /// not change while the coordinator runs.
    pub fn reference(&self) -> Result<Arc<Reference>, String> {
        self.reference
            .get_or_init(|| {
                let cpu = Arc::new(idlewatt_models::CpuModel::load_dir(&self.dir).map_err(|e| e.to_string())?);
                let canaries = super::canary::Canaries::prepare(&self.tokenizer, &cpu).map_err(|e| e.to_string())?;
                let c = &cpu.weights().config;
                let shape = (c.num_layers as u64, c.hidden_size as u64, c.intermediate_size as u64);
                Ok(Arc::new(Reference { cpu, canaries, shape }))
            })
            .clone()
    }

    /// Starts loading the verifier's side in the background (once); `true` if it is
    /// ready now.
    pub fn warm_up(self: &Arc<Self>) -> bool {
        if self.reference.get().is_some() {
            return true;
        }
        if !self.loading.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let model = self.clone();
            std::thread::spawn(move || match model.reference() {
                Ok(_) => tracing::info!(model = %model.manifest.name, "embeddings verifier ready"),
                Err(e) => {
                    tracing::error!(model = %model.manifest.name, error = %e, "cannot load the model's verifier; its jobs wait")
                }
            });
        }
        false
    }
}

/// A file a node may download.
#[derive(Debug, Clone)]
pub struct ServedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its name in the model folder.
    pub name: String,
    /// Its size when hashed.
    pub size: u64,
}

/// Every served model, by name, and their files, by SHA-256.
#[derive(Debug, Default)]
pub struct ModelRegistry {
    models: BTreeMap<String, Arc<ServedModel>>,
    files: HashMap<String, ServedFile>,
}

impl ModelRegistry {
    /// Reads, tokenizer-loads and hashes every model (blocking: ~0.3 s per 90 MB).
    pub fn load(specs: &[ModelSpec]) -> Result<Self, ModelError> {
        let mut reg = Self::default();
        for spec in specs {
            if reg.models.contains_key(&spec.name) {
                return Err(ModelError::Duplicate(spec.name.clone()));
            }
            let model = load_one(spec)?;
            for f in &model.manifest.files {
                reg.files.insert(
                    f.sha256.clone(),
                    ServedFile { path: spec.dir.join(&f.name), name: f.name.clone(), size: f.size },
                );
            }
            tracing::info!(model = %spec.name, dir = %spec.dir.display(), bytes = model.manifest.total_bytes(),
                dim = model.dim, max_len = model.max_len, "serving model");
            reg.models.insert(spec.name.clone(), Arc::new(model));
        }
        Ok(reg)
    }

    /// A model by the name clients use.
    pub fn get(&self, name: &str) -> Option<Arc<ServedModel>> {
        self.models.get(name).cloned()
    }

    /// Every model, by name.
    pub fn all(&self) -> impl Iterator<Item = &Arc<ServedModel>> {
        self.models.values()
    }

    /// The file with this SHA-256, if it is called `name`.
    pub fn file(&self, sha256: &str, name: &str) -> Option<&ServedFile> {
        self.files.get(sha256).filter(|f| f.name == name)
    }

    /// No model configured.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

fn load_one(spec: &ModelSpec) -> Result<ServedModel, ModelError> {
    let model = spec.name.clone();
    let bad = |reason: String| ModelError::Config { model: model.clone(), reason };
    let read_json = |name: &str| -> Result<serde_json::Value, ModelError> {
        let path = spec.dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Read {
            model: model.clone(),
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| bad(format!("{name} is not JSON: {e}")))
    };
    let config = read_json("config.json")?;
    let dim = config["hidden_size"]
        .as_u64()
        .filter(|d| (1..=8192).contains(d))
        .ok_or_else(|| bad("config.json has no hidden_size in 1..=8192".into()))?;
    let positions = config["max_position_embeddings"].as_u64().unwrap_or(HARD_MAX_LEN as u64) as usize;
    // sentence-transformers' own limit (256 for all-MiniLM-L6-v2) when the folder has it.
    let st_max = if spec.dir.join("sentence_bert_config.json").exists() {
        read_json("sentence_bert_config.json")?["max_seq_length"].as_u64().map(|v| v as usize)
    } else {
        None
    };
    let max_len = st_max.unwrap_or(positions).min(positions).min(HARD_MAX_LEN);
    if max_len < 2 {
        return Err(bad(format!("maximum sequence length {max_len} leaves no room for [CLS] and [SEP]")));
    }
    let tokenizer = TextTokenizer::from_file(&spec.dir.join("tokenizer.json"), max_len)
        .map_err(|source| ModelError::Tokenizer { model: model.clone(), source })?;
    let files = MODEL_FILES
        .iter()
        .filter(|name| REQUIRED_MODEL_FILES.contains(name) || spec.dir.join(name).is_file())
        .map(|name| {
            let path = spec.dir.join(name);
            let (sha256, size) =
                hash_file(&path).map_err(|source| ModelError::Read { model: model.clone(), path, source })?;
            Ok(ModelFile { name: (*name).to_owned(), sha256, size })
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    Ok(ServedModel {
        manifest: ModelManifest { name: spec.name.clone(), files },
        dir: spec.dir.clone(),
        dim: dim as u32,
        max_len,
        tokenizer,
        reference: std::sync::OnceLock::new(),
        loading: std::sync::atomic::AtomicBool::new(false),
    })
}

/// SHA-256 (lowercase hex) and size of a file.
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((alloy::hex::encode(h.finalize()), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_why() {
        let s: ModelSpec = "all-MiniLM-L6-v2=/models/mini".parse().unwrap();
        assert_eq!(s.name, "all-MiniLM-L6-v2");
        assert_eq!(s.dir, PathBuf::from("/models/mini"));
        assert!("nodir".parse::<ModelSpec>().unwrap_err().contains("NAME=DIR"));
        assert!("a b=/x".parse::<ModelSpec>().is_err());
        assert!("=/x".parse::<ModelSpec>().is_err());
        assert!("m=".parse::<ModelSpec>().is_err());
    }

    #[test]
    fn a_folder_without_files_is_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let spec = ModelSpec { name: "m".into(), dir: dir.path().to_owned() };
        let e = ModelRegistry::load(&[spec]).unwrap_err();
        assert!(e.to_string().contains("config.json"), "{e}");
    }
}
