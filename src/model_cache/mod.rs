//! The node's models on disk: downloaded from the coordinator only when the node is
//! about to compute with them, once (an interrupted download resumes), checked against
//! the SHA-256 the lease names before any use, and kept under a disk quota (setting
//! `model_cache_gb`, default 2 GB), evicting the least recently used model first.
//!
//! Layout: `<data>/models/<content id>/` holds the model's files and `index.json` (the
//! manifest, whether every file is complete and verified, when it was last used).
//! A coordinator cannot write outside that folder: file names must be ones a model has
//! ([`MODEL_FILES`]) and hashes must be hex.

mod download;

use std::path::{Path, PathBuf};

use idlewatt_protocol::models::{MODEL_FILES, ModelManifest, is_sha256_hex};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tracing::Instrument as _;

use crate::paths::DataDirs;

/// The default quota: 2 GB.
pub const DEFAULT_QUOTA_BYTES: u64 = 2_000_000_000;

/// The folder inside the data folder.
pub const CACHE_DIR: &str = "models";

const INDEX: &str = "index.json";

/// Why a model is not available.
#[derive(Debug, Error)]
pub enum CacheError {
    /// Reading or writing the cache.
    #[error("model cache: {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The download failed (it resumes on the next try).
    #[error("model download failed: {0}")]
    Http(String),
    /// The bytes are not the ones the lease named: discarded.
    #[error("model file {file} has SHA-256 {got}, the coordinator said {expected}: discarded")]
    HashMismatch {
        /// The file.
        file: String,
        /// What the lease said.
        expected: String,
        /// What arrived.
        got: String,
    },
    /// The model is bigger than the whole quota: never downloaded.
    #[error("model {model} needs {need} bytes but the model cache may use only {quota}")]
    TooLarge {
        /// The model.
        model: String,
        /// Its size.
        need: u64,
        /// The quota.
        quota: u64,
    },
    /// The manifest names a file or hash a model cannot have.
    #[error("refusing model manifest: {0}")]
    BadManifest(String),
    /// Stopped by the caller (the owner came back); resumes on the next try.
    #[error("model download stopped")]
    Stopped,
}

/// A download's progress, for `download_progress` events ("downloading model, 41 of 87 MB").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DownloadProgress {
    /// The model's name.
    pub model: String,
    /// Bytes on disk (all its files).
    pub done_bytes: u64,
    /// Bytes in all.
    pub total_bytes: u64,
}

/// A model in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CachedModel {
    /// The name the coordinator gave it.
    pub name: String,
    /// Its folder's name (the first 16 hex digits of its weights' SHA-256).
    pub content_id: String,
    /// Bytes on disk (partial downloads included).
    pub bytes: u64,
    /// Every file downloaded and verified.
    pub complete: bool,
    /// Last used, unix ms (0: never).
    pub last_used_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Index {
    manifest: ModelManifest,
    complete: bool,
    last_used_ms: u64,
}

/// The cache.
#[derive(Debug, Clone)]
pub struct ModelCache {
    root: PathBuf,
    quota: u64,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Checks what a coordinator sent before any of it touches the disk.
fn check_manifest(m: &ModelManifest) -> Result<(), CacheError> {
    if m.files.is_empty() {
        return Err(CacheError::BadManifest(format!("model {:?} has no files", m.name)));
    }
    for f in &m.files {
        if !MODEL_FILES.contains(&f.name.as_str()) {
            return Err(CacheError::BadManifest(format!("unexpected file name {:?}", f.name)));
        }
        if !is_sha256_hex(&f.sha256) {
            return Err(CacheError::BadManifest(format!("{:?} is not a SHA-256", f.sha256)));
        }
    }
    if m.name.len() > 128 || m.name.chars().any(char::is_control) {
        return Err(CacheError::BadManifest("model name too long or not printable".into()));
    }
    Ok(())
}

impl ModelCache {
    /// A cache in `root` (created when first written) of at most `quota` bytes.
    pub fn new(root: impl Into<PathBuf>, quota: u64) -> Self {
        Self { root: root.into(), quota }
    }

    /// The cache in the data folder.
    pub fn in_data(data: &DataDirs, quota: u64) -> Self {
        Self::new(data.join(CACHE_DIR), quota)
    }

    /// Its folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Its quota, bytes.
    pub fn quota(&self) -> u64 {
        self.quota
    }

    fn dir_of(&self, m: &ModelManifest) -> PathBuf {
        self.root.join(m.content_id())
    }

    fn read_index(dir: &Path) -> Option<Index> {
        serde_json::from_slice(&std::fs::read(dir.join(INDEX)).ok()?).ok()
    }

