//! Load benchmark: a coordinator on loopback against many concurrent simulated nodes,
//! over real HTTP with real signatures and real Freivalds verification. Nodes hold
//! precomputed answers for the few seeds the coordinator is told to use, so the figure
//! measures the coordinator (plus the nodes' signing and HTTP on the same cores).
//!
//! `cargo run -p idlewatt-coordinator --example load [-- SECONDS_PER_SIZE NODES SIZES]`
//! (defaults: 10 s, 32 nodes, sizes 256,1024).

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use idlewatt_coordinator::Config;
use idlewatt_protocol::auth::sign_request_with_key;
use idlewatt_protocol::inputs::matmul_inputs;
use idlewatt_protocol::wire::{
    HardwareSummary, JobSpec, Lease, LeaseRequest, NodeLimits, NodeRegistration, ResultSubmission,
};

const SEEDS: [u64; 3] = [11, 22, 33];

/// C = A·B on the CPU (f32, i-p-j order); only run once per seed.
fn matmul(a: &[f32], b: &[f32], d: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; d * d];
    for i in 0..d {
        for p in 0..d {
            let aip = a[i * d + p];
            let (row, brow) = (&mut c[i * d..(i + 1) * d], &b[p * d..(p + 1) * d]);
            for (x, y) in row.iter_mut().zip(brow) {
                *x += aip * y;
            }
        }
    }
    c
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

#[derive(Default)]
struct Stats {
    leases: Vec<Duration>,
    results: Vec<Duration>,
    failures: u64,
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    key: &PrivateKeySigner,
    path: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let auth = sign_request_with_key(key, "POST", path, &body).unwrap();
    let mut req = http.post(format!("{base}{path}"));
    for (k, v) in auth.to_pairs() {
        req = req.header(k, v);
    }
    req.body(body).send().await.unwrap()
}

async fn run_size(dim: u32, seconds: u64, nodes: usize) {
    let db = std::env::temp_dir().join(format!("idlewatt-load-{}-{dim}.sqlite", std::process::id()));
    let config = Config {
        database: db.display().to_string(),
        fixed_job_dim: Some(dim),
        job_seeds: Some(SEEDS.to_vec()),
        max_job_dim: dim.max(2048),
        rate_limit_per_s: 1e6,
        rate_limit_burst: 1e6,
        bootstrap_budget: idlewatt_protocol::TokenAmount::tokens(1_000_000_000),
        ..Config::default()
    };
    let handle = idlewatt_coordinator::start(config).await.unwrap();
    let base = handle.url();

    // Answers for every seed, as ready-to-send bodies.
    let answers: Arc<HashMap<u64, Vec<u8>>> = Arc::new(
        SEEDS
            .iter()
            .map(|&s| {
                let (a, b) = matmul_inputs(s, dim, dim, dim);
                let c = matmul(&a, &b, dim as usize);
                (s, serde_json::to_vec(&ResultSubmission::new(&c)).unwrap())
            })
            .collect(),
    );

    let http = reqwest::Client::builder().pool_max_idle_per_host(nodes).build().unwrap();
    let keys: Vec<PrivateKeySigner> = (0..nodes)
        .map(|i| PrivateKeySigner::from_bytes(&B256::left_padding_from(&(i as u64 + 1000).to_be_bytes())).unwrap())
        .collect();
    for key in &keys {
        let reg = NodeRegistration {
            address: key.address(),
            hardware: HardwareSummary {
                adapter: "load".into(),
                backend: "vulkan".into(),
                device_type: "cpu".into(),
                max_buffer_bytes: 1 << 32,
                benchmark_gflops: 100.0,
            },
            app_version: "load".into(),
        };
        assert!(post(&http, &base, key, "/v1/nodes", serde_json::to_vec(&reg).unwrap()).await.status().is_success());
    }
    let lease_body =
        serde_json::to_vec(&LeaseRequest { limits: NodeLimits { max_dim: 65536, max_buffer_bytes: 1 << 32 } }).unwrap();

    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for key in keys {
        let (http, base, answers, lease_body) = (http.clone(), base.clone(), answers.clone(), lease_body.clone());
        tasks.push(tokio::spawn(async move {
            let mut st = Stats::default();
            // Bounded: stops at the deadline or after 100k rounds, whichever is first.
            for _ in 0..100_000 {
                if Instant::now() >= until {
                    break;
                }
                let t = Instant::now();
                let r = post(&http, &base, &key, "/v1/leases", lease_body.clone()).await;
                if !r.status().is_success() {
                    st.failures += 1;
                    continue;
                }
                let lease: Lease = r.json().await.unwrap();
                st.leases.push(t.elapsed());
                let JobSpec::Matmul { seed, .. } = lease.job else {
                    st.failures += 1;
                    continue;
                };
                let body = answers[&seed].clone();
                let t = Instant::now();
                let r = post(&http, &base, &key, &format!("/v1/leases/{}/result", lease.lease_id), body).await;
                if r.status().is_success() {
                    st.results.push(t.elapsed());
                } else {
                    st.failures += 1;
                }
            }
            st
        }));
    }
    let mut all = Stats::default();
    for t in tasks {
        let st = t.await.unwrap();
        all.leases.extend(st.leases);
        all.results.extend(st.results);
        all.failures += st.failures;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.leases.sort_unstable();
    all.results.sort_unstable();
    println!(
        "| {dim}² | {nodes} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} |",
        all.leases.len() as f64 / elapsed,
        all.results.len() as f64 / elapsed,
        pct(&all.leases, 0.5),
        pct(&all.leases, 0.99),
        pct(&all.results, 0.5),
        pct(&all.results, 0.99),
        all.results.len(),
        all.failures,
    );
    handle.shutdown().await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let nodes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(32);
    let sizes: Vec<u32> =
        args.next().map_or_else(|| vec![256, 1024], |s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "coordinator load: {seconds} s per size, {nodes} concurrent nodes, {cores} cores shared by coordinator and nodes"
    );
    println!(
        "SQLite file (WAL), {} Freivalds rounds, every request signed and verified\n",
        Config::default().verify_rounds
    );
    println!(
        "| job | nodes | leases/s | verified results/s | lease p50 ms | lease p99 ms | result p50 ms | result p99 ms | results | failures |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for dim in sizes {
        run_size(dim, seconds, nodes).await;
    }
}
