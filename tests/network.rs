//! The node's network side against a real coordinator in-process on 127.0.0.1:0, over
//! real HTTP with real signatures: lease → compute (on the GPU) → submit → credited;
//! tampered results rejected; results kept in the on-disk outbox across a coordinator
//! outage and a node crash, then submitted exactly once; clear errors for bad URLs;
//! the `balance` command.
//!
//! `NetworkJobs` blocks on its own runtime (it is called from the node's worker
//! thread), so these are plain tests and the coordinator runs on a runtime of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::path::Path;
use std::sync::Arc;
use util::coordinator::Coordinator;

use alloy::signers::local::PrivateKeySigner;
use idlewatt::compute::{CancelToken, reference};
use idlewatt::network::{ClientError, NetworkJobs, NetworkJobsError, RequestSigner, RetryPolicy};
use idlewatt::node::{Job, JobSource, JobSourceError};
use idlewatt::paths::DataDirs;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::wire::{HardwareSummary, JobState, NodeLimits};

/// A coordinator serving 64³ jobs from the database file `database`.
fn start_coordinator(database: &Path) -> Coordinator {
    Coordinator::start(idlewatt_coordinator::Config {
        database: database.to_string_lossy().into_owned(),
        fixed_job_dim: Some(64),
        bootstrap_budget: idlewatt_protocol::TokenAmount::tokens(1_000_000_000),
        ..Default::default()
    })
}

fn hardware() -> HardwareSummary {
    HardwareSummary {
        adapter: "test adapter".into(),
        backend: "vulkan".into(),
        device_type: "cpu".into(),
        max_buffer_bytes: 1 << 28,
        benchmark_gflops: 1.0,
        precisions: vec![idlewatt_protocol::Precision::F32],
    }
}

const LIMITS: NodeLimits = NodeLimits { max_dim: 1024, max_buffer_bytes: 1 << 28 };

fn node(url: &str, key: &Arc<PrivateKeySigner>, data: &DataDirs) -> NetworkJobs {
    let signer: Arc<dyn RequestSigner> = key.clone();
    NetworkJobs::new(url, signer, data, hardware(), LIMITS)
        .unwrap()
        .with_retry(RetryPolicy { attempts: 2, ..RetryPolicy::once() })
}

fn cpu(job: &Job) -> Vec<f32> {
    let (a, b) = job.inputs().unwrap();
    reference::matmul(&a, &b, job.dims.m as usize, job.dims.n as usize, job.dims.k as usize)
}

/// The reward of `job`'s lease, from the account's history.
fn reward_of(jobs: &NetworkJobs, job: &Job) -> TokenAmount {
    let b = jobs.balance().unwrap();
    b.recent_jobs.iter().find(|r| r.lease_id == job.id).expect("the lease is in the history").reward
}

fn outbox_files(data: &DataDirs) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_node_leases_computes_on_the_gpu_submits_and_is_credited() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = start_coordinator(&dir.path().join("network.sqlite"));
    let data = DataDirs::at(dir.path().join("node")).unwrap();
    let key = Arc::new(PrivateKeySigner::random());
    let mut jobs = node(&coordinator.url(), &key, &data);

    let job = jobs.next_job().unwrap();
    assert_eq!((job.dims.m, job.dims.n, job.dims.k), (64, 64, 64));
    let reward = reward_of(&jobs, &job);
    assert_eq!(reward, TokenAmount::for_flops(2 * 64u128.pow(3), TokenAmount::tokens(1)).unwrap());
    assert_eq!(jobs.balance().unwrap().pending, reward);

    let engine = util::engine();
    let (a, b) = job.inputs().unwrap();
    let c = engine.matmul(&a, &b, job.dims, &CancelToken::new(), &mut |_| {}).unwrap();
    jobs.submit(&job, c).unwrap();

    let after = jobs.balance().unwrap();
    assert_eq!((after.verified, after.withdrawable, after.pending), (reward, reward, TokenAmount::ZERO));
    assert_eq!(after.recent_jobs[0].state, JobState::Verified);
    assert!(outbox_files(&data).is_empty(), "{:?}", outbox_files(&data));
}

