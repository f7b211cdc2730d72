//! Small helpers for reading Linux sysfs attribute files. Every attribute is optional:
//! a missing file, a permission error or a value that does not parse is "not there",
//! never a panic, because sysfs differs between kernels, drivers and VMs.

use std::path::{Path, PathBuf};

/// The attribute's content, trimmed; `None` when it cannot be read.
pub(crate) fn read_string(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

/// The attribute as an unsigned integer.
pub(crate) fn read_u64(path: &Path) -> Option<u64> {
    read_string(path)?.parse().ok()
}

/// The attribute as a signed integer (temperatures can be negative).
pub(crate) fn read_i64(path: &Path) -> Option<i64> {
    read_string(path)?.parse().ok()
}

/// The entries of `dir` whose file name starts with `prefix`, sorted by name so scans
/// are deterministic.
pub(crate) fn entries_with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// `root` joined with an absolute sysfs path such as `/sys/class/hwmon`.
pub(crate) fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}
