//! Faults (issue 11, part 5): the coordinator's database on a disk that fills up. The
//! test mounts a small tmpfs (`size=`; the tests run as root here, and a test that
//! cannot mount fails saying so rather than skipping), runs a node against it, fills
//! the disk to the last byte, keeps working, frees the disk, restarts the coordinator
//! from the same file, and checks that every answer it gave is still true: every
//! result it called verified is credited, every lease it issued still takes its
//! result, and after the disk was freed the store works again without a restart.

#![allow(clippy::unwrap_used)]

mod util;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use idlewatt_coordinator::Config;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::wire::{Lease, ResultSubmission, SubmissionOutcome};
use reqwest::StatusCode;
use util::{Node, compute, start, test_config};

/// A size-limited tmpfs, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "this test needs to mount a small tmpfs (run as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Writes a file until the disk is full; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xa5u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    path
}

fn config(db: &Path) -> Config {
    Config { database: db.to_string_lossy().into_owned(), ..test_config() }
}

/// One lease-compute-submit round; `Ok(outcome)` only for a 200.
async fn round(node: &Node, held: &mut Vec<Lease>) -> (bool, Option<(Lease, SubmissionOutcome)>) {
    let r = node.try_lease().await;
    let mut answered_5xx = r.status().is_server_error();
    if r.status() == StatusCode::OK {
        held.push(r.json().await.unwrap());
    }
    let Some(lease) = held.first().cloned() else { return (answered_5xx, None) };
    let r = node.submit(&lease, &ResultSubmission::new(&compute(&lease.job))).await;
    answered_5xx |= r.status().is_server_error();
    if r.status() == StatusCode::OK {
        held.remove(0);
        return (answered_5xx, Some((lease, r.json().await.unwrap())));
    }
    (answered_5xx, None)
}

#[tokio::test]
async fn a_full_disk_never_turns_into_a_false_verified() {
    let disk = SmallDisk::mount("8m");
    let db = disk.path().join("network.sqlite");
    let handle = start(config(&db)).await;
    let node = Node::new(&handle, 1);
    node.register().await;
    let mut verified: Vec<(Lease, SubmissionOutcome)> = Vec::new();
    let mut held: Vec<Lease> = Vec::new();
    for _ in 0..5 {
        let (_, ok) = round(&node, &mut held).await;
        verified.extend(ok);
    }
    assert_eq!(verified.len(), 5);

    // The disk fills up; the node keeps working (bounded).
    let filler = fill(disk.path());
    let mut failures = 0;
    for _ in 0..60 {
        let (failed, ok) = round(&node, &mut held).await;
        failures += usize::from(failed);
        verified.extend(ok);
    }
    assert!(failures > 0, "the full disk caused no failure: the test did not test anything");

    // Space again: the same process works again (the failed connection was replaced).
    std::fs::remove_file(&filler).unwrap();
    let mut after = 0;
    for _ in 0..5 {
        let (_, ok) = round(&node, &mut held).await;
        after += usize::from(ok.is_some());
        verified.extend(ok);
    }
    assert!(after >= 4, "only {after} of 5 rounds worked once the disk had space again");
    util::client::stop(handle).await;

    // From the file alone: every verified answer is credited, every held lease takes
    // its result.
    let handle = start(config(&db)).await;
    let node = Node::new(&handle, 1);
    let reward_sum = verified.iter().fold(0u128, |s, (_, o)| s + o.reward.0);
    assert_eq!(
        node.balance().await.verified,
        TokenAmount(reward_sum),
        "{} results were answered verified",
        verified.len()
    );
    for lease in &held {
        let r = node.submit(lease, &ResultSubmission::new(&compute(&lease.job))).await;
        assert_eq!(r.status(), StatusCode::OK, "lease {} was issued but is gone", lease.lease_id);
    }
    println!(
        "full disk: {} results answered verified, all on disk; {failures} rounds failed while full",
        verified.len()
    );
    util::client::stop(handle).await;
}