#[test]
fn a_tampered_result_is_rejected_and_not_credited() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = start_coordinator(&dir.path().join("network.sqlite"));
    let data = DataDirs::at(dir.path().join("node")).unwrap();
    let key = Arc::new(PrivateKeySigner::random());
    let mut jobs = node(&coordinator.url(), &key, &data);

    let job = jobs.next_job().unwrap();
    let mut c = cpu(&job);
    let max = c.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    c[100] += 0.01 * max;
    match jobs.submit(&job, c) {
        Err(JobSourceError::Rejected(why)) => assert!(why.contains("ResultRejected"), "{why}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    let b = jobs.balance().unwrap();
    assert_eq!((b.verified, b.withdrawable), (TokenAmount::ZERO, TokenAmount::ZERO));
    assert_eq!(b.recent_jobs[0].state, JobState::Rejected);
    // Rejected is final: nothing is left to resubmit.
    assert!(outbox_files(&data).is_empty());
}

#[test]
fn a_result_finished_while_the_coordinator_is_down_is_submitted_once_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("network.sqlite");
    let mut coordinator = start_coordinator(&database);
    let data = DataDirs::at(dir.path().join("node")).unwrap();
    let key = Arc::new(PrivateKeySigner::random());
    let mut jobs = node(&coordinator.url(), &key, &data);

    let job = jobs.next_job().unwrap();
    let reward = reward_of(&jobs, &job);
    let c = cpu(&job);
    coordinator.stop();
    match jobs.submit(&job, c.clone()) {
        Err(JobSourceError::Unreachable(why)) => assert!(why.contains("cannot reach the coordinator"), "{why}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert_eq!(outbox_files(&data), vec![format!("{}.f32", job.id), format!("{}.json", job.id)]);
    // Still down: asking for work fails the same way and keeps the queue.
    assert!(matches!(jobs.next_job(), Err(JobSourceError::Unreachable(_))));
    assert_eq!(outbox_files(&data).len(), 2);
    drop(jobs);

    // Back, on the same database, at a new port.
    let coordinator = start_coordinator(&database);
    let mut jobs = node(&coordinator.url(), &key, &data);
    let report = jobs.flush_outbox().unwrap();
    assert_eq!((report.verified, report.rejected, report.remaining), (1, 0, 0));
    assert!(outbox_files(&data).is_empty());
    let b = jobs.balance().unwrap();
    assert_eq!(b.verified, reward);

    // Sending the same result again (say the acknowledgement was lost) is answered
    // the same way and does not credit it twice.
    jobs.enqueue(&job, &c).unwrap();
    assert_eq!(jobs.flush_outbox().unwrap().verified, 1);
    jobs.submit(&job, c).unwrap();
    assert_eq!(jobs.balance().unwrap().verified, reward);
    assert_eq!(jobs.balance().unwrap().recent_jobs.len(), 1);
}

#[test]
fn a_result_queued_before_a_crash_is_submitted_once_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = start_coordinator(&dir.path().join("network.sqlite"));
    let data = DataDirs::at(dir.path().join("node")).unwrap();
    let key = Arc::new(PrivateKeySigner::random());

    let mut first = node(&coordinator.url(), &key, &data);
    let job = first.next_job().unwrap();
    let reward = reward_of(&first, &job);
    // What `submit` does before its first attempt; then the process dies.
    first.enqueue(&job, &cpu(&job)).unwrap();
    drop(first);
    assert_eq!(outbox_files(&data).len(), 2);

    // The next run sends the queue before it leases anything.
    let mut second = node(&coordinator.url(), &key, &data);
    let next = second.next_job().unwrap();
    assert_ne!(next.id, job.id);
    assert!(outbox_files(&data).is_empty());
    let b = second.balance().unwrap();
    assert_eq!(b.verified, reward);
    let states: Vec<_> = b.recent_jobs.iter().map(|r| (r.lease_id.clone(), r.state)).collect();
    assert!(states.contains(&(job.id.clone(), JobState::Verified)), "{states:?}");
    assert!(states.contains(&(next.id.clone(), JobState::Leased)), "{states:?}");
    // A third run finds nothing to send and credits nothing more.
    let mut third = node(&coordinator.url(), &key, &data);
    assert_eq!(third.flush_outbox().unwrap().verified, 0);
    assert_eq!(third.balance().unwrap().verified, reward);
}

/// Issue 12 (local state that never loses): a crash (or a bad sector) leaves the
/// outbox entry's description truncated while its values are intact. The next run
/// rebuilds the entry from the values and the coordinator's lease, submits it, and is
/// credited exactly once; the damaged description is kept aside.
#[test]
fn a_truncated_outbox_entry_is_repaired_from_its_values_and_credited_once() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = start_coordinator(&dir.path().join("network.sqlite"));
    let data = DataDirs::at(dir.path().join("node")).unwrap();
    let key = Arc::new(PrivateKeySigner::random());

    let mut first = node(&coordinator.url(), &key, &data);
    let job = first.next_job().unwrap();
    let reward = reward_of(&first, &job);
    first.enqueue(&job, &cpu(&job)).unwrap();
    drop(first);
    let json = data.join("outbox").join(format!("{}.json", job.id));
    let text = std::fs::read(&json).unwrap();
    std::fs::write(&json, &text[..text.len() / 2]).unwrap();

    let mut second = node(&coordinator.url(), &key, &data);
    let next = second.next_job().unwrap();
    assert_ne!(next.id, job.id);
    let report = second.flush_outbox().unwrap();
    assert_eq!(report.verified, 1, "the repaired result was submitted: {report:?}");
    let b = second.balance().unwrap();
    assert_eq!(b.verified, reward, "credited once, for the repaired result");
    let state = b.recent_jobs.iter().find(|r| r.lease_id == job.id).map(|r| r.state);
    assert_eq!(state, Some(JobState::Verified));
    let names = outbox_files(&data);
    assert_eq!(names, vec![format!("{}.json.corrupt", job.id)], "only the damaged description is kept aside");
    // Nothing is paid twice.
    let mut third = node(&coordinator.url(), &key, &data);
    assert_eq!(third.flush_outbox().unwrap().verified, 0);
    assert_eq!(third.balance().unwrap().verified, reward);
}

