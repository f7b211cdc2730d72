//! The demand side against a real coordinator over loopback (issue 14): a client funds
//! its account, uploads A and B as `.npy` blobs, submits with a maximum price (escrow
//! held), nodes compute signed blocks of C from the downloaded blobs, and the client
//! downloads C, checked here against A·B. Also: 402s with the amounts, bad `.npy` and
//! hash mismatches as 400s with reasons, refunds on cancel, expiry and failure, privacy
//! between clients, racing submissions, garbage results, a key revoked mid-job, the
//! faucet's limits, "no paid work", and the OpenAI-shaped embeddings errors. Every
//! scenario ends with the books check.

#![allow(clippy::unwrap_used)]

mod util;

use std::time::Duration;

use idlewatt_coordinator::Config;
use idlewatt_protocol::client::{
    ClientJob, ClientJobList, ClientJobStatus, KeyCreate, KeyList, PaymentRequiredBody, PriceList, ShortfallReason,
    matmul_price,
};
use idlewatt_protocol::wire::{ErrorKind, JobSpec, Lease, ResultSubmission};
use idlewatt_protocol::{TokenAmount, npy};
use reqwest::{Method, StatusCode};
use util::client::{Client, assert_books, compute_block, matrices, reference, work_all};
use util::{Node, error_of, start, test_config};

/// Client work only: no calibration budget, 64-row blocks.
fn client_config() -> Config {
    Config { bootstrap_budget: TokenAmount::ZERO, ..test_config() }
}

const LOTS: TokenAmount = TokenAmount::tokens(1000);

