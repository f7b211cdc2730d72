//! Embeddings batches against cheating nodes, over HTTP with the real coordinator and
//! the real all-MiniLM-L6-v2 (issue 15): a job's texts are leased in length buckets
//! and come back in request order; a batch whose result is rejected (random vectors,
//! stale vectors of another batch, a mostly faked mix) goes to another node, first to
//! one of another vendor or back-end; a doubted result (a near copy, as a slightly
//! different model gives) is not a strike but is recomputed by a second node, and
//! when the two disagree a third decides and the outvoted node is struck.
//!
//! The honest nodes compute with the CPU reference (`idlewatt_models::cpu`); the
//! model folder comes from `scripts/setup`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::time::Duration;

use idlewatt_coordinator::Config;
use idlewatt_coordinator::embed::registry::ModelSpec;
use idlewatt_models::CpuModel;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::client::{ClientJob, ClientJobStatus, JobSubmission};
use idlewatt_protocol::npy;
use idlewatt_protocol::wire::{ErrorKind, JobSpec, Lease, ResultSubmission};
use reqwest::{Method, StatusCode};
use util::client::Client;
use util::{Node, error_of, start, test_config};

const MODEL: &str = "all-MiniLM-L6-v2";
const DOUBT: &str = idlewatt_protocol::verify::DOUBT_REASON;

fn config() -> Config {
    Config {
        bootstrap_budget: TokenAmount::ZERO,
        models: vec![ModelSpec { name: MODEL.into(), dir: idlewatt_models::testing::minilm_dir().unwrap() }],
        second_opinion_hold: Duration::from_secs(600),
        ..test_config()
    }
}

/// Texts of mixed lengths in an order that interleaves short and long ones.
fn texts(n: usize, salt: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            let words = ["river", "lamp", "garden", "engine", "violin", "harbour", "pepper", "glacier"];
            let tail: Vec<&str> = (0..(i * 7) % 13).map(|j| words[(i + j) % words.len()]).collect();
            format!("{salt} {i}: {}", tail.join(" "))
        })
        .collect()
}

fn sequences(lease: &Lease) -> &[Vec<u32>] {
    match &lease.job {
        JobSpec::Embeddings(b) => &b.sequences,
        other => panic!("not an embeddings batch: {other:?}"),
    }
}

fn honest(cpu: &CpuModel, lease: &Lease) -> Vec<Vec<f32>> {
    idlewatt_models::cpu::encode(cpu, sequences(lease)).unwrap()
}

