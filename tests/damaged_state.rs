//! Issue 12, "local state that never lies and never loses", with the real node binary,
//! real files, a real keyring and real file systems: a damaged energy history is kept
//! aside and the node runs on; a damaged wallet file is named as such (never "no wallet
//! yet") and the job kept for the network survives; re-importing rebuilds it; a full
//! disk and a read-only data folder are named as what they are, without a panic; every
//! command asks the coordinator the settings name.
//!
//! The full-disk and read-only cases mount a small tmpfs (this machine's tests run as
//! root, as CI's do) and unmount it by path when done.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use util::coordinator::Coordinator;
use util::keyring::KeyringSession;

/// The BIP-39 test vector (a throw-away key).
const PHRASE: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn node_cmd(data: &Path, keyring: Option<&KeyringSession>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idlewatt-node"));
    cmd.args(args)
        .env("IDLEWATT_DATA_DIR", data)
        .env("WGPU_BACKEND", "vulkan")
        // No demo client or local network side effects unless a test asks.
        .env_remove("IDLEWATT_COORDINATOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match keyring {
        Some(k) => {
            for (key, value) in k.envs() {
                cmd.env(key, value);
            }
        }
        // No Secret Service at all.
        None => {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
        }
    }
    cmd
}

fn node(data: &Path, keyring: Option<&KeyringSession>, args: &[&str], stdin: &str) -> Output {
    let mut child = node_cmd(data, keyring, args).spawn().expect("idlewatt-node runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("stdin");
    child.wait_with_output().expect("idlewatt-node finishes")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn import_wallet(data: &Path, keyring: &KeyringSession) {
    let out = node(data, Some(keyring), &["wallet", "import", "--json"], PHRASE);
    assert!(out.status.success(), "import: {}", text(&out));
}

fn settings(data: &Path, coordinator: &str) {
    std::fs::write(data.join("settings.json"), format!("{{\"coordinator_url\": \"{coordinator}\"}}\n")).unwrap();
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Starts `run --when always`, waits until it prints `until` (or 60 s), then stops it
/// with SIGTERM as a service manager would, and returns everything it printed.
fn run_until(data: &Path, keyring: &KeyringSession, until: &str) -> (Output, bool) {
    let mut child: Child = node_cmd(data, Some(keyring), &["run", "--when", "always", "--allow-software", "--json"])
        .spawn()
        .expect("idlewatt-node runs");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = false;
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains(until) => {
                seen = true;
                break;
            }
            Ok(_) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let mut out = child.wait_with_output().expect("node ends");
    out.stdout = reader.join().expect("reader").into_bytes();
    (out, seen)
}

/// A tmpfs mounted at a temporary folder, unmounted (by path) when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(options: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "this test mounts a small tmpfs: it needs root (CAP_SYS_ADMIN), as CI has");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Fills the file system of `dir` until the next write fails with "no space".
fn fill(dir: &Path) -> PathBuf {
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![0xa5u8; 4096];
    loop {
        match f.write_all(&block) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling the tmpfs: {e}"),
        }
    }
    let _ = f.sync_all();
    filler
}

#[test]
fn a_damaged_energy_history_is_kept_aside_and_the_node_earns_on() {
    let keyring = KeyringSession::start();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = Coordinator::start(idlewatt_coordinator::Config {
        database: dir.path().join("network.sqlite").to_string_lossy().into_owned(),
        fixed_job_dim: Some(64),
        bootstrap_budget: idlewatt_protocol::TokenAmount::tokens(1_000_000),
        ..Default::default()
    });
    let data = dir.path().join("node");
    std::fs::create_dir_all(&data).unwrap();
    import_wallet(&data, &keyring);
    settings(&data, &coordinator.url());
    std::fs::write(data.join("energy.sqlite"), b"garbage, not a database; garbage, not a database").unwrap();

    let (out, seen) = run_until(&data, &keyring, "job_done");
    let all = text(&out);
    assert!(!all.contains("panicked"), "no panic: {all}");
    assert!(seen, "the node computed and handed in a job on a fresh history: {all}");
    assert!(out.status.success(), "a clean stop after SIGTERM: {:?} {all}", out.status);
    let kept: Vec<String> = names(&data).into_iter().filter(|n| n.starts_with("energy.sqlite.damaged-")).collect();
    assert_eq!(kept.len(), 1, "the damaged history is kept aside: {:?}", names(&data));
    assert!(std::fs::read(data.join(&kept[0])).unwrap().starts_with(b"garbage"));
    let conn = rusqlite::Connection::open(data.join("energy.sqlite")).unwrap();
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert!(version >= 1, "a new history was started");
}

#[test]
fn a_damaged_wallet_file_is_named_keeps_the_network_job_and_a_reimport_rebuilds_it() {
    let keyring = KeyringSession::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    import_wallet(data, &keyring);
    // Unreachable: nothing may be computed or asked before the wallet is sorted out.
    settings(data, "http://127.0.0.1:9");
    std::fs::write(data.join("wallet.json"), b"{\"version\": 1, \"address\": \"0x9858Ef").unwrap();
    // A job kept for the network from an earlier run (its content is the node's own).
    let kept_job = b"{\"kept\": \"network job\"}";
    std::fs::write(data.join("partial-job.json"), kept_job).unwrap();

    let out = node(data, Some(&keyring), &["run", "--when", "always", "--allow-software"], "");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "refused: {all}");
    assert!(!all.contains("no wallet yet"), "a damaged wallet is not an absent one: {all}");
    assert!(all.contains("wallet.json") && all.contains("damaged") && all.contains("re-import"), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    assert_eq!(std::fs::read(data.join("partial-job.json")).unwrap(), kept_job, "the kept job is untouched");

    // `wallet create` over it is refused (the damaged file names the earning key)…
    let out = node(data, Some(&keyring), &["wallet", "create", "--json"], "");
    assert!(!out.status.success() && text(&out).contains("damaged"), "{}", text(&out));
    // …re-importing rebuilds it and keeps the damaged one aside.
    import_wallet(data, &keyring);
    let rebuilt: serde_json::Value = serde_json::from_slice(&std::fs::read(data.join("wallet.json")).unwrap()).unwrap();
    assert_eq!(rebuilt["address"], "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
    assert!(names(data).iter().any(|n| n.starts_with("wallet.json.damaged-")), "{:?}", names(data));
}

#[test]
fn a_full_disk_is_named_a_full_disk_and_nothing_is_lost() {
    let keyring = KeyringSession::start();
    let fs = Tmpfs::mount("size=1m");
    let data = fs.path();
    import_wallet(data, &keyring);
    settings(data, "http://127.0.0.1:9");
    let wallet = std::fs::read(data.join("wallet.json")).unwrap();
    let filler = fill(data);

    let out = node(data, Some(&keyring), &["run", "--when", "always", "--allow-software"], "");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("disk is full") && all.contains("free some space"), "named as a full disk: {all}");
    assert!(!all.contains("disk I/O error") && !all.contains("panicked"), "{all}");
    assert_eq!(std::fs::read(data.join("wallet.json")).unwrap(), wallet, "the wallet file is intact");

    // Space freed: the same data folder works again.
    std::fs::remove_file(filler).unwrap();
    let out = node(data, Some(&keyring), &["wallet", "address"], "");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_read_only_data_folder_is_named_read_only_without_a_panic() {
    let keyring = KeyringSession::start();
    let fs = Tmpfs::mount("size=4m");
    let data = fs.path();
    import_wallet(data, &keyring);
    settings(data, "http://127.0.0.1:9");
    fs.remount("ro");

    let out = node(data, Some(&keyring), &["run", "--when", "always", "--allow-software"], "");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("read-only"), "named as read-only: {all}");
    assert!(!all.contains("unable to open database file") && !all.contains("panicked"), "{all}");
}

#[test]
fn every_command_asks_the_coordinator_the_settings_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    std::fs::create_dir_all(&data).unwrap();
    let address = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";

    // A configured coordinator that is down: `balance` says so, and does not quietly
    // answer from a local network of its own.
    settings(&data, "http://127.0.0.1:9");
    let out = node(&data, None, &["balance", "--address", address], "");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("http://127.0.0.1:9"), "{}", text(&out));
    assert!(!data.join("network.sqlite").exists(), "no local network was started");

    // A configured coordinator that is up: its answer.
    let coordinator = Coordinator::start(idlewatt_coordinator::Config {
        database: dir.path().join("network.sqlite").to_string_lossy().into_owned(),
        ..Default::default()
    });
    settings(&data, &coordinator.url());
    let out = node(&data, None, &["balance", "--json", "--address", address], "");
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["address"].as_str().map(str::to_lowercase), Some(address.to_lowercase()));
    assert!(!data.join("network.sqlite").exists(), "no local network was started");
}