#[tokio::test]
async fn a_client_pays_for_a_matmul_and_gets_c_equal_to_a_times_b() {
    let handle = start(client_config()).await;
    let base = handle.url();
    let client = Client::new(&base, 1);
    let grant = client.faucet(TokenAmount::tokens(50)).await;
    assert_eq!(grant.credited, TokenAmount::tokens(50));
    let (m, n, k) = (130, 50, 70);
    let (a, b) = matrices(m, n, k, 7);
    let a_sha = client.upload(m, k, &a).await;
    let b_sha = client.upload(k, n, &b).await;
    // Uploading again is deduplicated (200, same answer).
    let again = client.put_blob(&npy::write_f32(m, k, &a)).await;
    assert_eq!(again.status(), StatusCode::OK);

    let price = matmul_price(m as u32, n as u32, k as u32, Config::default().reward_per_tflop).unwrap();
    let r = client.submit(&a_sha, &b_sha, LOTS, None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let job: ClientJob = r.json().await.unwrap();
    assert_eq!((job.status, job.price, job.progress.total), (ClientJobStatus::Queued, price, m as u64));
    let acct = client.account().await;
    assert_eq!(acct.escrow, price);
    assert_eq!(acct.balance.0, TokenAmount::tokens(50).0 - price.0);
    // The result does not exist before the job is done.
    let r = client.send(Method::GET, &format!("/v1/jobs/{}/result", job.id), vec![]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let (n1, n2) = (Node::new(&handle, 1), Node::new(&handle, 2));
    n1.register().await;
    n2.register().await;
    // Two nodes share the rows: 130 = 64 + 66 (a sliver of 2 rows is not left alone).
    let l1 = n1.lease().await;
    let l2 = n2.lease().await;
    for (node, lease) in [(&n1, &l1), (&n2, &l2)] {
        assert!(matches!(lease.job, JobSpec::ClientMatmul { .. }), "{:?}", lease.job);
        let c = compute_block(node, lease).await;
        let r = node.submit(lease, &ResultSubmission::new(&c)).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    let (JobSpec::ClientMatmul { rows: r1, .. }, JobSpec::ClientMatmul { rows: r2, .. }) = (&l1.job, &l2.job) else {
        unreachable!()
    };
    assert_eq!((*r1, *r2), (64, 66));
    // No more work: 503 "no paid work right now".
    let (status, body) = error_of(n1.try_lease().await).await;
    assert_eq!((status, body.error.kind), (StatusCode::SERVICE_UNAVAILABLE, ErrorKind::NoPaidWork));

    let done = client.job(&job.id).await;
    assert_eq!(done.status, ClientJobStatus::Done);
    assert_eq!(done.progress.done, m as u64);
    assert_eq!(done.cost_so_far, price);
    assert_eq!(done.result_url.as_deref(), Some(format!("/v1/jobs/{}/result", job.id).as_str()));
    let r = client.send(Method::GET, &format!("/v1/jobs/{}/result", job.id), vec![]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let c = npy::read(&r.bytes().await.unwrap(), u64::MAX).unwrap();
    assert_eq!((c.rows, c.cols, c.dtype), (m, n, npy::Dtype::F32));
    let want = reference(&a, &b, m, n, k);
    let worst = c.data.iter().zip(&want).map(|(&x, &y)| (f64::from(x) - y).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-4, "max |C − A·B| = {worst}");

    // Escrow went to the nodes and the fee account, exactly.
    let (b1, b2) = (n1.balance().await, n2.balance().await);
    let books = assert_books(&base).await;
    assert_eq!(b1.withdrawable.0 + b2.withdrawable.0 + books.fees.0, price.0);
    assert_eq!(books.escrow, TokenAmount::ZERO);
    let fee_bps = u128::from(Config::default().fee_bps);
    assert!(books.fees.0 <= price.0 * fee_bps / 10_000 + 1 && books.fees.0 + 2 >= price.0 * fee_bps / 10_000);
    let acct = client.account().await;
    assert_eq!((acct.escrow, acct.spent, acct.active_jobs), (TokenAmount::ZERO, price, 0));
    let list: ClientJobList = client.json(Method::GET, "/v1/jobs", vec![], StatusCode::OK).await;
    assert_eq!(list.jobs.len(), 1);
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn short_money_is_402_with_the_amount_needed() {
    let handle = start(client_config()).await;
    let base = handle.url();
    let client = Client::new(&base, 2);
    let (a, b) = matrices(64, 64, 64, 1);
    let a_sha = client.upload(64, 64, &a).await;
    let b_sha = client.upload(64, 64, &b).await;
    let price = matmul_price(64, 64, 64, Config::default().reward_per_tflop).unwrap();

    // No balance at all.
    let r = client.submit(&a_sha, &b_sha, LOTS, None).await;
    assert_eq!(r.status(), StatusCode::PAYMENT_REQUIRED);
    let body: PaymentRequiredBody = r.json().await.unwrap();
    assert_eq!(body.error.kind, ErrorKind::PaymentRequired);
    assert_eq!(
        (body.payment.reason, body.payment.needed, body.payment.price),
        (ShortfallReason::Balance, price, price)
    );
    // Some balance, not enough.
    client.faucet(TokenAmount(price.0 / 2)).await;
    let body: PaymentRequiredBody = client.submit(&a_sha, &b_sha, LOTS, None).await.json().await.unwrap();
    assert_eq!(body.payment.needed, TokenAmount(price.0 - price.0 / 2));
    // A max price below the quote.
    client.faucet(LOTS).await;
    let r = client.submit(&a_sha, &b_sha, TokenAmount(price.0 - 1), None).await;
    assert_eq!(r.status(), StatusCode::PAYMENT_REQUIRED);
    let body: PaymentRequiredBody = r.json().await.unwrap();
    assert_eq!((body.payment.reason, body.payment.needed), (ShortfallReason::MaxPrice, TokenAmount(1)));
    // An API key's spending limit.
    let key = client
        .create_key(&KeyCreate { spending_limit: Some(TokenAmount(price.0 + price.0 / 2)), ..KeyCreate::default() })
        .await;
    let with_key = client.with_key(&key.key);
    assert_eq!(with_key.submit(&a_sha, &b_sha, LOTS, None).await.status(), StatusCode::CREATED);
    let r = with_key.submit(&a_sha, &b_sha, LOTS, None).await;
    assert_eq!(r.status(), StatusCode::PAYMENT_REQUIRED);
    let body: PaymentRequiredBody = r.json().await.unwrap();
    assert_eq!(body.payment.reason, ShortfallReason::SpendingLimit);
    assert_eq!(body.payment.needed, TokenAmount(price.0 - price.0 / 2));
    // Nothing was held for the refused ones.
    assert_eq!(client.account().await.escrow, price);
    assert_books(&base).await;
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_npy_and_bad_hashes_are_400_with_the_reason() {
    let handle = start(client_config()).await;
    let client = Client::new(&handle.url(), 3);
    let header = |dict: &str, data: &[u8]| {
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        let text = format!("{dict}\n");
        v.extend_from_slice(&(text.len() as u16).to_le_bytes());
        v.extend_from_slice(text.as_bytes());
        v.extend_from_slice(data);
        v
    };
    let four = [0u8; 16];
    for (bytes, reason) in [
        (header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }", &four), "dtype"),
        (header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", &four), "fortran_order"),
        (header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", &four), "2-D"),
        (header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", &four), "truncated"),
        (b"not a numpy file at all".to_vec(), "not a .npy"),
        (npy::write_f32(1, 2, &[1.0, f32::NAN]), "finite"),
    ] {
        let (status, body) = error_of(client.put_blob(&bytes).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{reason}");
        assert!(body.error.message.contains(reason), "{reason}: {}", body.error.message);
    }
    // A body that does not match its name.
    let good = npy::write_f32(1, 1, &[1.0]);
    let r = client.send(Method::PUT, &format!("/v1/blobs/{}", "ab".repeat(32)), good.clone()).await;
    let (status, body) = error_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("SHA-256"), "{}", body.error.message);
    // Too large: refused before it is read.
    let small = start(Config { max_blob_bytes: 1024, ..client_config() }).await;
    let r = Client::new(&small.url(), 3).put_blob(&npy::write_f32(32, 32, &[0.5; 1024])).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Shapes that do not multiply; a blob never uploaded.
    client.faucet(LOTS).await;
    let a = client.upload(3, 4, &[1.0; 12]).await;
    let b = client.upload(5, 2, &[1.0; 10]).await;
    let (status, body) = error_of(client.submit(&a, &b, LOTS, None).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("shapes do not match"), "{}", body.error.message);
    let (status, body) = error_of(client.submit(&a, &"cd".repeat(32), LOTS, None).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("was not uploaded"), "{}", body.error.message);
    assert_books(&handle.url()).await;
    small.shutdown().await.unwrap();
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn cancel_refunds_the_unspent_escrow_and_a_late_result_is_refused() {
    let handle = start(client_config()).await;
    let base = handle.url();
    let client = Client::new(&base, 4);
    client.faucet(LOTS).await;
    let (a, b) = matrices(192, 32, 32, 2);
    let a_sha = client.upload(192, 32, &a).await;
    let b_sha = client.upload(32, 32, &b).await;
    let job: ClientJob = client.submit(&a_sha, &b_sha, LOTS, None).await.json().await.unwrap();
    let node = Node::new(&handle, 4);
    node.register().await;
    // One block verified, one leased and still computing, one never started.
    let first = node.lease().await;
    let c = compute_block(&node, &first).await;
    assert_eq!(node.submit(&first, &ResultSubmission::new(&c)).await.status(), StatusCode::OK);
    let second = node.lease().await;
    let paid = node.balance().await.withdrawable;

    let r = client.send(Method::DELETE, &format!("/v1/jobs/{}", job.id), vec![]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cancelled: ClientJob = r.json().await.unwrap();
    assert_eq!(cancelled.status, ClientJobStatus::Cancelled);
    assert_eq!(cancelled.cost_so_far.0 + cancelled.refunded.0, job.price.0);
    assert_eq!(cancelled.progress.done, 64);
    assert_eq!(client.account().await.balance.0, LOTS.0 - cancelled.cost_so_far.0);
    // The leased block's result comes too late: refused, not paid.
    let c = compute_block_after_cancel(&a, &b, &second);
    let (status, body) = error_of(node.submit(&second, &ResultSubmission::new(&c)).await).await;
    assert_eq!((status, body.error.kind), (StatusCode::GONE, ErrorKind::LeaseExpired));
    assert_eq!(node.balance().await.withdrawable, paid);
    // Cancelling twice is a conflict, and nothing is refunded twice.
    let r = client.send(Method::DELETE, &format!("/v1/jobs/{}", job.id), vec![]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_books(&base).await;
    handle.shutdown().await.unwrap();
}

/// A block computed from the test's own copy of A and B (the node may no longer read
/// the blobs once its lease was withdrawn).
fn compute_block_after_cancel(a: &[f32], b: &[f32], lease: &Lease) -> Vec<f32> {
    let JobSpec::ClientMatmul { n, k, row_start, rows, .. } = lease.job.clone() else { panic!() };
    let (n, k, r0) = (n as usize, k as usize, row_start as usize);
    let mut c = vec![0.0f32; rows as usize * n];
    for i in 0..rows as usize {
        for p in 0..k {
            for j in 0..n {
                c[i * n + j] += a[(r0 + i) * k + p] * b[p * n + j];
            }
        }
    }
    c
}

#[tokio::test]
async fn an_expired_job_is_refunded() {
    let handle = start(client_config()).await;
    let client = Client::new(&handle.url(), 5);
    client.faucet(LOTS).await;
    let (a, b) = matrices(8, 8, 8, 3);
    let a_sha = client.upload(8, 8, &a).await;
    let b_sha = client.upload(8, 8, &b).await;
    let job: ClientJob = client.submit(&a_sha, &b_sha, LOTS, Some(1)).await.json().await.unwrap();
    let mut seen = job.clone();
    for _ in 0..50 {
        seen = client.job(&job.id).await;
        if seen.status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen.status, ClientJobStatus::Expired);
    assert_eq!((seen.refunded, seen.cost_so_far), (job.price, TokenAmount::ZERO));
    assert_eq!(client.account().await.balance, LOTS);
    // Nothing left to lease.
    let node = Node::new(&handle, 5);
    node.register().await;
    assert_eq!(node.try_lease().await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_books(&handle.url()).await;
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_cannot_read_or_cancel_another_clients_job() {
    let handle = start(client_config()).await;
    let (alice, mallory) = (Client::new(&handle.url(), 6), Client::new(&handle.url(), 7));
    alice.faucet(LOTS).await;
    let (a, b) = matrices(8, 8, 8, 4);
    let a_sha = alice.upload(8, 8, &a).await;
    let b_sha = alice.upload(8, 8, &b).await;
    let job: ClientJob = alice.submit(&a_sha, &b_sha, LOTS, None).await.json().await.unwrap();
    for (method, path) in [
        (Method::GET, format!("/v1/jobs/{}", job.id)),
        (Method::GET, format!("/v1/jobs/{}/result", job.id)),
        (Method::DELETE, format!("/v1/jobs/{}", job.id)),
        (Method::GET, format!("/v1/blobs/{a_sha}")),
    ] {
        let r = mallory.send(method.clone(), &path, vec![]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let list: ClientJobList = mallory.json(Method::GET, "/v1/jobs", vec![], StatusCode::OK).await;
    assert!(list.jobs.is_empty());
    assert_eq!(alice.job(&job.id).await.status, ClientJobStatus::Queued);
    // Unsigned requests are refused.
    let r = reqwest::get(format!("{}/v1/jobs/{}", handle.url(), job.id)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_books(&handle.url()).await;
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn racing_submissions_cannot_overspend_a_balance() {
    let handle = start(client_config()).await;
    let client = Client::new(&handle.url(), 8);
    let (a, b) = matrices(64, 64, 64, 5);
    let a_sha = client.upload(64, 64, &a).await;
    let b_sha = client.upload(64, 64, &b).await;
    let price = matmul_price(64, 64, 64, Config::default().reward_per_tflop).unwrap();
    // Enough for two jobs and a half.
    client.faucet(TokenAmount(price.0 * 5 / 2)).await;
    let k1 = client.create_key(&KeyCreate::default()).await;
    let k2 = client.create_key(&KeyCreate::default()).await;
    // Two tools of the same client (two API keys) and the wallet itself, all at once.
    let tools = [client.with_key(&k1.key), client.with_key(&k2.key), Client::new(&handle.url(), 8)];
    let mut set = tokio::task::JoinSet::new();
    for i in 0..12 {
        let (c, a, b) = (tools[i % 3].clone(), a_sha.clone(), b_sha.clone());
        set.spawn(async move { c.submit(&a, &b, LOTS, None).await.status() });
    }
    let answers = set.join_all().await;
    let accepted = answers.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = answers.iter().filter(|s| **s == StatusCode::PAYMENT_REQUIRED).count();
    assert_eq!((accepted, refused), (2, 10), "{answers:?}");
    let acct = client.account().await;
    assert_eq!((acct.escrow.0, acct.balance.0), (price.0 * 2, price.0 / 2));
    assert_books(&handle.url()).await;
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn garbage_is_not_paid_and_the_client_is_not_charged() {
    let handle = start(Config { max_part_attempts: 2, ..client_config() }).await;
    let base = handle.url();
    let client = Client::new(&base, 9);
    client.faucet(LOTS).await;
    let (a, b) = matrices(32, 32, 32, 6);
    let a_sha = client.upload(32, 32, &a).await;
    let b_sha = client.upload(32, 32, &b).await;
    let job: ClientJob = client.submit(&a_sha, &b_sha, LOTS, None).await.json().await.unwrap();
    let (cheat, honest) = (Node::new(&handle, 10), Node::new(&handle, 11));
    cheat.register().await;
    honest.register().await;
    // The cheat returns zeros: rejected, unpaid, the block goes back to the pool.
    let lease = cheat.lease().await;
    let (status, body) = error_of(cheat.submit(&lease, &ResultSubmission::new(&vec![0.0; 32 * 32])).await).await;
    assert_eq!((status, body.error.kind), (StatusCode::UNPROCESSABLE_ENTITY, ErrorKind::ResultRejected));
    assert_eq!(cheat.balance().await.withdrawable, TokenAmount::ZERO);
    let seen = client.job(&job.id).await;
    assert_eq!((seen.cost_so_far, seen.status), (TokenAmount::ZERO, ClientJobStatus::Running));
    // An honest node gets the same block and is paid; the client pays the price once.
    assert_eq!(work_all(&honest).await, 1);
    let done = client.job(&job.id).await;
    assert_eq!((done.status, done.cost_so_far), (ClientJobStatus::Done, job.price));
    assert_books(&base).await;

    // A job nobody can verify: two rejections fail it, refunded in full.
    let job: ClientJob = client.submit(&a_sha, &b_sha, LOTS, None).await.json().await.unwrap();
    for cheat in [Node::new(&handle, 12), Node::new(&handle, 13)] {
        cheat.register().await;
        let lease = cheat.lease().await;
        let r = cheat.submit(&lease, &ResultSubmission::new(&vec![1.0; 32 * 32])).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let failed = client.job(&job.id).await;
    assert_eq!(failed.status, ClientJobStatus::Failed);
    assert_eq!((failed.refunded, failed.cost_so_far), (job.price, TokenAmount::ZERO));
    assert!(failed.reason.unwrap().contains("failed verification 2 times"));
    assert_books(&base).await;
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_key_revoked_mid_job_stops_working_and_the_job_completes() {
    let handle = start(client_config()).await;
    let base = handle.url();
    let client = Client::new(&base, 14);
    client.faucet(LOTS).await;
    let created = client.create_key(&KeyCreate { label: "ci".into(), ..KeyCreate::default() }).await;
    assert!(created.key.starts_with("iwk_") && created.key.len() > 40);
    let tool = client.with_key(&created.key);
    let (a, b) = matrices(16, 16, 16, 8);
    let a_sha = tool.upload(16, 16, &a).await;
    let b_sha = tool.upload(16, 16, &b).await;
    let job: ClientJob = tool.submit(&a_sha, &b_sha, LOTS, None).await.json().await.unwrap();
    assert_eq!(tool.job(&job.id).await.status, ClientJobStatus::Queued);
    // Listing shows the key's prefix and what it committed, never the key.
    let keys: KeyList = client.json(Method::GET, "/v1/keys", vec![], StatusCode::OK).await;
    assert_eq!(keys.keys.len(), 1);
    assert_eq!(keys.keys[0].spent, job.price);
    assert!(!serde_json::to_string(&keys).unwrap().contains(&created.key));
    // An API key cannot manage keys.
    assert_eq!(tool.send(Method::GET, "/v1/keys", vec![]).await.status(), StatusCode::FORBIDDEN);

    let r = client.send(Method::DELETE, &format!("/v1/keys/{}", created.info.id), vec![]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, body) = error_of(tool.send(Method::GET, &format!("/v1/jobs/{}", job.id), vec![]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.error.message.contains("revoked"), "{}", body.error.message);
    // The job goes on; its owner follows it with a signature.
    let node = Node::new(&handle, 14);
    node.register().await;
    assert_eq!(work_all(&node).await, 1);
    assert_eq!(client.job(&job.id).await.status, ClientJobStatus::Done);
    let bogus = client.with_key("iwk_not-a-key");
    assert_eq!(bogus.send(Method::GET, "/v1/jobs", vec![]).await.status(), StatusCode::UNAUTHORIZED);
    assert_books(&base).await;
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn keys_are_stored_only_as_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let handle = start(Config { database: db.to_string_lossy().into_owned(), ..client_config() }).await;
    let client = Client::new(&handle.url(), 15);
    let created = client.create_key(&KeyCreate::default()).await;
    let with_key = client.with_key(&created.key);
    assert_eq!(with_key.send(Method::GET, "/v1/jobs", vec![]).await.status(), StatusCode::OK);
    handle.shutdown().await.unwrap();
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            all.extend(std::fs::read(p).unwrap());
        }
    }
    let text = String::from_utf8_lossy(&all);
    let secret = created.key.trim_start_matches("iwk_");
    assert!(!text.contains(secret), "the key is in the database files");
    let hash = alloy::hex::encode(<sha2::Sha256 as sha2::Digest>::digest(created.key.as_bytes()));
    assert!(text.contains(&hash), "the key's hash is stored");
}

#[tokio::test]
async fn the_faucet_is_capped_and_refused_on_a_chain() {
    let handle = start(Config { faucet_cap: TokenAmount::tokens(150), ..client_config() }).await;
    let client = Client::new(&handle.url(), 16);
    assert_eq!(client.faucet(TokenAmount::tokens(100)).await.remaining, TokenAmount::tokens(50));
    let g = client.faucet(TokenAmount::tokens(100)).await;
    assert_eq!(
        (g.credited, g.balance, g.remaining),
        (TokenAmount::tokens(50), TokenAmount::tokens(150), TokenAmount::ZERO)
    );
    let r = client.send(Method::POST, "/v1/faucet", b"{}".to_vec()).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // An API key cannot use the faucet.
    let key = client.create_key(&KeyCreate::default()).await;
    assert_eq!(
        client.with_key(&key.key).send(Method::POST, "/v1/faucet", vec![]).await.status(),
        StatusCode::FORBIDDEN
    );
    let books = assert_books(&handle.url()).await;
    assert_eq!(books.deposits, TokenAmount::tokens(150));
    handle.shutdown().await.unwrap();

    let treasury = idlewatt_coordinator::chain::TreasuryKey::from_hex(&"11".repeat(32), "test").unwrap();
    let chain =
        idlewatt_coordinator::ChainConfig::new("http://127.0.0.1:9", 31337, alloy::primitives::Address::ZERO, treasury);
    let on_chain = start(Config { chain: Some(chain), ..client_config() }).await;
    let (status, body) =
        error_of(Client::new(&on_chain.url(), 16).send(Method::POST, "/v1/faucet", vec![]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.error.message.contains("no faucet"), "{}", body.error.message);
    on_chain.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_clients_or_a_budget_there_is_no_paid_work_and_calibration_is_labelled() {
    let handle = start(client_config()).await;
    let node = Node::new(&handle, 17);
    node.register().await;
    let (status, body) = error_of(node.try_lease().await).await;
    assert_eq!((status, body.error.kind), (StatusCode::SERVICE_UNAVAILABLE, ErrorKind::NoPaidWork));
    assert!(body.error.message.contains("no paid work right now"), "{}", body.error.message);
    let prices: PriceList = reqwest::get(format!("{}/v1/prices", handle.url())).await.unwrap().json().await.unwrap();
    assert!(!prices.calibration_budget);
    assert_eq!(prices.fee_bps, Config::default().fee_bps);
    handle.shutdown().await.unwrap();

    // A budget pays calibration work until it runs out, and only that.
    let reward = TokenAmount::for_flops(2 * 64u128.pow(3), Config::default().reward_per_tflop).unwrap();
    let handle = start(Config { bootstrap_budget: TokenAmount(reward.0 * 2), ..client_config() }).await;
    let node = Node::new(&handle, 17);
    node.register().await;
    assert_eq!(work_all(&node).await, 2);
    let b = node.balance().await;
    assert_eq!(b.withdrawable.0, reward.0 * 2);
    assert!(b.recent_jobs.iter().all(|j| j.job.origin() == idlewatt_protocol::wire::WorkOrigin::Calibration));
    let books = assert_books(&handle.url()).await;
    assert_eq!((books.deposits.0, books.client_balances), (reward.0 * 2, TokenAmount::ZERO));
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn embeddings_speak_openai_and_an_unknown_model_is_model_not_found() {
    let handle = start(client_config()).await;
    let base = handle.url();
    let client = Client::new(&base, 18);
    client.faucet(LOTS).await;
    let key = client.create_key(&KeyCreate::default()).await;
    let http = reqwest::Client::new();
    let models: serde_json::Value = http.get(format!("{base}/v1/models")).send().await.unwrap().json().await.unwrap();
    assert_eq!(models, serde_json::json!({"object": "list", "data": []}));
    let r = http
        .post(format!("{base}/v1/embeddings"))
        .bearer_auth(&key.key)
        .json(&serde_json::json!({"input": "hello", "model": "all-MiniLM-L6-v2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "model");
    assert!(body["error"]["message"].as_str().unwrap().contains("all-MiniLM-L6-v2"));
    // A bad key: OpenAI's 401 shape.
    let r = http
        .post(format!("{base}/v1/embeddings"))
        .bearer_auth("iwk_wrong")
        .json(&serde_json::json!({"input": "hello", "model": "m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert_books(&base).await;
    handle.shutdown().await.unwrap();
}

/// What the app shows (issue 14 item 8): the owner's job history names the client who
/// paid for each part (none for calibration work), and `GET /v1/network` counts the
/// client jobs waiting ("paid work waiting: N jobs") until they are done.
#[tokio::test]
async fn history_names_the_paying_client_and_the_network_counts_paid_work_waiting() {
    let handle = start(test_config()).await;
    let base = handle.url();
    let network = || network_status(&base);
    let before = network().await;
    assert_eq!((before.paid_jobs_waiting, before.calibration_budget), (0, true));
    let client = Client::new(&base, 19);
    client.faucet(TokenAmount::tokens(50)).await;
    let (m, n, k) = (64, 16, 16);
    let (a, b) = matrices(m, n, k, 19);
    let (a_sha, b_sha) = (client.upload(m, k, &a).await, client.upload(k, n, &b).await);
    let r = client.submit(&a_sha, &b_sha, LOTS, None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(network().await.paid_jobs_waiting, 1);

    let node = Node::new(&handle, 19);
    node.register().await;
    // Client work first, then calibration work from the bootstrap budget.
    let paid = node.lease().await;
    assert!(matches!(paid.job, JobSpec::ClientMatmul { .. }), "{:?}", paid.job);
    assert_eq!(network().await.paid_jobs_waiting, 1, "a running job is still paid work waiting for its result");
    let c = compute_block(&node, &paid).await;
    assert_eq!(node.submit(&paid, &ResultSubmission::new(&c)).await.status(), StatusCode::OK);
    let calibration = node.lease().await;
    assert!(matches!(calibration.job, JobSpec::Matmul { .. }), "{:?}", calibration.job);
    let c = util::compute(&calibration.job);
    assert_eq!(node.submit(&calibration, &ResultSubmission::new(&c)).await.status(), StatusCode::OK);
    assert_eq!(network().await.paid_jobs_waiting, 0);

    let history = node.balance().await.recent_jobs;
    let record = |id: &str| history.iter().find(|j| j.lease_id == id).unwrap().clone();
    let (p, cal) = (record(&paid.lease_id), record(&calibration.lease_id));
    assert_eq!((p.client, p.job.origin()), (Some(client.address()), idlewatt_protocol::wire::WorkOrigin::Client));
    assert_eq!((cal.client, cal.job.origin()), (None, idlewatt_protocol::wire::WorkOrigin::Calibration));
    assert!(p.reward > TokenAmount::ZERO && cal.reward > TokenAmount::ZERO);
    assert_books(&base).await;
    handle.shutdown().await.unwrap();
}

async fn network_status(base: &str) -> idlewatt_protocol::wire::NetworkStatus {
    reqwest::get(format!("{base}/v1/network")).await.unwrap().json().await.unwrap()
}
