//! Identities that cost something to abuse (issue 11, part 3), against the real
//! coordinator over loopback: each simulated node connects from its own 127.x.y.z
//! address, so the per-range limits see real source addresses. A flood of 200 fresh
//! addresses cannot register beyond the hourly limits, cannot hold more than the
//! configured probation share of leases, gets only small jobs, is paid nothing for
//! forged results and cannot withdraw what it earned honestly while on probation;
//! the established node keeps getting work throughout.

#![allow(clippy::unwrap_used)]

mod util;

use std::net::{IpAddr, Ipv4Addr};

use alloy::signers::SignerSync;
use idlewatt_coordinator::{Config, Limits};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::wire::{ErrorKind, JobSpec, Lease, NetworkStatus, ResultSubmission};
use idlewatt_protocol::withdrawal::{DEVNET_CHAIN_ID, WithdrawalRequest, withdrawal_signing_hash};
use reqwest::StatusCode;
use util::{Node, compute, error_of, start, test_config};

const PROBATION_RESULTS: u32 = 2;
const PROBATION_SHARE: u32 = 10;
const PER_RANGE: u32 = 5;
const PER_HOUR: u32 = 60;

fn ip(a: u8, b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, a, b))
}

fn sybil_config() -> Config {
    Config {
        limits: Limits {
            probation_results: PROBATION_RESULTS,
            probation_job_dim: 64,
            probation_open_leases: PROBATION_SHARE,
            registrations_per_range_per_hour: PER_RANGE,
            registrations_per_hour: PER_HOUR,
            ..Limits::default()
        },
        fixed_job_dim: Some(128),
        ..test_config()
    }
}

async fn register(node: &Node) -> reqwest::Response {
    let reg = idlewatt_protocol::wire::NodeRegistration {
        address: node.address(),
        hardware: idlewatt_protocol::wire::HardwareSummary {
            adapter: "Sybil".into(),
            backend: "vulkan".into(),
            device_type: "cpu".into(),
            max_buffer_bytes: 1 << 30,
            benchmark_gflops: 1000.0,
            precisions: vec![idlewatt_protocol::Precision::F32],
        },
        app_version: "0.1.0".into(),
    };
    node.post("/v1/nodes", serde_json::to_vec(&reg).unwrap()).await
}

fn withdrawal(node: &Node, amount: TokenAmount) -> Vec<u8> {
    let mut req = WithdrawalRequest {
        to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into(),
        amount,
        nonce: 1,
        chain_id: DEVNET_CHAIN_ID,
        signature: String::new(),
    };
    let sig = node.key.sign_hash_sync(&withdrawal_signing_hash(&req.typed_data().unwrap())).unwrap();
    req.signature = format!("0x{}", alloy::hex::encode(sig.as_bytes()));
    serde_json::to_vec(&req).unwrap()
}