    fn write_index(dir: &Path, index: &Index) -> Result<(), CacheError> {
        let path = dir.join(INDEX);
        let tmp = dir.join("index.json.tmp");
        let io = |source| CacheError::Io { path: path.clone(), source };
        let bytes = serde_json::to_vec_pretty(index).map_err(|e| io(std::io::Error::other(e)))?;
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    /// Whether the node could hold this model at all (it fits the quota).
    pub fn could_hold(&self, m: &ModelManifest) -> bool {
        m.total_bytes() <= self.quota
    }

    /// The model's folder when it is complete and verified (and marks it used).
    pub fn ready(&self, m: &ModelManifest) -> Option<PathBuf> {
        check_manifest(m).ok()?;
        let dir = self.dir_of(m);
        let mut index = Self::read_index(&dir)?;
        if !index.complete || index.manifest.files != m.files {
            return None;
        }
        if !m.files.iter().all(|f| std::fs::metadata(dir.join(&f.name)).is_ok_and(|md| md.len() == f.size)) {
            return None;
        }
        index.last_used_ms = now_ms();
        index.manifest.name.clone_from(&m.name);
        let _ = Self::write_index(&dir, &index);
        Some(dir)
    }

    /// The model's folder, downloading (or resuming) what is missing from the
    /// coordinator at `base_url` first. `progress` gets the bytes so far and returns
    /// `false` to stop. Other models are evicted (least recently used first) to stay
    /// within the quota.
    pub async fn ensure(
        &self,
        base_url: &str,
        m: &ModelManifest,
        progress: &mut dyn FnMut(DownloadProgress) -> bool,
    ) -> Result<PathBuf, CacheError> {
        check_manifest(m)?;
        if let Some(dir) = self.ready(m) {
            return Ok(dir);
        }
        let total = m.total_bytes();
        if total > self.quota {
            return Err(CacheError::TooLarge { model: m.name.clone(), need: total, quota: self.quota });
        }
        let dir = self.dir_of(m);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| CacheError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut index = Index { manifest: m.clone(), complete: false, last_used_ms: now_ms() };
        Self::write_index(&dir, &index)?;
        self.evict_for(total, &dir)?;
        let span = tracing::info_span!("model_download", model = %m.name, bytes = total);
        self.download_all(base_url, m, &dir, progress).instrument(span).await?;
        index.complete = true;
        index.last_used_ms = now_ms();
        Self::write_index(&dir, &index)?;
        tracing::info!(model = %m.name, "model ready");
        Ok(dir)
    }

    async fn download_all(
        &self,
        base_url: &str,
        m: &ModelManifest,
        dir: &Path,
        progress: &mut dyn FnMut(DownloadProgress) -> bool,
    ) -> Result<(), CacheError> {
        let total = m.total_bytes();
        let http = download::http_client()?;
        let mut done_before = 0u64;
        for f in &m.files {
            let dest = dir.join(&f.name);
            // `1_Pooling/config.json` lives in a subfolder (the name is one of
            // MODEL_FILES, checked before anything is written).
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|source| CacheError::Io { path: parent.to_owned(), source })?;
            }
            let complete = std::fs::metadata(&dest).is_ok_and(|md| md.len() == f.size)
                && download::sha256_of(&dest).is_ok_and(|h| h == f.sha256);
            if !complete {
                let _ = std::fs::remove_file(&dest);
                let base = done_before;
                let mut on_bytes = |have: u64| {
                    progress(DownloadProgress { model: m.name.clone(), done_bytes: base + have, total_bytes: total })
                };
                if let Err(e) = download::fetch(&http, base_url, f, &dest, &mut on_bytes).await {
                    if matches!(e, CacheError::HashMismatch { .. }) {
                        tracing::warn!(error = %e, "model file failed its hash check");
                    }
                    return Err(e);
                }
            }
            done_before += f.size;
            if !progress(DownloadProgress { model: m.name.clone(), done_bytes: done_before, total_bytes: total }) {
                return Err(CacheError::Stopped);
            }
        }
        Ok(())
    }

    /// Every model in the cache, most recently used first.
    pub fn list(&self) -> Vec<CachedModel> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return Vec::new() };
        let mut out: Vec<CachedModel> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| {
                let dir = e.path();
                let index = Self::read_index(&dir);
                CachedModel {
                    name: index.as_ref().map_or_else(|| "(unknown)".to_owned(), |i| i.manifest.name.clone()),
                    content_id: e.file_name().to_string_lossy().into_owned(),
                    bytes: dir_bytes(&dir),
                    complete: index.as_ref().is_some_and(|i| i.complete),
                    last_used_ms: index.as_ref().map_or(0, |i| i.last_used_ms),
                }
            })
            .collect();
        out.sort_by(|a, b| b.last_used_ms.cmp(&a.last_used_ms).then_with(|| a.content_id.cmp(&b.content_id)));
        out
    }

    /// Bytes the cache uses.
    pub fn used_bytes(&self) -> u64 {
        self.list().iter().map(|m| m.bytes).sum()
    }

    /// Deletes every cached model; returns the bytes freed.
    pub fn clear(&self) -> Result<u64, CacheError> {
        let mut freed = 0;
        for m in self.list() {
            freed += self.remove(&m.content_id)?;
        }
        Ok(freed)
    }

    fn remove(&self, content_id: &str) -> Result<u64, CacheError> {
        let dir = self.root.join(content_id);
        let bytes = dir_bytes(&dir);
        std::fs::remove_dir_all(&dir).map_err(|source| CacheError::Io { path: dir.clone(), source })?;
        tracing::info!(model = content_id, bytes, "model evicted from the cache");
        Ok(bytes)
    }

    /// Evicts least recently used models (never `keep`) until `keep`'s full size fits.
    fn evict_for(&self, need: u64, keep: &Path) -> Result<(), CacheError> {
        let keep_id = keep.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut others: Vec<CachedModel> = self.list().into_iter().filter(|m| m.content_id != keep_id).collect();
        let mut used: u64 = others.iter().map(|m| m.bytes).sum();
        others.sort_by_key(|m| m.last_used_ms);
        for m in others {
            if used + need <= self.quota {
                break;
            }
            used -= self.remove(&m.content_id)?.min(used);
        }
        Ok(())
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|es| es.flatten().filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum())
        .unwrap_or(0)
}
