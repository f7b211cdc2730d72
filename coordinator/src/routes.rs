//! The `/v1` handlers (DESIGN §3). Signed calls read the raw body (its hash is part
//! of the signature), authenticate, then parse it; every failure is an [`ApiError`]
//! with a reason, and nothing is written before a request is fully checked. A result
//! (the one large body) is authenticated from its headers and its lease first, and
//! then at most the bytes its lease allows are read.

use alloy::primitives::{Address, B128};
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::auth::now_ms;
use idlewatt_protocol::wire::{
    AccountBalance, ErrorKind, JobSpec, Lease, LeaseRequest, NetworkStatus, NodeRegistration, Registered, ResultStatus,
    ResultSubmission, SubmissionOutcome,
};
use serde::de::DeserializeOwned;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::frontdoor::SourceRange;
use crate::probation;
use crate::server::AppState;
use crate::sizing;
use crate::store::{self, LeaseInfo};
use crate::work::{self, LeaseMarks, NewJob};

/// Body limit of job submissions (embeddings carry their texts).
const JOB_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Seeds stay below 2⁵³ so JSON parsers everywhere read them exactly.
const SEED_MASK: u64 = (1 << 53) - 1;

/// The router, with per-route body limits.
pub(crate) fn router(state: AppState) -> Router {
    let small = state.config.small_body_limit;
    Router::new()
        .route("/v1/nodes", post(register).layer(DefaultBodyLimit::max(small)))
        .route("/v1/leases", post(lease).get(crate::own_leases::mine).layer(DefaultBodyLimit::max(small)))
        // The result handler caps its body itself, at what the lease allows.
        .route("/v1/leases/{id}/result", post(submit_result).layer(DefaultBodyLimit::disable()))
        .route("/v1/leases/{id}/release", post(crate::own_leases::release).layer(DefaultBodyLimit::max(small)))
        .route("/v1/accounts/{address}", get(account))
        .route("/v1/withdrawals", post(crate::withdrawals::create).layer(DefaultBodyLimit::max(small)))
        .route("/v1/withdrawals/{id}", get(crate::withdrawals::get))
        .route("/v1/accounts/{address}/withdrawals", get(crate::withdrawals::list))
        .route("/v1/deposits/{tx_hash}", get(crate::deposits::by_tx))
        .route("/v1/accounts/{address}/deposits", get(crate::deposits::by_sender))
        .route("/v1/network", get(network))
        // The demand side (DESIGN §3 "Clients").
        .route(
            "/v1/keys",
            post(crate::clients::create_key).get(crate::clients::list_keys).layer(DefaultBodyLimit::max(small)),
        )
        .route("/v1/keys/{id}", axum::routing::delete(crate::clients::revoke_key))
        .route("/v1/faucet", post(crate::clients::faucet).layer(DefaultBodyLimit::max(small)))
        .route("/v1/clients/{address}", get(crate::clients::account))
        .route("/v1/deposit", get(crate::clients::deposit_info))
        .route("/v1/prices", get(crate::clients::prices))
        .route(
            "/v1/blobs/{sha256}",
            // The upload handler authenticates first and caps its body itself.
            put(crate::blobs::put).get(crate::blobs::get).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/jobs",
            post(crate::jobs_api::submit).get(crate::jobs_api::list).layer(DefaultBodyLimit::max(JOB_BODY_LIMIT)),
        )
        .route("/v1/jobs/{id}", get(crate::jobs_api::get).delete(crate::jobs_api::cancel))
        .route("/v1/jobs/{id}/result", get(crate::jobs_api::result))
        .route("/v1/models", get(crate::openai_api::models))
        .route("/v1/embeddings", post(crate::openai_api::embeddings).layer(DefaultBodyLimit::max(JOB_BODY_LIMIT)))
        .route("/v1/models/{sha256}/{*file}", get(crate::embed::files::get_file))
        .fallback(|| async { ApiError::not_found("no such endpoint (see /v1/network)") })
        .with_state(state)
}

pub(crate) fn body(b: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    b.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorKind::PayloadTooLarge, "request body too large")
        } else {
            ApiError::bad_request(format!("could not read the body: {}", e.body_text()))
        }
    })
}

pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))
}

pub(crate) fn random_id() -> Result<String, ApiError> {
    B128::try_random().map(alloy::hex::encode).map_err(ApiError::internal)
}

fn random_u64() -> Result<u64, ApiError> {
    let b = alloy::primitives::B64::try_random().map_err(ApiError::internal)?;
    Ok(u64::from_be_bytes(b.0))
}