#[tokio::test]
async fn two_hundred_fresh_addresses_get_a_small_share_of_work_and_no_pay_for_forgeries() {
    let handle = start(sybil_config()).await;
    // The established node: registered earlier, past probation.
    let honest = Node::from_ip(&handle, 1, ip(0, 1));
    assert_eq!(register(&honest).await.status(), StatusCode::OK);
    for _ in 0..PROBATION_RESULTS {
        let lease = honest.lease().await;
        // On probation its jobs were small.
        assert!(matches!(lease.job, JobSpec::Matmul { m: 64, .. }), "{:?}", lease.job);
        assert_eq!(honest.submit(&lease, &ResultSubmission::new(&compute(&lease.job))).await.status(), StatusCode::OK);
    }

    // 200 fresh addresses: 10 from one /24, the rest 5 per /24 from 38 more ranges.
    let mut sybils = Vec::new();
    for i in 0..10u8 {
        sybils.push(Node::from_ip(&handle, 1000 + u64::from(i), ip(9, 1 + i)));
    }
    for r in 0..38u8 {
        for i in 0..5u8 {
            sybils.push(Node::from_ip(&handle, 2000 + u64::from(r) * 10 + u64::from(i), ip(10 + r, 1 + i)));
        }
    }
    assert_eq!(sybils.len(), 200);
    let mut registered = Vec::new();
    let (mut by_range, mut by_total) = (0, 0);
    for s in &sybils {
        let r = register(s).await;
        if r.status() == StatusCode::OK {
            registered.push(s);
            continue;
        }
        assert!(r.headers().contains_key("retry-after"));
        let (status, e) = error_of(r).await;
        assert_eq!((status, e.error.kind), (StatusCode::TOO_MANY_REQUESTS, ErrorKind::RateLimited));
        if e.error.message.contains("from your network") {
            by_range += 1;
        } else {
            assert!(e.error.message.contains("the network registered"), "{}", e.error.message);
            by_total += 1;
        }
    }
    // The first /24 got 5 of its 10; the network-wide hourly limit stopped the rest.
    assert_eq!(by_range, 10 - PER_RANGE as usize);
    assert_eq!(registered.len(), PER_HOUR as usize - 1, "{by_range} by range, {by_total} in total");

    // Each registered fresh address asks for work three times (bounded).
    let mut sybil_leases: Vec<(&Node, Lease)> = Vec::new();
    let mut refused = 0;
    for s in &registered {
        for _ in 0..3 {
            let r = s.try_lease().await;
            if r.status() == StatusCode::OK {
                sybil_leases.push((s, r.json().await.unwrap()));
            } else {
                let (status, e) = error_of(r).await;
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{}", e.error.message);
                refused += 1;
            }
        }
    }
    assert_eq!(sybil_leases.len(), PROBATION_SHARE as usize, "{refused} refused");
    for (_, l) in &sybil_leases {
        assert!(matches!(l.job, JobSpec::Matmul { m: 64, n: 64, k: 64, .. }), "{:?}", l.job);
    }
    // The established node still gets its full share, at its own size.
    let mut honest_leases = Vec::new();
    for _ in 0..4 {
        let lease = honest.lease().await;
        assert!(matches!(lease.job, JobSpec::Matmul { m: 128, .. }), "{:?}", lease.job);
        honest_leases.push(lease);
    }
    let net: NetworkStatus = reqwest::get(format!("{}/v1/network", handle.url())).await.unwrap().json().await.unwrap();
    assert_eq!(net.active_leases, (PROBATION_SHARE + 4) as u64);
    let share = f64::from(PROBATION_SHARE) / net.active_leases as f64;
    println!(
        "sybil flood: {} of 200 registered, {} leases of {} open ({:.0} %), {refused} lease requests refused",
        registered.len(),
        sybil_leases.len(),
        net.active_leases,
        share * 100.0
    );

    // Forged results are not paid: zeros (no work), and the honest C with one entry
    // changed. (Cancelling forgeries are the verifier's own tests, protocol/src/verify.rs.)
    let (first, rest) = sybil_leases.split_first().unwrap();
    for (i, (s, l)) in rest.iter().enumerate() {
        let mut c = vec![0.0f32; l.job.result_len()];
        if i % 2 == 1 {
            c = compute(&l.job);
            c[i] += 1000.0;
        }
        let (status, e) = error_of(s.submit(l, &ResultSubmission::new(&c)).await).await;
        assert_eq!((status, e.error.kind), (StatusCode::UNPROCESSABLE_ENTITY, ErrorKind::ResultRejected));
        assert_eq!(s.balance().await.verified, TokenAmount::ZERO);
    }
    // Honest work on probation is credited but held: not withdrawable.
    let (s, l) = first;
    assert_eq!(s.submit(l, &ResultSubmission::new(&compute(&l.job))).await.status(), StatusCode::OK);
    let b = s.balance().await;
    assert_eq!((b.verified, b.withdrawable), (l.reward, TokenAmount::ZERO));
    let (status, e) = error_of(s.post("/v1/withdrawals", withdrawal(s, l.reward)).await).await;
    assert_eq!((status, e.error.kind), (StatusCode::FORBIDDEN, ErrorKind::Forbidden), "{}", e.error.message);
    assert!(e.error.message.contains("held"), "{}", e.error.message);
    assert_eq!(s.balance().await.verified, l.reward);
    // The established node's earnings are withdrawable.
    assert!(honest.balance().await.withdrawable > TokenAmount::ZERO);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn a_request_flood_from_one_range_is_cut_off_and_other_ranges_are_served() {
    let config =
        Config { limits: Limits { range_rate_per_s: 0.5, range_burst: 10.0, ..Limits::default() }, ..test_config() };
    let handle = start(config).await;
    let flood = Node::from_ip(&handle, 1, ip(77, 1));
    let mut limited = 0;
    for _ in 0..40 {
        let r = flood.http.get(format!("{}/v1/network", handle.url())).send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
            let (_, e) = error_of(r).await;
            assert_eq!(e.error.kind, ErrorKind::RateLimited);
            limited += 1;
        }
    }
    assert!(limited >= 25, "{limited} of 40 limited");
    // Another address of the same /24 shares the budget; another /24 does not.
    let neighbour = Node::from_ip(&handle, 2, ip(77, 2));
    let r = neighbour.http.get(format!("{}/v1/network", handle.url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = Node::from_ip(&handle, 3, ip(78, 1));
    let r = other.http.get(format!("{}/v1/network", handle.url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    util::client::stop(handle).await;
}
