//! The coordinator's front door under attack (issue 11, parts 4 and 6), replayed over
//! loopback against the real server: large unsigned bodies refused before they are
//! read, slow-loris and idle connections closed, the connection limit, every error in
//! the one JSON shape, nonces of refused requests never written, amounts the ledger
//! cannot hold, account history for its owner only, and rate limits that bite on
//! floods but never on an honest node's work.

#![allow(clippy::unwrap_used)]

mod util;

use std::time::{Duration, Instant};

use alloy::signers::SignerSync;
use idlewatt_coordinator::{Config, Limits};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::auth::{HEADER_CONTENT_SHA256, sign_request_with_key};
use idlewatt_protocol::wire::{ErrorKind, JobState, ResultSubmission};
use idlewatt_protocol::withdrawal::{DEVNET_CHAIN_ID, WithdrawalRequest, withdrawal_signing_hash};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use util::{Node, compute, error_of, start, test_config};

/// Reads one HTTP response head (up to the blank line) from `s`, or `None` if the
/// server closed the connection first.
async fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// `true` once the server has closed `s` (EOF or reset), within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut sink = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match s.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn sixteen_unsigned_20mb_results_are_refused_before_their_bodies_are_read() {
    let handle = start(test_config()).await;
    let node = Node::new(&handle, 1);
    node.register().await;
    let lease = node.lease().await;
    let path = format!("/v1/leases/{}/result", lease.lease_id);
    const SIZE: usize = 20 << 20;
    // Each connection declares 20 MB and sends none of it: an answer that arrives while
    // the body is unsent proves the coordinator refused without reading it.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let addr = handle.local_addr();
        let path = path.clone();
        let signed = i % 2 == 1;
        let key = node.key.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let mut head = format!(
                "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {SIZE}\r\n"
            );
            if signed {
                // Signed by the lease's owner, but far larger than its lease allows.
                let auth = sign_request_with_key(&key, "POST", &path, b"whatever").unwrap();
                for (k, v) in auth.to_pairs() {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
            }
            head.push_str("\r\n");
            s.write_all(head.as_bytes()).await.unwrap();
            let answer = tokio::time::timeout(Duration::from_secs(10), read_head(&mut s)).await.unwrap().unwrap();
            answer.lines().next().unwrap().to_owned()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let status_line = t.await.unwrap();
        let want = if i % 2 == 1 { "413" } else { "401" };
        assert!(status_line.contains(want), "connection {i}: {status_line}");
    }
    // Nothing was credited or judged; the lease still takes the right answer.
    assert_eq!(node.balance().await.verified, TokenAmount::ZERO);
    let r = node.submit(&lease, &ResultSubmission::new(&compute(&lease.job))).await;
    assert_eq!(r.status(), StatusCode::OK);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn a_result_whose_body_does_not_match_its_declared_hash_is_refused() {
    let handle = start(test_config()).await;
    let node = Node::new(&handle, 2);
    node.register().await;
    let lease = node.lease().await;
    let path = format!("/v1/leases/{}/result", lease.lease_id);
    let good = serde_json::to_vec(&ResultSubmission::new(&compute(&lease.job))).unwrap();
    let mut forged = ResultSubmission::new(&vec![0.0; lease.job.result_len()]);
    forged.c_sha256 = forged.c_sha256.to_uppercase();
    // Signed over the good body, sent with another: the signature covers the declared
    // hash, the body must match it.
    let auth = sign_request_with_key(&node.key, "POST", &path, &good).unwrap();
    let (status, e) = error_of(node.post_with(&path, serde_json::to_vec(&forged).unwrap(), &auth).await).await;
    assert_eq!((status, e.error.kind), (StatusCode::UNAUTHORIZED, ErrorKind::Unauthorized), "{}", e.error.message);
    assert!(e.error.message.contains(HEADER_CONTENT_SHA256), "{}", e.error.message);
    // Without the declared hash a result is not authenticated at all.
    let mut req = node.http.post(format!("{}{path}", node.base));
    for (k, v) in auth.to_pairs() {
        if k != HEADER_CONTENT_SHA256 {
            req = req.header(k, v);
        }
    }
    let (status, e) = error_of(req.body(good.clone()).send().await.unwrap()).await;
    assert_eq!((status, e.error.kind), (StatusCode::UNAUTHORIZED, ErrorKind::Unauthorized));
    assert!(e.error.message.contains(HEADER_CONTENT_SHA256), "{}", e.error.message);
    // Another node's signature on this lease: 403 before the body matters.
    let other = Node::new(&handle, 3);
    other.register().await;
    let (status, _) = error_of(other.post(&path, good.clone()).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(node.balance().await.verified, TokenAmount::ZERO);
    assert_eq!(node.post(&path, good).await.status(), StatusCode::OK);
    util::client::stop(handle).await;
}

fn quick_timeouts() -> Config {
    Config {
        limits: Limits {
            header_timeout: Duration::from_millis(800),
            body_timeout: Duration::from_millis(800),
            ..Limits::default()
        },
        ..test_config()
    }
}

#[tokio::test]
async fn slow_loris_idle_and_stalled_body_connections_are_closed_within_the_timeouts() {
    let handle = start(quick_timeouts()).await;
    // Headers dribbled one byte every 100 ms never complete: closed after 0.8 s.
    let mut loris = TcpStream::connect(handle.local_addr()).await.unwrap();
    let t0 = Instant::now();
    let dribble = async {
        for b in b"POST /v1/nodes HTTP/1.1\r\nhost: x\r\nx-a: ".iter().chain([b'b'; 200].iter()) {
            if loris.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), dribble).await.unwrap();
    assert!(closed_within(&mut loris, Duration::from_secs(1)).await);
    assert!(t0.elapsed() < Duration::from_secs(3), "slow loris lasted {:?}", t0.elapsed());
    // A connection that sends nothing, or nothing after a request: closed too.
    let mut idle = TcpStream::connect(handle.local_addr()).await.unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(3)).await);
    let mut keep_alive = TcpStream::connect(handle.local_addr()).await.unwrap();
    keep_alive.write_all(b"GET /v1/network HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    assert!(read_head(&mut keep_alive).await.unwrap().starts_with("HTTP/1.1 200"));
    assert!(closed_within(&mut keep_alive, Duration::from_secs(3)).await);
    // A signed result whose body stalls after its headers: 408 in the JSON shape.
    let node = Node::new(&handle, 4);
    node.register().await;
    let lease = node.lease().await;
    let path = format!("/v1/leases/{}/result", lease.lease_id);
    let body = serde_json::to_vec(&ResultSubmission::new(&compute(&lease.job))).unwrap();
    let auth = sign_request_with_key(&node.key, "POST", &path, &body).unwrap();
    let mut s = TcpStream::connect(handle.local_addr()).await.unwrap();
    let mut head = format!("POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in auth.to_pairs() {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..100]).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), read_head(&mut s)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/json"), "{answer}");
    assert_eq!(node.balance().await.verified, TokenAmount::ZERO);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let config = Config {
        limits: Limits { header_timeout: Duration::from_millis(1500), max_connections: 2, ..Limits::default() },
        ..test_config()
    };
    let handle = start(config).await;
    let _a = TcpStream::connect(handle.local_addr()).await.unwrap();
    let _b = TcpStream::connect(handle.local_addr()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    let mut c = TcpStream::connect(handle.local_addr()).await.unwrap();
    c.write_all(b"GET /v1/network HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), read_head(&mut c)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Served only when an idle connection was closed by the header timeout.
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(1000), "served after {waited:?}: the limit did not hold");
    util::client::stop(handle).await;
}