async fn register(
    State(st): State<AppState>,
    SourceRange(range): SourceRange,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Registered>, ApiError> {
    let bytes = body(bytes)?;
    let who = authenticate(&st, &method, &uri, &headers, &bytes).await?;
    let reg: NodeRegistration = parse(&bytes)?;
    if reg.address != who {
        return Err(ApiError::forbidden(format!(
            "the body registers {} but the request is signed by {who}",
            reg.address
        )));
    }
    let h = &reg.hardware;
    for (name, s) in [
        ("adapter", &h.adapter),
        ("backend", &h.backend),
        ("device_type", &h.device_type),
        ("app_version", &reg.app_version),
    ] {
        if s.len() > 256 {
            return Err(ApiError::bad_request(format!("{name} is longer than 256 bytes")));
        }
    }
    if !(h.benchmark_gflops.is_finite() && h.benchmark_gflops >= 0.0 && h.benchmark_gflops <= 1e7) {
        return Err(ApiError::bad_request("benchmark_gflops must be a number in 0..=1e7"));
    }
    let now = now_ms();
    probation::admit_registration(&st.db, &st.config.limits, who, &range, now).await?;
    store::upsert_node(&st.db, &reg, &range, now).await?;
    tracing::info!(node = %who, adapter = %h.adapter, gflops = h.benchmark_gflops, %range, "node registered");
    Ok(Json(Registered {
        address: who,
        max_open_leases: st.config.max_leases_per_node,
        reward_per_tflop: st.config.reward_per_tflop,
    }))
}

async fn lease(
    State(st): State<AppState>,
    SourceRange(range): SourceRange,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Lease>, ApiError> {
    let bytes = body(bytes)?;
    let who = authenticate(&st, &method, &uri, &headers, &bytes).await?;
    let req: LeaseRequest = parse(&bytes)?;
    let now = now_ms();
    let cfg = &st.config;
    let window_start = now - i64::try_from(cfg.bad_result_window.as_millis()).unwrap_or(i64::MAX);
    let standing = store::node_standing(&st.db, who, window_start)
        .await?
        .ok_or_else(|| ApiError::forbidden("this address is not registered: POST /v1/nodes first"))?;
    let bad = standing.bad_results;
    if bad >= i64::from(cfg.bad_result_limit) {
        let last_reason = store::last_rejection(&st.db, who).await?;
        let msg = format!(
            "{bad} results failed verification in the last {} h (latest: {}); this node gets no more work until they age out",
            cfg.bad_result_window.as_secs() / 3600,
            last_reason.as_deref().unwrap_or("unknown")
        );
        tracing::warn!(node = %who, bad, "node refused work");
        return Err(ApiError::new(StatusCode::FORBIDDEN, ErrorKind::NodeRefused, msg));
    }
    // Overdue leases are expired (and their jobs reopened) by the server's sweeper.
    let open = standing.open_leases;
    if open >= i64::from(cfg.max_leases_per_node) {
        return Err(ApiError::rate_limited(
            format!("this node already holds {open} leases (at most {})", cfg.max_leases_per_node),
            5,
        ));
    }
    let probation = probation::on_probation(&st.db, &cfg.limits, who).await?;
    probation::admit_lease(&st.db, &cfg.limits, &range, probation, open).await?;
    let node = standing.info;
    let max_dim = match probation {
        Some(_) => req.limits.max_dim.min(cfg.limits.probation_job_dim),
        None => req.limits.max_dim,
    };
    let limits = idlewatt_protocol::wire::NodeLimits {
        max_dim,
        max_buffer_bytes: req.limits.max_buffer_bytes.min(node.max_buffer_bytes),
    };
    // On probation the job is at most the probation size, whatever the bounds say.
    let (min_dim, fixed) = match probation {
        Some(_) => (cfg.min_job_dim.min(max_dim.max(1)), cfg.fixed_job_dim.map(|d| d.min(max_dim.max(1)))),
        None => (cfg.min_job_dim, cfg.fixed_job_dim),
    };
    let dim = sizing::job_dim(node.benchmark_gflops, cfg.target_job_seconds, min_dim, cfg.max_job_dim, fixed, limits)
        .map_err(|e| ApiError::bad_request(e.0))?;
    let seed = match &cfg.job_seeds {
        Some(seeds) if !seeds.is_empty() => seeds[(random_u64()? % seeds.len() as u64) as usize],
        _ => random_u64()? & SEED_MASK,
    };
    let spec = JobSpec::Matmul { m: dim, n: dim, k: dim, seed, precision: idlewatt_protocol::Precision::F32 };
    // Calibration pays the list price from the operator's own budget (no fee).
    let reward = TokenAmount::for_flops(spec.flops(), cfg.reward_per_tflop)
        .ok_or_else(|| ApiError::internal("reward overflow"))?;
    let lease_id = random_id()?;
    let deadline = now + i64::try_from(cfg.lease_duration.as_millis()).unwrap_or(i64::MAX / 2);
    let calibration = NewJob { id: random_id()?, spec, reward };
    let part_id = random_id()?;
    let marks = LeaseMarks { source_range: &range, probation: probation.is_some() };
    work::prepare_embeddings(&st.db, &st.models).await?;
    let embeddings = work::EmbeddingsSource { models: &st.models, layout_seed: random_u64()? };
    let issued =
        work::issue(&st.db, cfg, who, node, &lease_id, &part_id, limits, now, deadline, calibration, marks, embeddings)
            .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::NoPaidWork,
                "no paid work right now: no client job is waiting and this network has no calibration budget; ask again later",
            )
        })?;
    tracing::info!(node = %who, lease = %lease_id, job = %issued.job_id, ?issued.spec, probation = probation.is_some(), "lease issued");
    // Work does not spend the request budget.
    st.limiter.refund(&who);
    Ok(Json(Lease {
        lease_id,
        job_id: issued.job_id,
        job: issued.spec,
        issued_at_ms: now,
        deadline_ms: deadline,
        reward: issued.reward,
    }))
}

