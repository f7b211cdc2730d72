//! Issue 12, "checkpoints that survive a crash", with the real node binary on lavapipe:
//! a running job is checkpointed every `IDLEWATT_CHECKPOINT_SECS` of GPU time, so
//! `kill -9` mid-job loses at most that much work; the restarted node computes again
//! within seconds and resumes the same job from its last checkpoint, not from zero.
//! Prints the restart time and the work lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

fn start(data: &Path) -> (Child, Receiver<serde_json::Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idlewatt-node"))
        .args(["run", "--when", "always", "--allow-software", "--json", "--job-size", "1024"])
        .env("IDLEWATT_DATA_DIR", data)
        .env("WGPU_BACKEND", "vulkan")
        .env("IDLEWATT_CHECKPOINT_SECS", "0.5")
        // No Secret Service: no wallet, so local benchmark jobs (no network needed).
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("idlewatt-node runs");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    (child, rx)
}

/// The next event matching `pred`, within `within`.
fn wait_for(
    rx: &Receiver<serde_json::Value>,
    within: Duration,
    what: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(v) if pred(&v) => return v,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => panic!("no {what} within {within:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the node exited while waiting for {what}"),
        }
    }
}

fn progress_of(v: &serde_json::Value, job: &str) -> Option<f64> {
    (v["event"] == "progress" && v["job_id"] == job).then(|| v["fraction"].as_f64()).flatten()
}

#[test]
fn kill_9_mid_job_loses_at_most_a_checkpoint_and_the_restart_resumes_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    let (mut first, rx) = start(data);
    let job = wait_for(&rx, Duration::from_secs(60), "a job's progress", |v| v["event"] == "progress");
    let job = job["job_id"].as_str().expect("job id").to_owned();
    // Well into the job, with a checkpoint on disk…
    let mut before = 0.0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let v = wait_for(&rx, Duration::from_secs(60), "progress", |v| progress_of(v, &job).is_some());
        before = progress_of(&v, &job).unwrap_or(0.0);
        if before >= 0.2 && data.join("partial-job.json").exists() {
            break;
        }
    }
    assert!(before >= 0.2, "the job got {before} of the way before the deadline");
    assert!(data.join("partial-job.json").exists(), "a checkpoint was written while the job ran");
    // …the node is killed without a chance to save anything.
    first.kill().expect("kill -9");
    first.wait().expect("reaped");

    let restarted = Instant::now();
    let (mut second, rx) = start(data);
    wait_for(&rx, Duration::from_secs(30), "computing again", |v| v["event"] == "state" && v["state"] == "computing");
    let computing_after = restarted.elapsed();
    let v = wait_for(&rx, Duration::from_secs(30), "the same job's progress", |v| v["event"] == "progress");
    assert_eq!(v["job_id"], job.as_str(), "the interrupted job is resumed first");
    let resumed = progress_of(&v, &job).unwrap_or(0.0);
    let lost = (before - resumed).max(0.0);
    println!(
        "kill -9 at {:.1} % of {job}: computing again {:.2} s after the restart, resumed at {:.1} % (lost {:.1} % of the job)",
        before * 100.0,
        computing_after.as_secs_f64(),
        resumed * 100.0,
        lost * 100.0
    );
    assert!(resumed > 0.0, "resumed from the checkpoint, not from zero");
    assert!(resumed + 0.15 >= before, "at most one checkpoint interval of work lost: {before} → {resumed}");
    assert!(computing_after < Duration::from_secs(30));
    let _ = Command::new("kill").args(["-TERM", &second.id().to_string()]).status();
    second.wait().expect("clean stop");
}
