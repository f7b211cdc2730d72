//! The withdrawal journal: a signed withdrawal is written to the data folder (fsync'd)
//! *before* it is sent, and removed only once the coordinator has decided about it.
//!
//! Why: the coordinator makes a withdrawal idempotent by its nonce, but the nonce is
//! picked here. A `withdraw` killed after the coordinator committed, but before the
//! answer arrived, used to leave no trace on the owner's side, and running it again
//! picked a new nonce and paid a second time. With the journal, the next withdrawal
//! first re-sends the journalled one — the same bytes, the same nonce — so the
//! coordinator answers with the withdrawal it already has, and a retry is never a
//! second payment.
//!
//! The file holds the signed [`WithdrawalRequest`] (address, amount, nonce, chain and
//! the EIP-712 signature): nothing secret, and useless to anyone but the coordinator,
//! which pays only the signer's own balance to the signed address once.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use idlewatt_protocol::withdrawal::WithdrawalRequest;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The journal's file name in the data folder.
pub const FILE_NAME: &str = "withdrawal-pending.json";

/// The journal could not be read or written.
#[derive(Debug, Error)]
pub enum JournalError {
    /// Reading or writing the file failed (disk full, read-only folder…).
    #[error("cannot {action} the withdrawal journal {path}: {source}")]
    Io {
        /// "read", "write" or "remove".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What is kept: the signer's address (a replaced wallet does not inherit it) and the
/// signed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The wallet that signed it, lowercase 0x-hex.
    pub signer: String,
    /// The request exactly as it is (re-)sent.
    pub request: WithdrawalRequest,
}

/// The journal of one data folder.
#[derive(Debug, Clone)]
pub struct WithdrawalJournal {
    path: PathBuf,
}

impl WithdrawalJournal {
    /// The journal in the data folder `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self { path: dir.join(FILE_NAME) }
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pending entry, if any. A damaged file is kept aside (`.damaged`) and
    /// reported as no entry: it can only be a write torn before the request was sent
    /// (the rename is atomic), so nothing was sent from it.
    pub fn load(&self) -> Result<Option<JournalEntry>, JournalError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(JournalError::Io { action: "read", path: self.path.clone(), source }),
        };
        match serde_json::from_slice(&bytes) {
            Ok(entry) => Ok(Some(entry)),
            Err(e) => {
                let aside = self.path.with_extension("json.damaged");
                tracing::warn!(path = %self.path.display(), %e, aside = %aside.display(), "damaged withdrawal journal kept aside");
                let _ = fs::rename(&self.path, &aside);
                Ok(None)
            }
        }
    }

    /// Records `entry` durably (temp file, fsync, rename, fsync of the folder).
    pub fn save(&self, entry: &JournalEntry) -> Result<(), JournalError> {
        let io = |action, source| JournalError::Io { action, path: self.path.clone(), source };
        let bytes = serde_json::to_vec_pretty(entry).map_err(|e| io("write", std::io::Error::other(e)))?;
        let tmp = self.path.with_extension("json.tmp");
        let result = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent() {
                // Makes the rename itself durable (Unix); a no-op error elsewhere.
                let _ = fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|source| io("write", source))
    }

    /// Forgets the pending entry (the coordinator decided about it).
    pub fn clear(&self) -> Result<(), JournalError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(JournalError::Io { action: "remove", path: self.path.clone(), source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idlewatt_protocol::TokenAmount;

    fn entry(nonce: u64) -> JournalEntry {
        JournalEntry {
            signer: "0x00000000000000000000000000000000000000aa".into(),
            request: WithdrawalRequest {
                to: "0x00000000000000000000000000000000000000bB".into(),
                amount: TokenAmount(5),
                nonce,
                chain_id: 31337,
                signature: "0x00".into(),
            },
        }
    }

    #[test]
    fn saves_loads_and_clears() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let j = WithdrawalJournal::in_dir(tmp.path());
        assert_eq!(j.load().expect("load"), None);
        j.save(&entry(7)).expect("save");
        assert_eq!(j.load().expect("load"), Some(entry(7)));
        j.save(&entry(8)).expect("save");
        assert_eq!(j.load().expect("load").map(|e| e.request.nonce), Some(8));
        j.clear().expect("clear");
        assert_eq!(j.load().expect("load"), None);
        j.clear().expect("clearing twice is fine");
        let names: Vec<_> = fs::read_dir(tmp.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert!(names.is_empty(), "no temp files left: {names:?}");
    }

    #[test]
    fn a_damaged_journal_is_kept_aside() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let j = WithdrawalJournal::in_dir(tmp.path());
        fs::write(j.path(), b"{\"signer\": \"0x").expect("write");
        assert_eq!(j.load().expect("load"), None);
        assert!(tmp.path().join("withdrawal-pending.json.damaged").exists());
        assert!(!j.path().exists());
    }

    #[test]
    fn an_unwritable_folder_is_an_error_naming_the_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let j = WithdrawalJournal::in_dir(&tmp.path().join("missing/folder"));
        let err = j.save(&entry(1)).expect_err("no folder");
        assert!(err.to_string().contains("withdrawal-pending.json"), "{err}");
    }
}
