//! The coordinator's data folder: input blobs (`blobs/<sha256>`) and verified result
//! blocks (`results/<part id>.f32`) live here as files, never in the database. Every
//! file is written to a temporary name, synced and renamed, so a crash leaves either
//! no file or the whole file; a file is written before the database row that refers
//! to it, so a committed row always has its file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The folder, and the temporary directory that owns it when there is no database
/// file to put it next to (kept alive as long as the coordinator).
#[derive(Debug, Clone)]
pub(crate) struct DataDir {
    root: PathBuf,
    _temp: Option<Arc<tempfile::TempDir>>,
}

impl DataDir {
    /// The folder `configured`, else `<database>.data` next to a database file, else a
    /// fresh temporary folder (in-memory database).
    pub(crate) fn open(configured: Option<&Path>, database: &str) -> std::io::Result<Self> {
        let (root, temp) = match configured {
            Some(p) => (p.to_owned(), None),
            None if matches!(database, "sqlite::memory:" | ":memory:") => {
                let t = tempfile::Builder::new().prefix("idlewatt-coordinator-").tempdir()?;
                (t.path().to_owned(), Some(Arc::new(t)))
            }
            None => {
                let path =
                    database.strip_prefix("sqlite://").or_else(|| database.strip_prefix("sqlite:")).unwrap_or(database);
                (PathBuf::from(format!("{path}.data")), None)
            }
        };
        std::fs::create_dir_all(root.join("blobs"))?;
        std::fs::create_dir_all(root.join("results"))?;
        Ok(Self { root, _temp: temp })
    }

    /// Where blob `sha256` (64 lowercase hex digits, checked by the caller) lives.
    pub(crate) fn blob(&self, sha256: &str) -> PathBuf {
        self.root.join("blobs").join(sha256)
    }

    /// Where the verified block of part `part_id` (hex, issued by us) lives.
    pub(crate) fn result(&self, part_id: &str) -> PathBuf {
        self.root.join("results").join(format!("{part_id}.f32"))
    }
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no parent folder"))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Whether `s` is a SHA-256 in lowercase hex.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