#[tokio::test]
async fn every_error_is_in_the_one_json_shape() {
    let handle = start(test_config()).await;
    let node = Node::new(&handle, 5);
    node.register().await;
    let base = handle.url();
    let http = reqwest::Client::new();
    let cases: Vec<(reqwest::Response, StatusCode, ErrorKind)> = vec![
        (http.get(format!("{base}/v1/nope")).send().await.unwrap(), StatusCode::NOT_FOUND, ErrorKind::NotFound),
        (
            http.get(format!("{base}/v1/nodes")).send().await.unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::BadRequest,
        ),
        (
            http.delete(format!("{base}/v1/network")).send().await.unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::BadRequest,
        ),
        // Bad UTF-8 in a path id.
        (node.post("/v1/leases/%FF%FE/result", b"{}".to_vec()).await, StatusCode::BAD_REQUEST, ErrorKind::BadRequest),
        (
            http.get(format!("{base}/v1/withdrawals/%C3%28")).send().await.unwrap(),
            StatusCode::BAD_REQUEST,
            ErrorKind::BadRequest,
        ),
        (
            node.post("/v1/leases", vec![b' '; 64 * 1024]).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::PayloadTooLarge,
        ),
        (node.post("/v1/leases", b"{".to_vec()).await, StatusCode::BAD_REQUEST, ErrorKind::BadRequest),
        (
            http.post(format!("{base}/v1/leases")).body("{}").send().await.unwrap(),
            StatusCode::UNAUTHORIZED,
            ErrorKind::Unauthorized,
        ),
    ];
    for (i, (r, status, kind)) in cases.into_iter().enumerate() {
        let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        let (got, e) = error_of(r).await;
        assert_eq!((got, e.error.kind), (status, kind), "case {i}: {}", e.error.message);
        assert_eq!(ct.as_deref(), Some("application/json"), "case {i}");
        assert!(!e.error.message.is_empty(), "case {i}");
    }
    util::client::stop(handle).await;
}

