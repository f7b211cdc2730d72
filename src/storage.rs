//! Names what went wrong with a file in words an owner can act on. The same two faults
//! (a full disk, a folder that cannot be written) surface as many different errors —
//! `ENOSPC` from a write, SQLite's "disk I/O error" or "database or disk is full",
//! `EROFS`, "attempt to write a readonly database", "unable to open database file" —
//! and an owner who reads "disk I/O error" does not know to free space. Every store
//! (energy history, outbox, kept job, settings, wallet metadata, withdrawal journal)
//! words its failures through [`Fault`] so each is named as what it is, with the fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of storage failure happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No space left on the disk.
    DiskFull,
    /// The file system is mounted read-only, or the folder is not writable.
    ReadOnly,
    /// The file is not ours to read or write.
    PermissionDenied,
    /// The file's contents are damaged (not what the store wrote).
    Damaged(String),
    /// Anything else, as the system said it.
    Other(String),
}

impl Fault {
    /// Classifies an I/O error.
    pub fn of_io(e: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::StorageFull | K::QuotaExceeded => Self::DiskFull,
            K::ReadOnlyFilesystem => Self::ReadOnly,
            K::PermissionDenied => Self::PermissionDenied,
            K::InvalidData | K::UnexpectedEof => Self::Damaged(e.to_string()),
            _ => Self::Other(e.to_string()),
        }
    }

    /// Classifies a SQLite error for the database file at `path` (SQLite's own codes
    /// do not tell a read-only folder from a missing one: the folder is asked).
    pub fn of_sqlite(e: &rusqlite::Error, path: &Path) -> Self {
        use rusqlite::ErrorCode as C;
        let Some(code) = e.sqlite_error_code() else {
            return Self::Other(e.to_string());
        };
        match code {
            C::DiskFull => Self::DiskFull,
            C::ReadOnly => Self::ReadOnly,
            C::NotADatabase | C::DatabaseCorrupt => Self::Damaged(e.to_string()),
            C::PermissionDenied => Self::PermissionDenied,
            C::CannotOpen | C::SystemIoFailure => Self::probe(path).unwrap_or_else(|| Self::Other(e.to_string())),
            _ => Self::Other(e.to_string()),
        }
    }

    /// Tries to create a file beside `path` to tell a full disk or a read-only folder
    /// from other I/O failures. `None` when the folder is writable after all.
    pub fn probe(path: &Path) -> Option<Self> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let probe = dir.join(format!(".idlewatt-probe-{}", std::process::id()));
        let result = std::fs::write(&probe, [0u8; 4096]);
        let _ = std::fs::remove_file(&probe);
        match result {
            Ok(()) => None,
            Err(e) => Some(Self::of_io(&e)),
        }
    }

    /// Whether the file itself is damaged (so keeping it aside and starting afresh helps).
    pub fn is_damaged(&self) -> bool {
        matches!(self, Self::Damaged(_))
    }

    /// What the owner can do about it.
    pub fn fix(&self) -> &'static str {
        match self {
            Self::DiskFull => "free some space on this disk, then start Idlewatt again",
            Self::ReadOnly => {
                "the data folder is read-only: make it writable (or set IDLEWATT_DATA_DIR to a writable folder)"
            }
            Self::PermissionDenied => "check that this user owns the data folder and its files",
            Self::Damaged(_) => "the damaged file is kept aside; Idlewatt starts that store afresh",
            Self::Other(_) => "check the disk and the data folder, then start Idlewatt again",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DiskFull => f.write_str("the disk is full"),
            Self::ReadOnly => f.write_str("the folder is read-only"),
            Self::PermissionDenied => f.write_str("permission denied"),
            Self::Damaged(why) => write!(f, "the file is damaged ({why})"),
            Self::Other(why) => f.write_str(why),
        }
    }
}

/// Moves a damaged file (and SQLite's `-wal`/`-shm` companions, if any) aside as
/// `<name>.damaged-<local time>`; returns the new path. Nothing is deleted.
pub fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let mut aside = path.with_file_name(format!("{name}.damaged-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        aside = path.with_file_name(format!("{name}.damaged-{stamp}-{n}"));
        n += 1;
    }
    std::fs::rename(path, &aside)?;
    for companion in ["-wal", "-shm"] {
        let from = path.with_file_name(format!("{name}{companion}"));
        if from.exists() {
            let mut to = aside.clone().into_os_string();
            to.push(companion);
            std::fs::rename(&from, PathBuf::from(to))?;
        }
    }
    Ok(aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds_are_named() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(Fault::of_io(&full), Fault::DiskFull);
        assert_eq!(Fault::of_io(&full).to_string(), "the disk is full");
        let ro = std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem);
        assert_eq!(Fault::of_io(&ro), Fault::ReadOnly);
        assert!(Fault::of_io(&ro).fix().contains("read-only"));
    }

    #[test]
    fn a_damaged_database_is_named_damaged_and_set_aside_with_its_companions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.sqlite");
        std::fs::write(&path, b"this is not a database, not at all, not even close").expect("write");
        let err = rusqlite::Connection::open(&path)
            .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0)))
            .expect_err("not a database");
        std::fs::write(dir.path().join("x.sqlite-wal"), b"wal").expect("write");
        let fault = Fault::of_sqlite(&err, &path);
        assert!(fault.is_damaged(), "{fault:?}");
        let aside = set_aside(&path).expect("set aside");
        assert!(!path.exists() && aside.exists());
        assert!(aside.to_string_lossy().contains("x.sqlite.damaged-"));
        let mut wal = aside.into_os_string();
        wal.push("-wal");
        assert!(PathBuf::from(wal).exists());
        assert!(!dir.path().join("x.sqlite-wal").exists());
    }
}