fn flat(rows: &[Vec<f32>]) -> Vec<f32> {
    rows.concat()
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

fn random_rows(rows: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut p = idlewatt_coordinator::embed::verify::Picker::new(seed);
    (0..rows)
        .map(|_| unit((0..384).map(|_| (p.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5).collect()))
        .collect()
}

/// A near copy: every component moved by ±0.002 (cosine ~0.9992 to the true row),
/// what a slightly different model or a sloppy back-end gives.
fn near(rows: &[Vec<f32>]) -> Vec<Vec<f32>> {
    rows.iter()
        .map(|v| unit(v.iter().enumerate().map(|(j, x)| x + if j % 2 == 0 { 0.002 } else { -0.002 }).collect()))
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let n = |v: &[f32]| v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
    dot / (n(a) * n(b))
}

/// Leases until the coordinator has an embeddings batch for `node` (its CPU verifier
/// loads in the background after the job arrives).
async fn lease_batch(node: &Node) -> Lease {
    for _ in 0..600 {
        let r = node.try_lease().await;
        if r.status() == StatusCode::OK {
            return r.json().await.unwrap();
        }
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{}", r.text().await.unwrap());
        util::sleep_ms(200).await;
    }
    panic!("no embeddings batch within 120 s");
}

/// Submits and returns (status, error message if any).
async fn submit(node: &Node, lease: &Lease, rows: &[f32]) -> (StatusCode, String) {
    let r = node.submit(lease, &ResultSubmission::new(rows)).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, text)
}

async fn no_work(node: &Node) {
    let r = node.try_lease().await;
    let (status, body) = error_of(r).await;
    assert_eq!((status, body.error.kind), (StatusCode::SERVICE_UNAVAILABLE, ErrorKind::NoPaidWork), "{body:?}");
}

async fn submit_job(client: &Client, input: &[String]) -> ClientJob {
    let sub = JobSubmission::Embeddings {
        model: MODEL.into(),
        input: input.to_vec(),
        max_price: TokenAmount::tokens(1000),
        expires_in_s: None,
    };
    client.json(Method::POST, "/v1/jobs", serde_json::to_vec(&sub).unwrap(), StatusCode::CREATED).await
}

/// The job's result, checked against the CPU reference of each text in request order.
async fn assert_result_in_request_order(client: &Client, cpu: &CpuModel, job: &ClientJob, input: &[String]) {
    let done = client.job(&job.id).await;
    assert_eq!(done.status, ClientJobStatus::Done, "{done:?}");
    let r = client.send(Method::GET, &format!("/v1/jobs/{}/result", job.id), vec![]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let m = npy::read(&r.bytes().await.unwrap(), u64::MAX).unwrap();
    assert_eq!((m.rows, m.cols), (input.len(), 384));
    let tokenizer = idlewatt_coordinator::embed::registry::ModelRegistry::load(&config().models).unwrap();
    let ids = tokenizer.get(MODEL).unwrap().tokenizer.encode(input).unwrap();
    let want = idlewatt_models::cpu::encode(cpu, &ids).unwrap();
    for (i, w) in want.iter().enumerate() {
        let c = cosine(&m.data[i * 384..(i + 1) * 384], w);
        assert!(c >= 0.9999, "row {i} ({:?}): cosine {c}", input[i]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cheating_nodes_are_outvoted_and_batches_go_to_other_kinds_of_nodes() {
    let handle = start(config()).await;
    let base = handle.url();
    let cpu = CpuModel::load_dir(&idlewatt_models::testing::minilm_dir().unwrap()).unwrap();
    let client = Client::new(&base, 1);
    client.faucet(TokenAmount::tokens(1000)).await;
    // 100 texts: length buckets of 32, 32, 32 and 4.
    let input = texts(100, "first job");
    let job = submit_job(&client, &input).await;

    let cheat = Node::new(&handle, 1);
    let twin = Node::new(&handle, 2); // the cheat's kind of device, honest
    let nvidia = Node::new(&handle, 3);
    let amd = Node::new(&handle, 4);
    cheat.register_as("Test CPU", "vulkan").await;
    twin.register_as("test GPU 2", "vulkan").await;
    nvidia.register_as("NVIDIA GeForce RTX 4090", "vulkan").await;
    amd.register_as("AMD Radeon RX 7900", "metal").await;

    // 1. Random vectors: rejected, a strike.
    let p1 = lease_batch(&cheat).await;
    let rows = sequences(&p1).len();
    assert_eq!(rows, 34, "32 texts of the shortest bucket and 2 canaries");
    let lengths: Vec<usize> = sequences(&p1).iter().map(Vec::len).collect();
    let (status, text) = submit(&cheat, &p1, &flat(&random_rows(rows, 1))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(!text.contains(DOUBT), "random vectors are no doubt: {text}");
    // The cheat's kind of device does not get the batch back: it gets the next one.
    let p2 = lease_batch(&twin).await;
    assert_ne!(p2.job_id, p1.job_id, "held for another kind of device");
    let p2_rows = honest(&cpu, &p2);
    let (status, text) = submit(&twin, &p2, &flat(&p2_rows)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    // Another vendor gets it.
    let again = lease_batch(&nvidia).await;
    assert_eq!(again.job_id, p1.job_id);
    let (status, text) = submit(&nvidia, &again, &flat(&honest(&cpu, &again))).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    // Length buckets: every text of the first batch is no longer than any of the
    // second's (two rows of each may be canaries, hence the margins); batches in
    // request order would each hold the whole spread of lengths.
    let sorted = |mut l: Vec<usize>| {
        l.sort_unstable();
        l
    };
    let (first, next) = (sorted(lengths), sorted(sequences(&p2).iter().map(Vec::len).collect()));
    assert!(first[29] <= next[2], "{first:?} then {next:?}");

    // 2. Stale vectors of another batch (same shape): rejected; another back-end gets it.
    let p3 = lease_batch(&cheat).await;
    assert_eq!(sequences(&p3).len(), 34);
    let (status, text) = submit(&cheat, &p3, &flat(&p2_rows)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let again = lease_batch(&amd).await;
    assert_eq!(again.job_id, p3.job_id);
    let (status, text) = submit(&amd, &again, &flat(&honest(&cpu, &again))).await;
    assert_eq!(status, StatusCode::OK, "{text}");

    // 3. A near copy: doubted, not a strike (two strikes so far: the cheat still gets work).
    let p4 = lease_batch(&cheat).await;
    let truth = honest(&cpu, &p4);
    let (status, text) = submit(&cheat, &p4, &flat(&near(&truth))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains(DOUBT), "{text}");
    no_work(&cheat).await; // not refused (403): the doubt is no strike
    no_work(&twin).await; // the cheat's kind waits
    // The second opinion disagrees with the first: not paid yet, a third decides.
    let second = lease_batch(&nvidia).await;
    assert_eq!(second.job_id, p4.job_id);
    let (status, text) = submit(&nvidia, &second, &flat(&truth)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("a third node decides"), "{text}");
    let third = lease_batch(&amd).await;
    assert_eq!(third.job_id, p4.job_id);
    let (status, text) = submit(&amd, &third, &flat(&truth)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    // The outvoted cheat has its third strike: refused.
    let (status, body) = error_of(cheat.try_lease().await).await;
    assert_eq!((status, body.error.kind), (StatusCode::FORBIDDEN, ErrorKind::NodeRefused), "{body:?}");
    assert!(body.error.message.contains("outvoted"), "{}", body.error.message);

    // The client gets every vector in request order; only honest nodes were paid.
    assert_result_in_request_order(&client, &cpu, &job, &input).await;
    let earned = |b: idlewatt_protocol::wire::AccountBalance| b.pending.0 + b.verified.0;
    assert_eq!(earned(cheat.balance().await), 0);
    for n in [&twin, &nvidia, &amd] {
        assert!(earned(n.balance().await) > 0);
    }
    util::client::assert_books(&base).await;

    // 4. A mix: 4 honest rows, 15 random, 15 of another batch: rejected (it would
    // pass with probability C(4,4)/C(34,4) ≈ 2e-5), and the next node completes it.
    let input = texts(32, "second job");
    let job = submit_job(&client, &input).await;
    let mixer = Node::new(&handle, 5);
    mixer.register_as("Intel Arc A770", "dx12").await;
    let p = lease_batch(&mixer).await;
    let truth = honest(&cpu, &p);
    let random = random_rows(34, 9);
    let mix: Vec<Vec<f32>> = (0..34)
        .map(|r| match r % 9 {
            0 => truth[r].clone(),
            x if x % 2 == 0 => random[r].clone(),
            _ => p2_rows[r].clone(),
        })
        .collect();
    let (status, text) = submit(&mixer, &p, &flat(&mix)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let again = lease_batch(&twin).await;
    assert_eq!(again.job_id, p.job_id);
    let (status, text) = submit(&twin, &again, &flat(&honest(&cpu, &again))).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_result_in_request_order(&client, &cpu, &job, &input).await;
    util::client::assert_books(&base).await;
}