/// Issue 12 (leases that survive a crash): each run takes a lease and dies without a
/// result. Without releasing leftovers, the fifth run would find the node's four lease
/// slots full until the deadlines (ten minutes); each new run releases what the dead
/// ones held, so every run gets work at once.
#[test]
fn crashed_runs_leases_are_released_by_the_next_run_so_it_never_starves() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = start_coordinator(&dir.path().join("network.sqlite"));
    let data = DataDirs::at(dir.path().join("node")).unwrap();
    let key = Arc::new(PrivateKeySigner::random());
    let mut taken = Vec::new();
    for run in 0..6 {
        let mut jobs = node(&coordinator.url(), &key, &data);
        let job = jobs.next_job().unwrap_or_else(|e| panic!("run {run} got no work: {e}"));
        taken.push(job.id);
        drop(jobs); // killed mid-job: no result, no release of its own
    }
    let b = node(&coordinator.url(), &key, &data).balance().unwrap();
    let state = |id: &str| b.recent_jobs.iter().find(|r| r.lease_id == id).map(|r| r.state);
    for id in &taken[..5] {
        assert_eq!(state(id), Some(JobState::Expired), "a dead run's lease {id} was not released");
    }
    assert_eq!(state(&taken[5]), Some(JobState::Leased));
}

#[test]
fn bad_and_wrong_coordinator_urls_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDirs::at(dir.path()).unwrap();
    let key: Arc<dyn RequestSigner> = Arc::new(PrivateKeySigner::random());
    for (url, says) in [
        ("not a url", "relative URL"),
        ("localhost:8080", "unsupported scheme"),
        ("ftp://example.org", "unsupported scheme"),
        ("https://example.org", "https is not supported"),
        ("http://h/?x=1", "no query"),
    ] {
        match NetworkJobs::new(url, key.clone(), &data, hardware(), LIMITS) {
            Err(NetworkJobsError::Client(e @ ClientError::InvalidUrl { .. })) => {
                let msg = e.to_string();
                assert!(msg.contains("bad coordinator URL") && msg.contains(says), "{url}: {msg}");
            }
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }
    // Nothing listening: unreachable, with the cause.
    let mut jobs = NetworkJobs::new("http://127.0.0.1:1", key.clone(), &data, hardware(), LIMITS)
        .unwrap()
        .with_retry(RetryPolicy::once());
    match jobs.next_job() {
        Err(JobSourceError::Unreachable(why)) => assert!(why.contains("Connection refused"), "{why}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    // A URL that reaches no coordinator API (a coordinator under a wrong prefix): a
    // retryable error with the server's answer.
    let coordinator = start_coordinator(&dir.path().join("network.sqlite"));
    let mut jobs = NetworkJobs::new(&format!("{}/nope", coordinator.url()), key, &data, hardware(), LIMITS)
        .unwrap()
        .with_retry(RetryPolicy::once());
    match jobs.next_job() {
        Err(JobSourceError::Unreachable(why)) => {
            assert!(why.contains("404") && why.contains("no such endpoint"), "{why}")
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[test]
fn balance_command_prints_verified_pending_and_recent_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = start_coordinator(&dir.path().join("network.sqlite"));
    let data = DataDirs::at(dir.path().join("node")).unwrap();
    let key = Arc::new(PrivateKeySigner::random());
    let mut jobs = node(&coordinator.url(), &key, &data);
    let job = jobs.next_job().unwrap();
    jobs.submit(&job, cpu(&job)).unwrap();
    let address = jobs.client().address().unwrap().to_string();

    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_idlewatt-node"))
            .args(args)
            .env("IDLEWATT_DATA_DIR", dir.path().join("cli"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // 2·64³ FLOPs at 1 token per TFLOP = 0.000000524288 tokens.
    // The balances are public; the job history only to the account's owner (a signed
    // GET), and this CLI has not the account's wallet.
    let text = run(&["balance", "--address", &address, "--coordinator", &coordinator.url()]);
    assert!(text.contains("verified      0.000000524288 tokens"), "{text}");
    assert!(!text.contains(&job.id) && text.contains("owner only"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&run(&["balance", "--json", "--address", &address, "--coordinator", &coordinator.url()]))
            .unwrap();
    assert_eq!(json["verified"], "524288000000");
    assert_eq!(json["recent_jobs"].as_array().map(Vec::len), Some(0));
    // The owner sees it.
    assert_eq!(jobs.balance().unwrap().recent_jobs[0].lease_id, job.id);

    // No coordinator given: the embedded local network in the data folder.
    let json: serde_json::Value = serde_json::from_str(&run(&["balance", "--json", "--address", &address])).unwrap();
    assert_eq!(json["verified"], "0");
    assert!(dir.path().join("cli").join("network.sqlite").exists());
}
