//! Finished results waiting for the coordinator's word, on disk. A result is written
//! here *before* its first submit attempt and removed only once the coordinator has
//! decided (verified or rejected: both final), so a result computed offline, or just
//! before a crash or power cut, is submitted later instead of lost. Resubmitting is
//! safe: the coordinator answers a repeated result for a lease with the same outcome
//! and credits it once.
//!
//! Layout, in `<data folder>/outbox/`: `<lease_id>.f32` (C's raw little-endian f32
//! values) and `<lease_id>.json` (a [`PendingResult`]). Each file is written to a
//! temporary name, synced and renamed, and the JSON last: an entry exists only when
//! both files are complete. Lease ids come from the network, so they are checked to be
//! plain file names before use.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use idlewatt_protocol::wire::{JobSpec, matrix_sha256};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What the outbox could not do.
#[derive(Debug, Error)]
pub enum OutboxError {
    /// A file operation failed (a full disk and a read-only folder are named as such).
    #[error("outbox {path}: {}; {}", crate::storage::Fault::of_io(source), crate::storage::Fault::of_io(source).fix())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A lease id that cannot be a file name (from a misbehaving coordinator).
    #[error("lease id {0:?} cannot be stored: expected 1-128 of [A-Za-z0-9_-]")]
    BadLeaseId(String),
    /// An entry on disk is damaged (it is moved aside as `*.corrupt`).
    #[error("outbox entry {path} is damaged: {reason}")]
    Corrupt {
        /// The entry's JSON file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// C has the wrong number of values for the job.
    #[error("result has {got} values, the job needs {expected}")]
    WrongLength {
        /// Values given.
        got: usize,
        /// Values the job has.
        expected: usize,
    },
}

/// One queued result's description (the values are in the `.f32` file beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingResult {
    /// Where it goes: `POST /v1/leases/{lease_id}/result`.
    pub lease_id: String,
    /// The job, when known (for history and logs).
    pub job_id: Option<String>,
    /// What was computed.
    pub job: JobSpec,
    /// SHA-256 of C's little-endian bytes, lowercase hex.
    pub c_sha256: String,
    /// When it was queued, unix ms.
    pub queued_at_ms: i64,
}

/// The queue folder.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutboxError + '_ {
    move |source| OutboxError::Io { path: path.to_owned(), source }
}

fn check_id(id: &str) -> Result<(), OutboxError> {
    let ok =
        !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(OutboxError::BadLeaseId(id.to_owned())) }
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename.
/// A failed write (disk full, say) removes its temporary file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutboxError> {
    let tmp = path.with_extension("tmp");
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(OutboxError::Io { path: tmp, source });
    }
    fs::rename(&tmp, path).map_err(io(path))
}

