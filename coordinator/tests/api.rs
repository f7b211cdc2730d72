//! The coordinator over real HTTP on loopback, with real signatures and real results
//! computed on the CPU: the lease flow, verification, idempotency, authentication,
//! expiry and reassignment, limits, and refusing nodes that cheat.

#![allow(clippy::unwrap_used)]

mod util;

use std::time::Duration;

use alloy::signers::SignerSync;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::auth::{MAX_CLOCK_SKEW_MS, RequestToSign, now_ms, sign_request_with_key};
use idlewatt_protocol::wire::{ErrorKind, JobState, NetworkStatus, ResultStatus, ResultSubmission, SubmissionOutcome};
use reqwest::StatusCode;
use util::{Node, compute, error_of, start, test_config};

#[tokio::test]
async fn register_lease_compute_submit_credits_the_expected_reward() {
    let handle = start(test_config()).await;
    let node = Node::new(&handle, 1);
    node.register().await;
    let lease = node.lease().await;
    // 2·64³ FLOPs at 1 token per TFLOP.
    let expected = TokenAmount::for_flops(2 * 64u128.pow(3), TokenAmount::tokens(1)).unwrap();
    assert_eq!(lease.reward, expected);
    assert!(lease.deadline_ms > now_ms());
    let before = node.balance().await;
    assert_eq!(before.pending, expected);
    assert_eq!(before.verified, TokenAmount::ZERO);

    let c = compute(&lease.job);
    let r = node.submit(&lease, &ResultSubmission::new(&c)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let outcome: SubmissionOutcome = r.json().await.unwrap();
    assert_eq!(outcome.status, ResultStatus::Verified);
    assert_eq!(outcome.reward, expected);

    let after = node.balance().await;
    assert_eq!((after.pending, after.verified, after.withdrawable), (TokenAmount::ZERO, expected, expected));
    assert_eq!(after.recent_jobs.len(), 1);
    assert_eq!(after.recent_jobs[0].state, JobState::Verified);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn a_tampered_result_is_rejected_and_not_credited() {
    let handle = start(test_config()).await;
    let node = Node::new(&handle, 2);
    node.register().await;
    let lease = node.lease().await;
    let mut c = compute(&lease.job);
    let max = c.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    c[100] += 0.01 * max;
    let (status, body) = error_of(node.submit(&lease, &ResultSubmission::new(&c)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body.error.kind, ErrorKind::ResultRejected);
    assert!(body.error.message.contains("C ≠ A·B"), "{}", body.error.message);
    let b = node.balance().await;
    assert_eq!((b.verified, b.withdrawable), (TokenAmount::ZERO, TokenAmount::ZERO));
    assert_eq!(b.recent_jobs[0].state, JobState::Rejected);
    // The correct result for the same lease is now a conflict, not a second chance.
    let (status, _) = error_of(node.submit(&lease, &ResultSubmission::new(&compute(&lease.job))).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn resubmitting_the_same_result_credits_once() {
    let handle = start(test_config()).await;
    let node = Node::new(&handle, 3);
    node.register().await;
    let lease = node.lease().await;
    let sub = ResultSubmission::new(&compute(&lease.job));
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let r = node.submit(&lease, &sub).await;
        assert_eq!(r.status(), StatusCode::OK);
        outcomes.push(r.json::<SubmissionOutcome>().await.unwrap());
    }
    assert!(outcomes.iter().all(|o| *o == outcomes[0]));
    // Concurrent resubmissions too.
    let rs = futures_join(&node, &lease, &sub).await;
    assert!(rs.iter().all(|s| *s == StatusCode::OK), "{rs:?}");
    assert_eq!(node.balance().await.verified, lease.reward);
    util::client::stop(handle).await;
}

async fn futures_join(node: &Node, lease: &idlewatt_protocol::wire::Lease, sub: &ResultSubmission) -> Vec<StatusCode> {
    let (a, b, c) = tokio::join!(node.submit(lease, sub), node.submit(lease, sub), node.submit(lease, sub));
    vec![a.status(), b.status(), c.status()]
}

#[tokio::test]
async fn replayed_forged_and_stale_requests_are_401_with_a_reason() {
    let handle = start(test_config()).await;
    let node = Node::new(&handle, 4);
    node.register().await;
    let body = serde_json::to_vec(&idlewatt_protocol::wire::LeaseRequest { limits: util::LIMITS }).unwrap();

    // Replay: the same signed request twice.
    let auth = sign_request_with_key(&node.key, "POST", "/v1/leases", &body).unwrap();
    assert_eq!(node.post_with("/v1/leases", body.clone(), &auth).await.status(), StatusCode::OK);
    let (status, e) = error_of(node.post_with("/v1/leases", body.clone(), &auth).await).await;
    assert_eq!((status, e.error.kind), (StatusCode::UNAUTHORIZED, ErrorKind::Unauthorized));
    assert!(e.error.message.contains("replayed nonce"), "{}", e.error.message);

    // Forged: signed by another key but claiming this node's address.
    let mallory = Node::new(&handle, 66);
    let mut forged = sign_request_with_key(&mallory.key, "POST", "/v1/leases", &body).unwrap();
    forged.address = node.address();
    let (status, e) = error_of(node.post_with("/v1/leases", body.clone(), &forged).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(e.error.message.contains("signature does not match"), "{}", e.error.message);

    // Altered body under a valid signature.
    let auth = sign_request_with_key(&node.key, "POST", "/v1/leases", &body).unwrap();
    let (status, _) = error_of(
        node.post_with("/v1/leases", b"{\"limits\":{\"max_dim\":1,\"max_buffer_bytes\":1}}".to_vec(), &auth).await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Stale: signed six minutes ago.
    let req = RequestToSign::with_time_and_nonce(
        "POST",
        "/v1/leases",
        &body,
        now_ms() - MAX_CLOCK_SKEW_MS - 60_000,
        &"7a".repeat(16),
    );
    let sig = node.key.sign_message_sync(req.message().as_bytes()).unwrap();
    let (status, e) =
        error_of(node.post_with("/v1/leases", body.clone(), &req.into_headers(node.address(), sig)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(e.error.message.contains("stale timestamp"), "{}", e.error.message);

    // Unsigned.
    let r = node.http.post(format!("{}/v1/leases", node.base)).body(body).send().await.unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(e.error.message.contains("missing header"), "{}", e.error.message);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn an_expired_lease_is_reassigned_to_another_node() {
    let handle =
        start(idlewatt_coordinator::Config { lease_duration: Duration::from_millis(300), ..test_config() }).await;
    let (slow, fast) = (Node::new(&handle, 5), Node::new(&handle, 6));
    slow.register().await;
    fast.register().await;
    let first = slow.lease().await;
    util::sleep_ms(1_300).await;
    let network: NetworkStatus =
        slow.http.get(format!("{}/v1/network", slow.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(network.open_jobs, 1, "{network:?}");
    let second = fast.lease().await;
    assert_eq!(second.job_id, first.job_id);
    assert_eq!(second.job, first.job);
    // The slow node's late result is refused; the fast node's is credited.
    let c = compute(&first.job);
    let (status, e) = error_of(slow.submit(&first, &ResultSubmission::new(&c)).await).await;
    assert_eq!((status, e.error.kind), (StatusCode::GONE, ErrorKind::LeaseExpired));
    assert_eq!(fast.submit(&second, &ResultSubmission::new(&c)).await.status(), StatusCode::OK);
    assert_eq!(slow.balance().await.recent_jobs[0].state, JobState::Expired);
    assert_eq!(fast.balance().await.verified, second.reward);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_4xx_and_the_server_keeps_serving() {
    let handle = start(test_config()).await;
    let node = Node::new(&handle, 7);
    node.register().await;
    for bad in [&b"{not json"[..], b"", b"{\"limits\":{\"max_dim\":-1}}", b"[]", b"\xff\xfe"] {
        let (status, e) = error_of(node.post("/v1/leases", bad.to_vec()).await).await;
        assert_eq!((status, e.error.kind), (StatusCode::BAD_REQUEST, ErrorKind::BadRequest), "{bad:?}");
        assert!(e.error.message.contains("malformed JSON"), "{}", e.error.message);
    }
    let huge = vec![b' '; 64 * 1024];
    let (status, e) = error_of(node.post("/v1/leases", huge).await).await;
    assert_eq!((status, e.error.kind), (StatusCode::PAYLOAD_TOO_LARGE, ErrorKind::PayloadTooLarge));
    let lease = node.lease().await;
    let too_big = vec![b'A'; handle_result_limit() + 10];
    let (status, _) = error_of(node.post(&format!("/v1/leases/{}/result", lease.lease_id), too_big).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A result of the wrong size, bad base64, a wrong digest: 400, and not counted.
    let mut sub = ResultSubmission::new(&[1.0; 10]);
    let (status, e) = error_of(node.submit(&lease, &sub).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{}", e.error.message);
    sub = ResultSubmission::new(&compute(&lease.job));
    sub.c_sha256 = "00".repeat(32);
    assert_eq!(node.submit(&lease, &sub).await.status(), StatusCode::BAD_REQUEST);
    let r = node.http.get(format!("{}/v1/accounts/not-an-address", node.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = node.http.get(format!("{}/v1/nope", node.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Still serving, and the lease still takes the right answer.
    assert_eq!(node.submit(&lease, &ResultSubmission::new(&compute(&lease.job))).await.status(), StatusCode::OK);
    assert_eq!(node.balance().await.verified, lease.reward);
    util::client::stop(handle).await;
}

fn handle_result_limit() -> usize {
    test_config().result_body_limit()
}

#[tokio::test]
async fn three_bad_results_and_the_node_is_refused_work_with_a_reason() {
    let handle = start(test_config()).await;
    let cheat = Node::new(&handle, 8);
    cheat.register().await;
    for _ in 0..3 {
        let lease = cheat.lease().await;
        let zeros = vec![0.0f32; lease.job.result_len()];
        let (status, _) = error_of(cheat.submit(&lease, &ResultSubmission::new(&zeros)).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, e) = error_of(cheat.try_lease().await).await;
    assert_eq!((status, e.error.kind), (StatusCode::FORBIDDEN, ErrorKind::NodeRefused));
    assert!(e.error.message.contains("3 results failed verification"), "{}", e.error.message);
    assert_eq!(cheat.balance().await.verified, TokenAmount::ZERO);
    // An honest node still gets work (one of the cheat's reopened jobs).
    let honest = Node::new(&handle, 9);
    honest.register().await;
    let lease = honest.lease().await;
    assert_eq!(honest.submit(&lease, &ResultSubmission::new(&compute(&lease.job))).await.status(), StatusCode::OK);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn registration_lease_limits_and_network_status() {
    let handle = start(idlewatt_coordinator::Config { max_leases_per_node: 2, ..test_config() }).await;
    let node = Node::new(&handle, 10);
    let (status, e) = error_of(node.try_lease().await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", e.error.message);
    assert!(e.error.message.contains("not registered"));
    node.register().await;
    // Registering someone else's address is refused.
    let other = Node::new(&handle, 11);
    let mut reg: serde_json::Value = serde_json::json!({
        "address": other.address(),
        "hardware": {"adapter": "x", "backend": "vulkan", "device_type": "cpu", "max_buffer_bytes": 1024, "benchmark_gflops": 1.0},
        "app_version": "0.1.0"
    });
    assert_eq!(node.post("/v1/nodes", serde_json::to_vec(&reg).unwrap()).await.status(), StatusCode::FORBIDDEN);
    reg["address"] = serde_json::json!(node.address());
    reg["hardware"]["benchmark_gflops"] = serde_json::json!(-1.0);
    assert_eq!(node.post("/v1/nodes", serde_json::to_vec(&reg).unwrap()).await.status(), StatusCode::BAD_REQUEST);

    node.lease().await;
    node.lease().await;
    let (status, e) = error_of(node.try_lease().await).await;
    assert_eq!((status, e.error.kind), (StatusCode::TOO_MANY_REQUESTS, ErrorKind::RateLimited));
    let network: NetworkStatus =
        node.http.get(format!("{}/v1/network", node.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!((network.nodes_online, network.active_leases, network.open_jobs), (1, 2, 0));
    assert_eq!(network.reward_per_tflop, TokenAmount::tokens(1));
    util::client::stop(handle).await;
}

#[tokio::test]
async fn leases_are_sized_to_the_node_benchmark_and_limits() {
    // No fixed size: 1 GFLOP/s for 1 s → 2d³ = 1e9 → d ≈ 793 → 784 (multiple of 16).
    let handle =
        start(idlewatt_coordinator::Config { target_job_seconds: 1.0, fixed_job_dim: None, ..test_config() }).await;
    let node = Node::new(&handle, 12);
    node.register().await;
    let lease = node.lease().await;
    assert_eq!(
        lease.job,
        idlewatt_protocol::wire::JobSpec::Matmul {
            m: 784,
            n: 784,
            k: 784,
            seed: match lease.job {
                idlewatt_protocol::wire::JobSpec::Matmul { seed, .. } => seed,
                _ => panic!("not calibration work"),
            },
            precision: idlewatt_protocol::Precision::F32,
        }
    );
    let small = idlewatt_protocol::wire::LeaseRequest {
        limits: idlewatt_protocol::wire::NodeLimits { max_dim: 4096, max_buffer_bytes: 4 * 128 * 128 },
    };
    let r = node.post("/v1/leases", serde_json::to_vec(&small).unwrap()).await;
    let lease: idlewatt_protocol::wire::Lease = r.json().await.unwrap();
    assert!(
        matches!(lease.job, idlewatt_protocol::wire::JobSpec::Matmul { m: 128, n: 128, k: 128, .. }),
        "{:?}",
        lease.job
    );
    util::client::stop(handle).await;
}
