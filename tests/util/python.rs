//! A Python virtual environment with numpy and the official `openai` package, for
//! tests that check results the way clients do. Created once with `python3 -m venv` +
//! `pip install` under `~/.cache/idlewatt-py/client` (`IDLEWATT_PY_CACHE` overrides the
//! folder) and reused while it imports both packages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The venv's python, created (or repaired) if needed. Panics with the pip log if it
/// cannot be set up (the machine needs `python3-venv` and access to PyPI).
pub fn python() -> PathBuf {
    let dir = std::env::var_os("IDLEWATT_PY_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/idlewatt-py/client")
    });
    let python = dir.join("bin/python");
    if ready(&python) {
        return python;
    }
    // One creator at a time (tests run in parallel): a lock directory next to the venv.
    let lock = dir.with_extension("lock");
    std::fs::create_dir_all(dir.parent().expect("a parent folder")).expect("cache folder");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    while std::fs::create_dir(&lock).is_err() {
        assert!(std::time::Instant::now() < deadline, "{} held for 10 minutes", lock.display());
        std::thread::sleep(std::time::Duration::from_millis(500));
        if ready(&python) {
            return python;
        }
    }
    if !python.exists() {
        run_ok(Command::new("python3").args(["-m", "venv"]).arg(&dir), "python3 -m venv (apt install python3-venv)");
    }
    run_ok(
        Command::new(dir.join("bin/pip")).args(["install", "--quiet", "numpy", "openai"]),
        "pip install numpy openai",
    );
    let _ = std::fs::remove_dir(&lock);
    assert!(ready(&python), "the venv at {} does not import numpy and openai", dir.display());
    python
}

fn ready(python: &Path) -> bool {
    python.exists()
        && Command::new(python).args(["-c", "import numpy, openai"]).output().is_ok_and(|o| o.status.success())
}

fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `script` with the venv's python and `args`.
pub fn run(script: &str, args: &[&str]) -> Output {
    Command::new(python()).arg("-c").arg(script).args(args).output().expect("python runs")
}