#[tokio::test]
async fn a_rate_limited_request_gets_retry_after_and_leaves_no_nonce() {
    let config = Config { rate_limit_per_s: 1.0, rate_limit_burst: 2.0, ..test_config() };
    let handle = start(config).await;
    let node = Node::new(&handle, 6);
    let path = format!("/v1/accounts/{}", node.address());
    // Two signed GETs spend the burst; the third is refused.
    for _ in 0..2 {
        assert_eq!(node.get_signed(&path).await.status(), StatusCode::OK);
    }
    let auth = sign_request_with_key(&node.key, "GET", &path, b"").unwrap();
    let send = || {
        let mut req = node.http.get(format!("{}{path}", node.base));
        for (k, v) in auth.to_pairs() {
            req = req.header(k, v);
        }
        req.send()
    };
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "retry-after {retry}");
    let (_, e) = error_of(r).await;
    assert_eq!(e.error.kind, ErrorKind::RateLimited);
    // After waiting as told, the very same request (same nonce) is accepted: its nonce
    // was not written when it was refused. Sent a third time, it is a replay.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(send().await.unwrap().status(), StatusCode::OK);
    let (status, e) = error_of(send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(e.error.message.contains("replayed nonce"), "{}", e.error.message);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn an_honest_node_never_hits_the_rate_limit_but_a_flood_does() {
    // The production rate limit, with small jobs: work gives its request back.
    let config = Config { rate_limit_per_s: 20.0, rate_limit_burst: 40.0, ..test_config() };
    let handle = start(config).await;
    let node = Node::new(&handle, 7);
    node.register().await;
    let t0 = Instant::now();
    let mut jobs = 0;
    while jobs < 150 {
        let lease = node.lease().await;
        let r = node.submit(&lease, &ResultSubmission::new(&compute(&lease.job))).await;
        assert_eq!(r.status(), StatusCode::OK, "job {jobs}");
        jobs += 1;
    }
    let rate = f64::from(jobs) / t0.elapsed().as_secs_f64();
    println!("honest node: {jobs} jobs of 64^3 at {rate:.0} jobs/s, never limited");
    // A flood of requests that do no work is cut off, with a time to come back.
    let path = format!("/v1/accounts/{}", node.address());
    let (mut limited, t1) = (0, Instant::now());
    for _ in 0..200 {
        let r = node.get_signed(&path).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
            limited += 1;
        }
    }
    // At most the burst plus what the rate refilled meanwhile got through.
    let allowed = 40.0 + 20.0 * t1.elapsed().as_secs_f64() + 1.0;
    assert!(f64::from(limited) >= 200.0 - allowed, "only {limited} of 200 flood requests were limited");
    assert!(limited > 0);
    util::client::stop(handle).await;
}

fn signed_withdrawal(node: &Node, amount: u128, nonce: u64) -> WithdrawalRequest {
    let mut req = WithdrawalRequest {
        to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into(),
        amount: TokenAmount(amount),
        nonce,
        chain_id: DEVNET_CHAIN_ID,
        signature: String::new(),
    };
    let sig = node.key.sign_hash_sync(&withdrawal_signing_hash(&req.typed_data().unwrap())).unwrap();
    req.signature = format!("0x{}", alloy::hex::encode(sig.as_bytes()));
    req
}

#[tokio::test]
async fn withdrawals_above_what_the_ledger_holds_are_400_and_debit_nothing() {
    let handle = start(test_config()).await;
    let node = Node::new(&handle, 8);
    node.register().await;
    let lease = node.lease().await;
    assert_eq!(node.submit(&lease, &ResultSubmission::new(&compute(&lease.job))).await.status(), StatusCode::OK);
    let before = node.balance().await;
    for (i, amount) in [10u128.pow(30), u128::MAX, 10u128.pow(28)].into_iter().enumerate() {
        let body = serde_json::to_vec(&signed_withdrawal(&node, amount, i as u64 + 1)).unwrap();
        let (status, e) = error_of(node.post("/v1/withdrawals", body).await).await;
        assert_eq!((status, e.error.kind), (StatusCode::BAD_REQUEST, ErrorKind::BadRequest), "{amount}");
        assert!(e.error.message.contains("more than the ledger can hold"), "{}", e.error.message);
    }
    assert_eq!(node.balance().await.withdrawable, before.withdrawable);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn account_history_is_shown_to_its_owner_only() {
    let handle = start(test_config()).await;
    let owner = Node::new(&handle, 9);
    owner.register().await;
    let done = owner.lease().await;
    assert_eq!(owner.submit(&done, &ResultSubmission::new(&compute(&done.job))).await.status(), StatusCode::OK);
    let open = owner.lease().await;
    let mine = owner.balance().await;
    assert_eq!(mine.recent_jobs.len(), 2);
    assert!(mine.recent_jobs.iter().any(|j| j.lease_id == open.lease_id && j.state == JobState::Leased));
    // Anyone else: the balances, no lease ids, no seeds.
    let public = owner.public_balance().await;
    assert_eq!((public.verified, public.pending), (mine.verified, mine.pending));
    assert!(public.recent_jobs.is_empty());
    let stranger = Node::new(&handle, 10);
    let r = stranger.get_signed(&format!("/v1/accounts/{}", owner.address())).await;
    let seen: idlewatt_protocol::wire::AccountBalance = r.json().await.unwrap();
    assert!(seen.recent_jobs.is_empty());
    let text = reqwest::get(format!("{}/v1/accounts/{}", handle.url(), owner.address())).await.unwrap();
    let text = text.text().await.unwrap();
    assert!(!text.contains(&open.lease_id), "{text}");
    util::client::stop(handle).await;
}