/// The answer recorded for a judged lease, repeated for every identical resubmission.
fn recorded_outcome(lease: &LeaseInfo, digest: &str) -> Result<Json<SubmissionOutcome>, ApiError> {
    match lease.status.as_str() {
        "verified" => Ok(Json(SubmissionOutcome {
            lease_id: lease.id.clone(),
            job_id: lease.job_id.clone(),
            status: ResultStatus::Verified,
            reward: lease.reward,
            c_sha256: digest.to_owned(),
        })),
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::ResultRejected,
            format!("result failed verification: {}", lease.reason.as_deref().unwrap_or("unknown")),
        )),
    }
}

async fn submit_result(
    State(st): State<AppState>,
    Path(lease_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<SubmissionOutcome>, ApiError> {
    // Headers first: the signature over the declared body hash, the nonce and budget.
    let (who, auth) = crate::auth::check_signature(&method, &uri, &headers, None)?;
    crate::auth::admit(&st, who, &auth).await?;
    if lease_id.len() > 64 {
        return Err(ApiError::not_found("no such lease"));
    }
    // Then the lease: it must exist and be the signer's, and it says how big C is.
    let lease = store::lease(&st.db, &lease_id).await?.ok_or_else(|| ApiError::not_found("no such lease"))?;
    if lease.node != store::addr(who) {
        return Err(ApiError::forbidden("this lease belongs to another node"));
    }
    let cap = crate::config::result_body_limit_for(lease.spec.result_len());
    let bytes = crate::body::read_capped(body, &headers, cap).await?;
    if Some(idlewatt_protocol::auth::body_sha256(&bytes)) != auth.body_sha256 {
        return Err(crate::auth::body_mismatch());
    }
    let sub: ResultSubmission = parse(&bytes)?;
    drop(bytes);
    let claimed = sub.c_sha256.trim().to_ascii_lowercase();
    if lease.status == "verified" || lease.status == "rejected" {
        st.limiter.refund(&who);
        return if lease.result_sha256.as_deref() == Some(claimed.as_str()) {
            recorded_outcome(&lease, &claimed)
        } else {
            Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorKind::Conflict,
                "a different result was already submitted for this lease",
            ))
        };
    }
    let withdrawn = match lease.status.as_str() {
        "released" => Some("this node released the lease; the job went back to the pool".to_owned()),
        "cancelled" => {
            Some(format!("this lease was withdrawn: {}", lease.reason.as_deref().unwrap_or("its job ended")))
        }
        _ => None,
    };
    if let Some(message) = withdrawn {
        return Err(ApiError::new(StatusCode::GONE, ErrorKind::LeaseExpired, message));
    }
    let now = now_ms();
    if lease.status == "expired" || now > lease.deadline_ms {
        store::expire_lease(&st.db, &lease, now).await?;
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorKind::LeaseExpired,
            "the lease's deadline passed; the job went to another node",
        ));
    }
    let spec = lease.spec.clone();
    let (c, digest) = sub.decode(spec.result_len()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let rounds = st.config.verify_rounds;
    let rng_seed = random_u64()?;
    let data = st.data.clone();
    let part_id = lease.job_id.clone();
    let models = st.models.clone();
    let layout = lease.layout_json.clone();
    // An embeddings result is compared with other nodes' when its check is not final.
    let rows = matches!(spec, JobSpec::Embeddings(_)).then(|| c.clone());
    let verdict = tokio::task::spawn_blocking(move || {
        let part = crate::verification::Part { spec: &spec, layout: layout.as_deref() };
        let verdict = crate::verification::judge(&data, &models, part, c, rounds, rng_seed)?;
        // A client's verified block is kept before the verdict is recorded.
        Ok::<_, crate::verification::JudgeError>(match verdict {
            Ok(Some(block)) => {
                crate::results::store_block(&data, &part_id, &block)
                    .map_err(|e| crate::verification::JudgeError::Store(e.to_string()))?;
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(reason) => Err(reason),
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let verdict = match &rows {
        Some(rows) => {
            crate::second_opinion::settle(&st.db, &st.data, &lease, rows, verdict).await.map_err(ApiError::internal)?
        }
        None => verdict,
    };
    let now = now_ms();
    let recorded = match &verdict {
        Ok(()) => work::record_verified(&st.db, &lease, &digest, now).await?,
        Err(e) => {
            work::record_rejected(&st.db, &lease, &digest, &e.to_string(), st.config.max_part_attempts, now).await?
        }
    };
    // Lost a race with a concurrent submission: answer from what was recorded.
    let lease = if recorded {
        LeaseInfo {
            status: if verdict.is_ok() { "verified" } else { "rejected" }.to_owned(),
            reason: verdict.as_ref().err().map(ToString::to_string),
            result_sha256: Some(digest.clone()),
            ..lease
        }
    } else {
        let l = store::lease(&st.db, &lease_id).await?.ok_or_else(|| ApiError::internal("lease vanished"))?;
        if l.status == "cancelled" {
            return Err(ApiError::new(
                StatusCode::GONE,
                ErrorKind::LeaseExpired,
                format!("this lease was withdrawn: {}", l.reason.as_deref().unwrap_or("its job ended")),
            ));
        }
        if l.result_sha256.as_deref() != Some(digest.as_str()) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorKind::Conflict,
                "a different result was already submitted for this lease",
            ));
        }
        l
    };
    match &verdict {
        Ok(()) => tracing::info!(node = %who, lease = %lease_id, reward = %lease.reward, "result verified"),
        Err(e) => tracing::warn!(node = %who, lease = %lease_id, reason = %e, "result rejected"),
    }
    // A judged result is work: it does not spend the request budget.
    st.limiter.refund(&who);
    recorded_outcome(&lease, &digest)
}

/// Balances are public; the job history (lease ids, seeds of open leases) only to the
/// account's owner, in a GET signed by it.
async fn account(
    State(st): State<AppState>,
    Path(address): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<AccountBalance>, ApiError> {
    let who: Address = address.parse().map_err(|e| ApiError::bad_request(format!("not an address: {e}")))?;
    let owner = if crate::auth::is_signed(&headers) {
        authenticate(&st, &method, &uri, &headers, b"").await? == who
    } else {
        false
    };
    let b = store::balances(&st.db, who).await?;
    let recent_jobs = if owner { store::recent_jobs(&st.db, who, 20).await? } else { Vec::new() };
    // Earnings of an address on probation are held: verified, not yet withdrawable.
    let held = probation::on_probation(&st.db, &st.config.limits, who).await?.is_some();
    Ok(Json(AccountBalance {
        address: who,
        pending: b.pending,
        verified: b.verified,
        withdrawable: if held { TokenAmount::ZERO } else { b.withdrawable },
        recent_jobs,
    }))
}

async fn network(State(st): State<AppState>) -> Result<Json<NetworkStatus>, ApiError> {
    let window = st.config.online_window;
    let since = now_ms() - i64::try_from(window.as_millis()).unwrap_or(i64::MAX / 2);
    let (open, active, online) = store::network(&st.db, since).await?;
    let paid_jobs_waiting = crate::client_store::jobs_waiting(&st.db).await?;
    let books = {
        let mut conn = st.db.acquire().await?;
        crate::ledger::books(&mut conn).await?
    };
    let n = |x: i64| u64::try_from(x).unwrap_or(0);
    Ok(Json(NetworkStatus {
        open_jobs: n(open),
        active_leases: n(active),
        nodes_online: n(online),
        online_window_s: window.as_secs(),
        reward_per_tflop: st.config.reward_per_tflop,
        chain_id: crate::withdrawals::chain_id(&st),
        token_symbol: st.config.token_symbol.clone(),
        token_address: st.config.chain.as_ref().map(|c| c.token),
        devnet: st.config.chain.is_none(),
        min_withdrawal: st.config.min_withdrawal,
        paid_jobs_waiting,
        calibration_budget: st.config.bootstrap_budget > TokenAmount::ZERO,
        books: Some(books),
    }))
}
