//! f16 work goes only to nodes that benchmarked an f16 path (issue 13), against a real
//! coordinator over loopback: a node registers the precisions its tuning found; a part
//! of an f16 client job is never leased to an f32-only node — not when it is cut, not
//! when it is given back and re-issued — while that node still gets f32 work; a node
//! that registered f16 (or re-registers with it) gets the part, and its result is
//! verified against the f16 bound and paid.

#![allow(clippy::unwrap_used)]

mod util;

use idlewatt_coordinator::Config;
use idlewatt_protocol::client::{ClientJob, ClientJobStatus};
use idlewatt_protocol::wire::{ErrorKind, JobSpec, Lease, ResultSubmission};
use idlewatt_protocol::{Precision, TokenAmount, inputs};
use reqwest::StatusCode;
use util::client::{Client, assert_books, compute_block, matrices};
use util::{Node, error_of, start, test_config};

const LOTS: TokenAmount = TokenAmount::tokens(1000);

fn precision_of(lease: &Lease) -> Precision {
    match &lease.job {
        JobSpec::ClientMatmul { precision, .. } => *precision,
        other => panic!("not a client block: {other:?}"),
    }
}

/// Asks for work and expects "no paid work".
async fn expect_no_work(node: &Node) {
    let (status, body) = error_of(node.try_lease().await).await;
    assert_eq!((status, body.error.kind), (StatusCode::SERVICE_UNAVAILABLE, ErrorKind::NoPaidWork), "{body:?}");
}

#[tokio::test]
async fn f16_parts_are_leased_only_to_nodes_that_benchmarked_f16() {
    // Client work only (no calibration budget), 64-row blocks.
    let handle = start(Config { bootstrap_budget: TokenAmount::ZERO, ..test_config() }).await;
    let base = handle.url();
    let client = Client::new(&base, 1);
    client.faucet(TokenAmount::tokens(50)).await;

    // An f16 job (A and B stored as <f2), then an f32 job submitted after it.
    let (m, n, k) = (64, 40, 48);
    let (a16, b16) = inputs::matmul_inputs_f16(5, m as u32, n as u32, k as u32);
    let (a_sha, b_sha) = (client.upload_f16(m, k, &a16).await, client.upload_f16(k, n, &b16).await);
    let r = client.submit_as(&a_sha, &b_sha, Precision::F16, LOTS, None).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let f16_job: ClientJob = r.json().await.unwrap();
    assert_eq!(f16_job.status, ClientJobStatus::Queued);

    let f32_only = Node::new(&handle, 1);
    f32_only.register_with(&[Precision::F32]).await;
    // Nothing but the f16 job waits: the f32-only node is told there is no paid work.
    expect_no_work(&f32_only).await;

    let (a32, b32) = matrices(m, n, k, 6);
    let (a2, b2) = (client.upload(m, k, &a32).await, client.upload(k, n, &b32).await);
    let r = client.submit(&a2, &b2, LOTS, None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let f32_job: ClientJob = r.json().await.unwrap();

    // The f32-only node skips the older f16 job and gets the f32 one.
    let lease = f32_only.lease().await;
    assert_eq!(precision_of(&lease), Precision::F32);
    let c = compute_block(&f32_only, &lease).await;
    let r = f32_only.submit(&lease, &ResultSubmission::new(&c)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(client.job(&f32_job.id).await.status, ClientJobStatus::Done);
    expect_no_work(&f32_only).await;

    // A node that benchmarked f16 gets the f16 part; it gives it back unfinished.
    let f16_node = Node::new(&handle, 2);
    f16_node.register_with(&[Precision::F32, Precision::F16]).await;
    let lease = f16_node.lease().await;
    assert_eq!(precision_of(&lease), Precision::F16);
    let r = f16_node.post(&format!("/v1/leases/{}/release", lease.lease_id), b"{}".to_vec()).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // The part is back in the pool, and still not for the f32-only node …
    expect_no_work(&f32_only).await;
    // … until it re-registers having benchmarked f16 (its new tuning): then it gets it.
    f32_only.register_with(&[Precision::F16, Precision::F32, Precision::F16]).await;
    let lease = f32_only.lease().await;
    assert_eq!(precision_of(&lease), Precision::F16);
    let c = compute_block(&f32_only, &lease).await;
    let r = f32_only.submit(&lease, &ResultSubmission::new(&c)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(client.job(&f16_job.id).await.status, ClientJobStatus::Done);

    // Re-registering without f16 takes f16 work away again.
    f32_only.register_with(&[Precision::F32]).await;
    let r = client.submit_as(&a_sha, &b_sha, Precision::F16, LOTS, None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    expect_no_work(&f32_only).await;
    assert_eq!(precision_of(&f16_node.lease().await), Precision::F16);

    assert_books(&base).await;
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_registration_without_precisions_means_f32_only() {
    let handle = start(Config { bootstrap_budget: TokenAmount::ZERO, ..test_config() }).await;
    let base = handle.url();
    let client = Client::new(&base, 1);
    client.faucet(TokenAmount::tokens(50)).await;
    let (a16, b16) = inputs::matmul_inputs_f16(5, 8, 8, 8);
    let (a_sha, b_sha) = (client.upload_f16(8, 8, &a16).await, client.upload_f16(8, 8, &b16).await);
    let r = client.submit_as(&a_sha, &b_sha, Precision::F16, LOTS, None).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // A node from before the field existed (no "precisions" in its registration).
    let old = Node::new(&handle, 3);
    let body = format!(
        r#"{{"address":"{}","hardware":{{"adapter":"a","backend":"vulkan","device_type":"cpu","max_buffer_bytes":1073741824,"benchmark_gflops":1.0}},"app_version":"0.1.0"}}"#,
        old.address()
    );
    let r = old.post("/v1/nodes", body.into_bytes()).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    expect_no_work(&old).await;
    // An empty list is f32 too; an unknown precision is refused with the reason.
    old.register_with(&[]).await;
    expect_no_work(&old).await;
    let body = format!(
        r#"{{"address":"{}","hardware":{{"adapter":"a","backend":"vulkan","device_type":"cpu","max_buffer_bytes":1073741824,"benchmark_gflops":1.0,"precisions":["f8"]}},"app_version":"0.1.0"}}"#,
        old.address()
    );
    let (status, body) = error_of(old.post("/v1/nodes", body.into_bytes()).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("f8"), "{}", body.error.message);
    handle.shutdown().await.unwrap();
}
