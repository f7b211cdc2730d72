//! A client's matmul computed by a real node (issue 14): a client funds itself from the
//! devnet faucet, uploads A and B as `.npy` blobs and pays for C = A·B; the node's
//! `NetworkJobs` leases blocks of rows, downloads the blobs (checked, cached), the
//! engine computes each block on the GPU (lavapipe here), and the client downloads C
//! and compares it with A·B. The books balance afterwards, and with the job done the
//! node hears "no paid work right now".

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use idlewatt::compute::CancelToken;
use idlewatt::network::{NetworkJobs, RequestSigner, RetryPolicy};
use idlewatt::node::events::EventKind;
use idlewatt::node::{JobSource, JobSourceError, SourceWatch};
use idlewatt::paths::DataDirs;
use idlewatt_protocol::auth::sign_request_with_key;
use idlewatt_protocol::client::{ClientJob, ClientJobStatus, JobSubmission};
use idlewatt_protocol::wire::{HardwareSummary, NetworkStatus, NodeLimits, WorkOrigin};
use idlewatt_protocol::{Precision, TokenAmount, npy};
use util::coordinator::Coordinator;

/// A signed request of the client `key`.
fn send(
    rt: &tokio::runtime::Runtime,
    key: &PrivateKeySigner,
    base: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    rt.block_on(async {
        let auth = sign_request_with_key(key, method, path, &body).unwrap();
        let mut req = reqwest::Client::new().request(method.parse().unwrap(), format!("{base}{path}"));
        for (k, v) in auth.to_pairs() {
            req = req.header(k, v);
        }
        let r = req.body(body).send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    })
}

