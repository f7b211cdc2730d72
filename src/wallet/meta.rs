//! The wallet's public facts, kept in `wallet.json` in the data folder: the address, where
//! the key came from (phrase or raw key), the phrase's word count and whether the owner
//! has confirmed the backup. Nothing secret is ever written here. Writes are atomic (a
//! temp file in the same folder, flushed, then renamed over), so a crash leaves either the
//! old file or the new one.

use std::io::Write;
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use super::WalletError;

/// File name inside the data folder.
pub const FILE_NAME: &str = "wallet.json";

const VERSION: u32 = 1;

/// Where a wallet's key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// A BIP-39 recovery phrase (created here or imported).
    Phrase,
    /// A raw private key (no phrase exists).
    PrivateKey,
}

/// What everyone may know about the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletInfo {
    /// The account's address (the node's identity on the network).
    pub address: Address,
    /// Phrase or raw key.
    pub source: KeySource,
    /// Words in the phrase (None for a raw key).
    pub word_count: Option<usize>,
    /// The owner has proven they wrote the phrase down.
    pub backed_up: bool,
}

#[derive(Serialize, Deserialize)]
struct MetaFile {
    version: u32,
    address: String,
    source: KeySource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    word_count: Option<usize>,
    backed_up: bool,
}

/// Reads the file; `Ok(None)` when there is none.
pub(crate) fn load(path: &Path) -> Result<Option<WalletInfo>, WalletError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(WalletError::Metadata { action: "read", path: path.into(), source }),
    };
    let corrupt = |reason: String| WalletError::MetadataCorrupt { path: path.into(), reason };
    let file: MetaFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if file.version != VERSION {
        return Err(corrupt(format!("unknown version {}", file.version)));
    }
    let address = file.address.parse().map_err(|_| corrupt("the address is not valid".into()))?;
    Ok(Some(WalletInfo { address, source: file.source, word_count: file.word_count, backed_up: file.backed_up }))
}

/// Writes the file atomically.
pub(crate) fn save(path: &Path, info: &WalletInfo) -> Result<(), WalletError> {
    let file = MetaFile {
        version: VERSION,
        address: info.address.to_checksum(None),
        source: info.source,
        word_count: info.word_count,
        backed_up: info.backed_up,
    };
    let write_err = |source| WalletError::Metadata { action: "write", path: path.into(), source };
    let mut json = serde_json::to_vec_pretty(&file).map_err(|e| write_err(std::io::Error::other(e)))?;
    json.push(b'\n');
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(e));
    }
    Ok(())
}

/// Removes the file (absent is fine).
pub(crate) fn remove(path: &Path) -> Result<(), WalletError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(WalletError::Metadata { action: "write", path: path.into(), source }),
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join(FILE_NAME);
        assert_eq!(load(&path).expect("absent"), None);
        let info = WalletInfo {
            address: Address::repeat_byte(0xab),
            source: KeySource::Phrase,
            word_count: Some(12),
            backed_up: false,
        };
        save(&path, &info).expect("save");
        assert_eq!(load(&path).expect("load"), Some(info));
        assert_eq!(std::fs::read_dir(tmp.path()).expect("dir").count(), 1, "no temp file left");
        std::fs::write(&path, b"{\"version\":1").expect("damage");
        assert!(matches!(load(&path), Err(WalletError::MetadataCorrupt { .. })));
        remove(&path).expect("remove");
        remove(&path).expect("remove twice");
    }
}
