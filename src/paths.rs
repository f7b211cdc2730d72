//! Where Idlewatt keeps its files: one data folder (settings, energy and job history,
//! queued results) per OS user, from the platform's convention (`~/.local/share/idlewatt`
//! on Linux, `~/Library/Application Support/org.idlewatt.Idlewatt` on macOS,
//! `%APPDATA%\Idlewatt\Idlewatt\data` on Windows). `IDLEWATT_DATA_DIR` overrides it, for
//! tests and for running several nodes on one machine. The client tool has its own folder
//! ([`DataDirs::client_from_env`], `IDLEWATT_CLIENT_DATA_DIR`). Secrets never live here:
//! they are in the OS keyring.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Environment variable that overrides the data folder.
pub const DATA_DIR_ENV: &str = "IDLEWATT_DATA_DIR";

/// Environment variable that overrides the client's data folder (`idlewatt-client`).
pub const CLIENT_DATA_DIR_ENV: &str = "IDLEWATT_CLIENT_DATA_DIR";

/// The data folder could not be found or created.
#[derive(Debug, Error)]
pub enum PathsError {
    /// The OS gave no home directory (and no override was set).
    #[error("cannot find a home folder for Idlewatt's data; set {DATA_DIR_ENV} to a writable folder")]
    NoHome,
    /// Creating the folder failed.
    #[error("cannot create the data folder {path}: {source}")]
    Create {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The folders Idlewatt writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirs {
    root: PathBuf,
}

impl DataDirs {
    /// Uses `root` as the data folder (created if missing).
    pub fn at(root: impl Into<PathBuf>) -> Result<Self, PathsError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|source| PathsError::Create { path: root.clone(), source })?;
        Ok(Self { root })
    }

    /// `IDLEWATT_DATA_DIR` if set, else the platform's per-user data folder.
    pub fn from_env() -> Result<Self, PathsError> {
        match std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => Self::at(PathBuf::from(dir)),
            None => {
                let dirs = directories::ProjectDirs::from("org", "Idlewatt", "Idlewatt").ok_or(PathsError::NoHome)?;
                Self::at(dirs.data_dir())
            }
        }
    }

    /// The data folder of `idlewatt-client`, separate from the node's so one person can
    /// be both owner and client on one computer: `IDLEWATT_CLIENT_DATA_DIR` if set, else
    /// the platform's per-user folder of "idlewatt-client" (`~/.local/share/idlewatt-client`
    /// on Linux).
    pub fn client_from_env() -> Result<Self, PathsError> {
        match std::env::var_os(CLIENT_DATA_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => Self::at(PathBuf::from(dir)),
            None => {
                let dirs =
                    directories::ProjectDirs::from("org", "Idlewatt", "idlewatt-client").ok_or(PathsError::NoHome)?;
                Self::at(dirs.data_dir())
            }
        }
    }

    /// The data folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A file or folder inside the data folder.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.root.join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_creates_the_folder() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = DataDirs::at(tmp.path().join("a/b")).expect("create");
        assert!(dirs.root().is_dir());
        assert_eq!(dirs.join("settings.json"), tmp.path().join("a/b/settings.json"));
    }
}