impl Outbox {
    /// The outbox in `dir` (created if missing). Temporary files left by a write that
    /// was cut short (a crash, a full disk) are removed: they never held a complete
    /// entry, since an entry exists only once both its files were renamed into place.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, OutboxError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        for item in fs::read_dir(&dir).map_err(io(&dir))?.flatten() {
            let path = item.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                tracing::debug!(path = %path.display(), "removing a temporary file of an unfinished write");
                let _ = fs::remove_file(&path);
            }
        }
        Ok(Self { dir })
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn paths(&self, lease_id: &str) -> Result<(PathBuf, PathBuf), OutboxError> {
        check_id(lease_id)?;
        Ok((self.dir.join(format!("{lease_id}.json")), self.dir.join(format!("{lease_id}.f32"))))
    }

    /// Queues `c` for `lease_id` (replacing an entry for the same lease) and returns its
    /// description. Durable when this returns.
    pub fn put(
        &self,
        lease_id: &str,
        job_id: Option<&str>,
        job: JobSpec,
        c: &[f32],
    ) -> Result<PendingResult, OutboxError> {
        if c.len() != job.result_len() {
            return Err(OutboxError::WrongLength { got: c.len(), expected: job.result_len() });
        }
        let (json, data) = self.paths(lease_id)?;
        let bytes: Vec<u8> = c.iter().flat_map(|x| x.to_le_bytes()).collect();
        write_atomic(&data, &bytes)?;
        let entry = PendingResult {
            lease_id: lease_id.to_owned(),
            job_id: job_id.map(str::to_owned),
            job,
            c_sha256: matrix_sha256(c),
            queued_at_ms: idlewatt_protocol::auth::now_ms(),
        };
        let text = serde_json::to_vec_pretty(&entry)
            .map_err(|e| OutboxError::Corrupt { path: json.clone(), reason: e.to_string() })?;
        write_atomic(&json, &text)?;
        // Make the renames themselves durable (directory entry), where the OS allows it.
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        tracing::debug!(lease_id, "result queued in the outbox");
        Ok(entry)
    }

    /// Queued entries, oldest first. Damaged entries are moved aside and skipped.
    pub fn pending(&self) -> Result<Vec<PendingResult>, OutboxError> {
        let mut out = Vec::new();
        for item in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let path = item.map_err(io(&self.dir))?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match self.read_entry(&path) {
                Ok(e) => out.push(e),
                Err(err) => {
                    tracing::warn!(%err, "moving a damaged outbox entry aside");
                    let _ = fs::rename(&path, path.with_extension("json.corrupt"));
                }
            }
        }
        out.sort_by(|a, b| (a.queued_at_ms, &a.lease_id).cmp(&(b.queued_at_ms, &b.lease_id)));
        Ok(out)
    }

    fn read_entry(&self, path: &Path) -> Result<PendingResult, OutboxError> {
        let corrupt = |reason: String| OutboxError::Corrupt { path: path.to_owned(), reason };
        let text = fs::read(path).map_err(io(path))?;
        let entry: PendingResult = serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        if stem != entry.lease_id {
            return Err(corrupt(format!("file name does not match lease id {:?}", entry.lease_id)));
        }
        check_id(&entry.lease_id)?;
        Ok(entry)
    }

    /// C of a queued entry, checked against its length and digest.
    pub fn load(&self, entry: &PendingResult) -> Result<Vec<f32>, OutboxError> {
        let (json, data) = self.paths(&entry.lease_id)?;
        let corrupt = |reason: String| OutboxError::Corrupt { path: json.clone(), reason };
        let bytes = fs::read(&data).map_err(io(&data))?;
        if bytes.len() != entry.job.result_len() * 4 {
            return Err(corrupt(format!("{} bytes of C, expected {}", bytes.len(), entry.job.result_len() * 4)));
        }
        let c: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if matrix_sha256(&c) != entry.c_sha256 {
            return Err(corrupt("C does not match its digest".into()));
        }
        Ok(c)
    }

    /// Drops the entry for `lease_id` (the coordinator decided). Missing is fine.
    pub fn remove(&self, lease_id: &str) -> Result<(), OutboxError> {
        let (json, data) = self.paths(lease_id)?;
        for p in [json, data] {
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(OutboxError::Io { path: p, source: e }),
            }
        }
        Ok(())
    }

    /// Rebuilds the description of a queued result whose JSON is damaged or missing
    /// while its values (`<lease_id>.f32`) are intact, from what the coordinator says
    /// the lease was (`job`, `job_id`). The values are checked against the job's
    /// length; their digest is recomputed (the coordinator verifies the values
    /// themselves, so a repaired entry can never be paid for wrong data). Returns the
    /// repaired entry, or `None` when there was nothing to repair or the values do not
    /// fit the job (then they stay where they are).
    pub fn repair(
        &self,
        lease_id: &str,
        job_id: Option<&str>,
        job: JobSpec,
    ) -> Result<Option<PendingResult>, OutboxError> {
        let (json, data) = self.paths(lease_id)?;
        if json.exists() && self.read_entry(&json).is_ok() {
            return Ok(None);
        }
        let bytes = match fs::read(&data) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(OutboxError::Io { path: data, source: e }),
        };
        if bytes.len() != job.result_len() * 4 {
            tracing::warn!(lease_id, bytes = bytes.len(), "queued values do not fit their lease: not repaired");
            return Ok(None);
        }
        if json.exists() {
            fs::rename(&json, json.with_extension("json.corrupt")).map_err(io(&json))?;
        }
        let c: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let entry = PendingResult {
            lease_id: lease_id.to_owned(),
            job_id: job_id.map(str::to_owned),
            job,
            c_sha256: matrix_sha256(&c),
            queued_at_ms: idlewatt_protocol::auth::now_ms(),
        };
        let text = serde_json::to_vec_pretty(&entry)
            .map_err(|e| OutboxError::Corrupt { path: json.clone(), reason: e.to_string() })?;
        write_atomic(&json, &text)?;
        tracing::warn!(lease_id, "damaged outbox entry rebuilt from its intact values and the lease");
        Ok(Some(entry))
    }

    /// Moves a damaged entry aside (kept for inspection, never resubmitted).
    pub fn quarantine(&self, lease_id: &str) -> Result<(), OutboxError> {
        let (json, _) = self.paths(lease_id)?;
        fs::rename(&json, json.with_extension("json.corrupt")).map_err(io(&json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB: JobSpec = JobSpec::Matmul { m: 2, n: 3, k: 4, seed: 9, precision: idlewatt_protocol::Precision::F32 };

    #[test]
    fn put_survives_reopening_and_remove_forgets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = [1.0f32, -2.5, 3.0, 0.0, f32::MIN_POSITIVE, 7.0];
        let entry = Outbox::open(dir.path()).expect("open").put("lease-1", Some("job-1"), JOB, &c).expect("put");
        let again = Outbox::open(dir.path()).expect("reopen");
        assert_eq!(again.pending().expect("pending"), vec![entry.clone()]);
        assert_eq!(again.load(&entry).expect("load"), c.to_vec());
        again.remove("lease-1").expect("remove");
        again.remove("lease-1").expect("remove twice");
        assert!(again.pending().expect("pending").is_empty());
    }

    #[test]
    fn bad_ids_lengths_and_damage_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = Outbox::open(dir.path()).expect("open");
        assert!(matches!(outbox.put("../evil", None, JOB, &[0.0; 6]), Err(OutboxError::BadLeaseId(_))));
        assert!(matches!(outbox.put("ok", None, JOB, &[0.0; 5]), Err(OutboxError::WrongLength { .. })));
        let entry = outbox.put("ok", None, JOB, &[0.0; 6]).expect("put");
        fs::write(dir.path().join("ok.f32"), [0u8; 24]).expect("overwrite");
        fs::write(dir.path().join("ok.f32"), [1u8; 24]).expect("damage");
        assert!(matches!(outbox.load(&entry), Err(OutboxError::Corrupt { .. })));
        fs::write(dir.path().join("junk.json"), b"{").expect("junk");
        assert_eq!(outbox.pending().expect("pending").len(), 1);
        assert!(dir.path().join("junk.json.corrupt").exists());
    }

    #[test]
    fn leftover_temporary_files_are_removed_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = Outbox::open(dir.path()).expect("open");
        let entry = outbox.put("kept", None, JOB, &[0.0; 6]).expect("put");
        fs::write(dir.path().join("torn.tmp"), b"half").expect("write");
        let again = Outbox::open(dir.path()).expect("reopen");
        assert!(!dir.path().join("torn.tmp").exists());
        assert_eq!(again.pending().expect("pending"), vec![entry]);
    }
}
