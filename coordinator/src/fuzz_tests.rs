//! Fuzzing every JSON body the coordinator parses (issue 11): random bytes, valid
//! bodies with random edits, and well-formed JSON with hostile values, signed (so the
//! parser is reached) and unsigned, through the real router and front-door layers with
//! `tower::ServiceExt::oneshot`. Never a 5xx, never a panic, always the JSON error
//! shape. Bounded (a few dozen cases per body) so it runs in seconds inside
//! `cargo test`; `PROPTEST_CASES` runs more.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use idlewatt_protocol::auth::sign_request_with_key;
use idlewatt_protocol::wire::{ErrorBody, Lease};
use proptest::prelude::*;
use tower::ServiceExt as _;

use crate::config::Config;
use crate::ratelimit::RateLimiter;
use crate::server::AppState;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn app() -> Router {
    let config = Config {
        fixed_job_dim: Some(16),
        min_job_dim: 16,
        bootstrap_budget: crate::DEVNET_BOOTSTRAP_BUDGET,
        ..Config::default()
    };
    let db = crate::store::connect(&config.database).await.unwrap();
    // What `server::start` does for a calibration budget: leases have paid work.
    let mut conn = db.acquire().await.unwrap();
    crate::ledger::top_up_bootstrap(&mut conn, config.bootstrap_budget, idlewatt_protocol::auth::now_ms())
        .await
        .unwrap();
    drop(conn);
    let data = crate::datadir::DataDir::open(None, &config.database).unwrap();
    let state = AppState {
        data,
        models: Arc::new(crate::embed::registry::ModelRegistry::load(&[]).unwrap()),
        db,
        limiter: Arc::new(RateLimiter::new(1e9, 1e9)),
        range_limiter: Arc::new(RateLimiter::new(1e9, 1e9)),
        config: Arc::new(config),
        chain: None,
        payouts: None,
    };
    crate::frontdoor::wrap(crate::routes::router(state.clone()), &state)
}

fn key() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).unwrap()
}

async fn send(app: &Router, method: &str, path: &str, body: Vec<u8>, signed: bool) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if signed {
        for (k, v) in sign_request_with_key(&key(), method, path, &body).unwrap().to_pairs() {
            req = req.header(k, v);
        }
    }
    let resp = app.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let status = resp.status();
    (status, axum::body::to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec())
}

/// A registered node with one lease; returns the lease id.
async fn setup(app: &Router) -> String {
    let reg = format!(
        r#"{{"address":"{}","hardware":{{"adapter":"a","backend":"b","device_type":"c","max_buffer_bytes":1048576,"benchmark_gflops":1.0}},"app_version":"1"}}"#,
        key().address()
    );
    assert_eq!(send(app, "POST", "/v1/nodes", reg.into_bytes(), true).await.0, StatusCode::OK);
    let (s, b) =
        send(app, "POST", "/v1/leases", br#"{"limits":{"max_dim":64,"max_buffer_bytes":1048576}}"#.to_vec(), true)
            .await;
    assert_eq!(s, StatusCode::OK);
    serde_json::from_slice::<Lease>(&b).unwrap().lease_id
}

/// Valid bodies of each route, to mutate.
fn seeds(lease: &str) -> Vec<(&'static str, String, String)> {
    let addr = key().address();
    vec![
        (
            "POST",
            "/v1/nodes".into(),
            format!(
                r#"{{"address":"{addr}","hardware":{{"adapter":"a","backend":"b","device_type":"c","max_buffer_bytes":1048576,"benchmark_gflops":1.0}},"app_version":"1"}}"#
            ),
        ),
        ("POST", "/v1/leases".into(), r#"{"limits":{"max_dim":64,"max_buffer_bytes":1048576}}"#.into()),
        (
            "POST",
            format!("/v1/leases/{lease}/result"),
            format!(r#"{{"encoding":"f32le-base64","c":"{}","c_sha256":"{}"}}"#, "AAAA".repeat(256), "0".repeat(64)),
        ),
        ("POST", format!("/v1/leases/{lease}/release"), "{}".into()),
        (
            "POST",
            "/v1/withdrawals".into(),
            format!(
                r#"{{"to":"{addr}","amount":"1000000000000000000","nonce":1,"chain_id":0,"signature":"0x{}"}}"#,
                "ab".repeat(65)
            ),
        ),
    ]
}

/// Hostile JSON values for any field.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        Just("-1".to_owned()),
        Just("1e309".to_owned()),
        Just("340282366920938463463374607431768211456".to_owned()),
        Just("\"340282366920938463463374607431768211455\"".to_owned()),
        Just("\"\\ud800\"".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        any::<i64>().prop_map(|x| x.to_string()),
        any::<f64>().prop_map(|x| format!("{x:?}")),
        "[ -~]{0,40}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ]
}

fn check(status: StatusCode, body: &[u8], what: &str) {
    assert!(!status.is_server_error(), "{what}: {status} {}", String::from_utf8_lossy(body));
    if !status.is_success() {
        assert!(
            serde_json::from_slice::<ErrorBody>(body).is_ok(),
            "{what}: not an error body: {}",
            String::from_utf8_lossy(body)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_break_a_route(route in 0usize..5, body in prop::collection::vec(any::<u8>(), 0..300), signed in any::<bool>()) {
        runtime().block_on(async {
            let app = app().await;
            let lease = setup(&app).await;
            let (method, path, _) = seeds(&lease).swap_remove(route);
            let (status, out) = send(&app, method, &path, body, signed).await;
            check(status, &out, &path);
        });
    }

    #[test]
    fn edited_valid_bodies_never_break_a_route(
        route in 0usize..5,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        runtime().block_on(async {
            let app = app().await;
            let lease = setup(&app).await;
            let (method, path, body) = seeds(&lease).swap_remove(route);
            let mut body = body.into_bytes();
            for (at, byte) in edits {
                let i = at.index(body.len());
                body[i] = byte;
            }
            if truncate {
                body.truncate(cut.index(body.len() + 1));
            }
            let (status, out) = send(&app, method, &path, body, true).await;
            check(status, &out, &path);
        });
    }

    #[test]
    fn hostile_values_in_well_formed_bodies_never_break_a_route(route in 0usize..5, field in 0usize..4, value in hostile()) {
        runtime().block_on(async {
            let app = app().await;
            let lease = setup(&app).await;
            let (method, path, body) = seeds(&lease).swap_remove(route);
            // Replace the `field`-th scalar value of the body with the hostile one.
            let mut json: serde_json::Value = serde_json::from_str(&body).unwrap();
            fn scalars(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
                match v {
                    serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| scalars(x, format!("{at}/{k}"), out)),
                    serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| scalars(x, format!("{at}/{i}"), out)),
                    _ => out.push(at),
                }
            }
            let mut found = Vec::new();
            scalars(&json, String::new(), &mut found);
            let text = match found.get(field % found.len().max(1)).and_then(|p| json.pointer_mut(p)) {
                Some(slot) => {
                    *slot = serde_json::from_str(&value).unwrap_or(serde_json::Value::Null);
                    serde_json::to_string(&json).unwrap()
                }
                None => value.clone(),
            };
            let (status, out) = send(&app, method, &path, text.into_bytes(), true).await;
            check(status, &out, &path);
        });
    }
}