/// Uploads A and B (`.npy` files) as the client's blobs and submits C = A·B; the job.
fn submit_matmul(
    rt: &tokio::runtime::Runtime,
    client: &PrivateKeySigner,
    base: &str,
    files: [Vec<u8>; 2],
    precision: Precision,
) -> ClientJob {
    let mut shas = Vec::new();
    for file in files {
        let sha = idlewatt_protocol::auth::body_sha256(&file);
        let (code, body) = send(rt, client, base, "PUT", &format!("/v1/blobs/{sha}"), file);
        assert_eq!(code, 201, "{}", String::from_utf8_lossy(&body));
        shas.push(sha);
    }
    let sub = JobSubmission::Matmul {
        a_sha256: shas[0].clone(),
        b_sha256: shas[1].clone(),
        precision,
        max_price: TokenAmount::tokens(1),
        expires_in_s: None,
    };
    let (code, body) = send(rt, client, base, "POST", "/v1/jobs", serde_json::to_vec(&sub).unwrap());
    assert_eq!(code, 201, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn a_node_computes_a_clients_matmul_on_the_gpu_and_the_client_gets_c() {
    let coordinator = Coordinator::start(idlewatt_coordinator::Config {
        fixed_job_dim: Some(48),
        rate_limit_per_s: 1000.0,
        rate_limit_burst: 1000.0,
        ..Default::default()
    });
    let base = coordinator.url();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = PrivateKeySigner::random();

    let (code, _) = send(&rt, &client, &base, "POST", "/v1/faucet", b"{}".to_vec());
    assert_eq!(code, 200);
    let (m, n, k) = (100usize, 30usize, 40usize);
    let (a, b) = idlewatt_protocol::inputs::matmul_inputs(11, m as u32, n as u32, k as u32);
    let job = submit_matmul(&rt, &client, &base, [npy::write_f32(m, k, &a), npy::write_f32(k, n, &b)], Precision::F32);

    let dir = tempfile::tempdir().unwrap();
    let data = DataDirs::at(dir.path().join("node")).unwrap();
    let signer: Arc<dyn RequestSigner> = Arc::new(PrivateKeySigner::random());
    let hardware = HardwareSummary {
        adapter: "test".into(),
        backend: "vulkan".into(),
        device_type: "cpu".into(),
        max_buffer_bytes: 1 << 28,
        benchmark_gflops: 1.0,
        precisions: vec![idlewatt_protocol::Precision::F32],
    };
    let limits = NodeLimits { max_dim: 1024, max_buffer_bytes: 1 << 28 };
    let mut jobs = NetworkJobs::new(&base, signer, &data, hardware, limits)
        .unwrap()
        .with_retry(RetryPolicy { attempts: 2, ..RetryPolicy::once() });
    let engine = util::engine();
    let mut blocks = Vec::new();
    loop {
        match jobs.next_job() {
            Ok(j) => {
                assert!(j.client.is_some(), "client work, not calibration");
                let (ja, jb) = j.inputs().unwrap();
                let c = engine.matmul(&ja, &jb, j.dims, &CancelToken::new(), &mut |_| {}).unwrap();
                blocks.push(j.dims.m);
                jobs.submit(&j, c).unwrap();
            }
            Err(JobSourceError::NoWork) => break,
            Err(e) => panic!("{e}"),
        }
    }
    // 100 rows in blocks of 48: 48 + 52 (a 4-row sliver is taken along).
    assert_eq!(blocks, vec![48, 52]);
    // Both blobs were downloaded once and cached.
    assert_eq!(std::fs::read_dir(data.join("blobs")).unwrap().count(), 2);
    let earned = jobs.balance().unwrap();
    assert!(earned.withdrawable > TokenAmount::ZERO);
    assert!(earned.recent_jobs.iter().all(|r| r.job.origin() == WorkOrigin::Client));

    let (code, body) = send(&rt, &client, &base, "GET", &format!("/v1/jobs/{}", job.id), vec![]);
    assert_eq!(code, 200);
    let done: ClientJob = serde_json::from_slice(&body).unwrap();
    assert_eq!((done.status, done.cost_so_far), (ClientJobStatus::Done, job.price));
    let (code, body) = send(&rt, &client, &base, "GET", &format!("/v1/jobs/{}/result", job.id), vec![]);
    assert_eq!(code, 200);
    let c = npy::read(&body, u64::MAX).unwrap();
    assert_eq!((c.rows, c.cols), (m, n));
    let want = idlewatt::compute::reference::matmul(&a, &b, m, n, k);
    let worst = c.data.iter().zip(&want).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "max |C − A·B| = {worst}");

    let net: NetworkStatus =
        rt.block_on(async { reqwest::get(format!("{base}/v1/network")).await.unwrap().json().await.unwrap() });
    let books = net.books.unwrap();
    assert!(books.balanced, "{books:?}");
    assert_eq!(books.node_balances.0 + books.fees.0, job.price.0);
    assert_eq!(net.paid_jobs_waiting, 0);
}

/// The node's registration follows its kernel tuning: a node started before it ever
/// tuned registers f32 only and is not given f16 work; once the engine has tuned on
/// this GPU (lavapipe has `SHADER_F16`) and cached it in the data folder, its next lease
/// registers again with f16, gets the f16 part and computes it on the GPU, verified.
#[test]
fn a_node_gets_f16_work_once_its_tuning_found_an_f16_path() {
    let coordinator = Coordinator::start(idlewatt_coordinator::Config {
        fixed_job_dim: Some(48),
        rate_limit_per_s: 1000.0,
        rate_limit_burst: 1000.0,
        bootstrap_budget: TokenAmount::ZERO,
        ..Default::default()
    });
    let base = coordinator.url();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = PrivateKeySigner::random();
    let (code, _) = send(&rt, &client, &base, "POST", "/v1/faucet", b"{}".to_vec());
    assert_eq!(code, 200);
    let (m, n, k) = (40usize, 24usize, 32usize);
    let (a, b) = idlewatt_protocol::inputs::matmul_inputs_f16(3, m as u32, n as u32, k as u32);
    let job = submit_matmul(&rt, &client, &base, [npy::write_f16(m, k, &a), npy::write_f16(k, n, &b)], Precision::F16);

    let dir = tempfile::tempdir().unwrap();
    let data = DataDirs::at(dir.path().join("node")).unwrap();
    let signer: Arc<dyn RequestSigner> = Arc::new(PrivateKeySigner::random());
    // What `jobs_for_wallet` registers before any tuning: f32 only.
    let hardware = idlewatt::network::hardware_summary(&data);
    assert_eq!(hardware.precisions, vec![Precision::F32]);
    let limits = NodeLimits { max_dim: 1024, max_buffer_bytes: 1 << 28 };
    let mut jobs = NetworkJobs::new(&base, signer, &data, hardware, limits)
        .unwrap()
        .with_retry(RetryPolicy { attempts: 2, ..RetryPolicy::once() });
    assert!(matches!(jobs.next_job(), Err(JobSourceError::NoWork)), "an f32-only node got f16 work");

    // The first compute session tunes (as the worker does) and caches the tuning.
    let engine = util::engine();
    let cache = data.join(idlewatt::compute::tuning::TUNING_FILE);
    let (tuning, fresh) = engine.tuned(&cache, idlewatt::compute::tuning::DEFAULT_BUDGET, false).unwrap();
    assert!(fresh);
    assert!(tuning.precisions().contains(&Precision::F16), "lavapipe has SHADER_F16: {:?}", tuning.precisions());

    // The same node's next lease (after the wait "no paid work" asked for) registers
    // again with f16 and gets the f16 part.
    let started = std::time::Instant::now();
    let j = loop {
        match jobs.next_job() {
            Ok(j) => break j,
            Err(JobSourceError::NoWork) if started.elapsed() < std::time::Duration::from_secs(60) => {
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            Err(e) => panic!("no f16 work after tuning: {e}"),
        }
    };
    assert!(j.client.is_some());
    let (ja, jb) = j.inputs().unwrap();
    let c = engine.matmul(&ja, &jb, j.dims, &CancelToken::new(), &mut |_| {}).unwrap();
    jobs.submit(&j, c).unwrap();
    let (code, body) = send(&rt, &client, &base, "GET", &format!("/v1/jobs/{}", job.id), vec![]);
    assert_eq!(code, 200);
    let done: ClientJob = serde_json::from_slice(&body).unwrap();
    assert_eq!(done.status, ClientJobStatus::Done);
}

/// Issue 15 item 3: a node that leases an embeddings batch downloads the model first,
/// says so in `download_progress` events ("downloading model, 41 of 87 MB"), and stops
/// when the owner comes back (the node's cancel token): the lease it cannot start is
/// given back at once, so another node gets the batch right away (not after the lease's
/// deadline), downloads the model with progress, verified, within the owner's model
/// storage limit, and the owner can delete it again.
#[test]
fn an_embeddings_lease_downloads_its_model_with_progress_and_the_owners_return_stops_it() {
    let model_dir = idlewatt_models::testing::minilm_dir().unwrap_or_else(|e| panic!("{e}"));
    let coordinator = Coordinator::start(idlewatt_coordinator::Config {
        rate_limit_per_s: 1000.0,
        rate_limit_burst: 1000.0,
        models: vec![idlewatt_coordinator::embed::registry::ModelSpec {
            name: "all-MiniLM-L6-v2".into(),
            dir: model_dir,
        }],
        // Nodes on probation never get a part another node gave back; these two are
        // past it, so the second may take the batch the first released.
        limits: idlewatt_coordinator::Limits { probation_results: 0, ..Default::default() },
        ..Default::default()
    });
    let base = coordinator.url();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = PrivateKeySigner::random();
    let (code, _) = send(&rt, &client, &base, "POST", "/v1/faucet", b"{}".to_vec());
    assert_eq!(code, 200);
    let sub = JobSubmission::Embeddings {
        model: "all-MiniLM-L6-v2".into(),
        input: vec!["The owner is away; the GPU is not.".into()],
        max_price: TokenAmount::tokens(1000),
        expires_in_s: None,
    };
    let (code, body) = send(&rt, &client, &base, "POST", "/v1/jobs", serde_json::to_vec(&sub).unwrap());
    assert_eq!(code, 201, "{}", String::from_utf8_lossy(&body));

    let dir = tempfile::tempdir().unwrap();
    let quota = 500_000_000;
    let node = |name: &str| {
        let data = DataDirs::at(dir.path().join(name)).unwrap();
        let signer: Arc<dyn RequestSigner> = Arc::new(PrivateKeySigner::random());
        let hardware = idlewatt::network::hardware_summary(&data);
        let limits = NodeLimits { max_dim: 1024, max_buffer_bytes: 1 << 28 };
        let mut jobs = NetworkJobs::new(&base, signer, &data, hardware, limits)
            .unwrap()
            .with_retry(RetryPolicy { attempts: 2, ..RetryPolicy::once() })
            .with_model_quota(quota);
        let (events, rx) = tokio::sync::broadcast::channel(4096);
        let cancel = CancelToken::new();
        jobs.watch(SourceWatch { events, cancel: cancel.clone() });
        (jobs, rx, cancel, idlewatt::model_cache::ModelCache::in_data(&data, quota))
    };
    // The batch is cut once the coordinator has tokenized the texts: ask until it is there.
    let next = |jobs: &mut NetworkJobs| {
        let started = std::time::Instant::now();
        loop {
            match jobs.next_job() {
                Err(JobSourceError::NoWork) if started.elapsed() < std::time::Duration::from_secs(120) => {
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
                other => return other,
            }
        }
    };

    // The owner of the first node is back before its download could finish: stopped,
    // nothing complete, and no lease left open.
    let (mut a, _, a_cancel, a_cache) = node("a");
    a_cancel.cancel();
    let stopped = next(&mut a);
    assert!(matches!(stopped, Err(JobSourceError::Interrupted)), "{stopped:?}");
    assert!(a_cache.list().iter().all(|m| !m.complete), "{:?}", a_cache.list());
    let held = rt.block_on(a.client().open_leases()).unwrap();
    assert!(held.is_empty(), "the stopped node still holds {held:?}");

    // The second node gets the batch at once (the first lease was given back), the
    // model downloads with progress, and the job is the embeddings batch.
    let (mut b, mut rx, _b_cancel, cache) = node("b");
    let job = next(&mut b).expect("the released batch");
    let work = job.embed.as_ref().expect("an embeddings batch");
    assert!(work.model_dir.join("model.safetensors").is_file());
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let EventKind::DownloadProgress { model, done_bytes, total_bytes } = e.kind {
            assert_eq!(model, "all-MiniLM-L6-v2");
            seen.push((done_bytes, total_bytes));
        }
    }
    let (done, total) = *seen.last().expect("download_progress events");
    assert_eq!(done, total, "the last event says the download is complete: {seen:?}");
    assert!(total > 80_000_000, "all-MiniLM-L6-v2 is about 87 MB: {total}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "progress never goes back: {seen:?}");
    println!(
        "model download: {} progress events, the last {}",
        seen.len(),
        idlewatt::node::events::download_line(done, total)
    );
    let listed = cache.list();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].complete && listed[0].bytes >= total, "{listed:?}");
    assert_eq!(listed[0].name, "all-MiniLM-L6-v2");

    // The owner clears the models (the app's button): the disk space comes back.
    let freed = cache.clear().unwrap();
    assert!(freed >= total);
    assert!(cache.list().is_empty());
}
