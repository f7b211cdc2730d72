//! Payouts on a real chain: each test starts its own anvil (npm `@foundry-rs/anvil`,
//! installed by `scripts/setup`) on a free loopback port, deploys OpenZeppelin's ERC-20
//! from its npm artifact, funds a treasury, and runs a real coordinator that pays
//! signed withdrawals from it. Nodes earn by computing real results on the CPU. What
//! is checked is what the chain says: `balanceOf`, `Transfer` logs, receipts.
//!
//! Scenarios: earn → withdraw → `balanceOf(to)` rises by exactly the amount; the same
//! withdrawal twice pays once; forged, wrong-chain, overdrawn, bad-checksum and
//! too-small withdrawals are refused with nothing debited; concurrent withdrawals
//! cannot overdraw; a low treasury fails clearly with nothing debited; a transfer the
//! token refuses (paused) fails with its reason and is credited back; a coordinator
//! killed between broadcast and recording pays exactly once after its restart; a chain
//! that goes away leaves the withdrawal queued, and it completes when the chain returns.

#![allow(clippy::unwrap_used)]

mod util;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use idlewatt_coordinator::chain::TreasuryKey;
use idlewatt_coordinator::devchain::{self, Anvil, DEV_CHAIN_ID, DEV_KEYS};
use idlewatt_coordinator::{ChainConfig, Config};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::wire::{ErrorKind, ResultSubmission};
use idlewatt_protocol::withdrawal::{
    Withdrawal, WithdrawalInfo, WithdrawalRequest, WithdrawalStatus, withdrawal_domain,
};
use reqwest::StatusCode;
use util::{Node, compute, error_of, start, test_config};

/// One 64³ job earns 2·64³ FLOPs × 10⁶ tokens/TFLOP = 0.524288 tokens.
const PER_TFLOP: TokenAmount = TokenAmount(1_000_000 * 1_000_000_000_000_000_000);
const ONE_JOB: TokenAmount = TokenAmount(524_288_000_000_000_000);

fn tokens(x: f64) -> TokenAmount {
    TokenAmount((x * 1e18) as u128)
}

/// A chain with a token and a treasury holding `supply` (account 0 of anvil).
async fn chain_with_token(supply: TokenAmount) -> (Anvil, Address) {
    let anvil = Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let t = devchain::setup(&anvil.url(), U256::from(supply.0)).await.unwrap();
    (anvil, t.token)
}

fn chain_config(rpc: &str, token: Address, treasury_key: &str) -> ChainConfig {
    let mut c = ChainConfig::new(rpc, DEV_CHAIN_ID, token, TreasuryKey::from_hex(treasury_key, "test").unwrap());
    c.poll_interval = Duration::from_millis(100);
    c.max_backoff = Duration::from_millis(800);
    c
}

fn config_with_chain(chain: ChainConfig) -> Config {
    Config { reward_per_tflop: PER_TFLOP, min_withdrawal: tokens(0.01), chain: Some(chain), ..test_config() }
}

/// Earns `jobs` verified results.
async fn earn(node: &Node, jobs: usize) {
    node.register().await;
    for _ in 0..jobs {
        let lease = node.lease().await;
        let r = node.submit(&lease, &ResultSubmission::new(&compute(&lease.job))).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
}

/// A withdrawal request signed (EIP-712) by `key`.
fn signed(key: &PrivateKeySigner, to: Address, amount: TokenAmount, nonce: u64, chain_id: u64) -> WithdrawalRequest {
    let typed = Withdrawal { to, amount: U256::from(amount.0), nonce, chainId: chain_id };
    let sig = key.sign_typed_data_sync(&typed, &withdrawal_domain(chain_id)).unwrap();
    WithdrawalRequest {
        to: to.to_checksum(None),
        amount,
        nonce,
        chain_id,
        signature: alloy::hex::encode_prefixed(sig.as_bytes()),
    }
}

async fn post_withdrawal(node: &Node, req: &WithdrawalRequest) -> reqwest::Response {
    node.post("/v1/withdrawals", serde_json::to_vec(req).unwrap()).await
}

async fn get_withdrawal(node: &Node, id: &str) -> WithdrawalInfo {
    let r = node.http.get(format!("{}/v1/withdrawals/{id}", node.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn list_withdrawals(node: &Node) -> Vec<WithdrawalInfo> {
    let r = node.http.get(format!("{}/v1/accounts/{}/withdrawals", node.base, node.address())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Polls until the withdrawal is final (or panics after `secs`).
async fn until_final(node: &Node, id: &str, secs: u64) -> WithdrawalInfo {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let w = get_withdrawal(node, id).await;
        if w.status.is_final() {
            return w;
        }
        assert!(Instant::now() < deadline, "withdrawal still {:?} after {secs} s: {w:?}", w.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn payee(n: u8) -> Address {
    Address::repeat_byte(0xa0 + n)
}

async fn on_chain(rpc: &str, token: Address, who: Address) -> U256 {
    devchain::balance_of(rpc, token, who).await.unwrap()
}

#[tokio::test]
async fn a_node_earns_withdraws_and_balance_of_rises_by_exactly_the_amount() {
    let (anvil, token) = chain_with_token(TokenAmount::tokens(1000)).await;
    let handle = start(config_with_chain(chain_config(&anvil.url(), token, DEV_KEYS[0]))).await;
    let node = Node::new(&handle, 11);
    earn(&node, 2).await;
    let earned = node.balance().await.withdrawable;
    assert_eq!(earned, TokenAmount(2 * ONE_JOB.0));

    let to = payee(1);
    let amount = tokens(0.75);
    let r = post_withdrawal(&node, &signed(&node.key, to, amount, 1, DEV_CHAIN_ID)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let w: WithdrawalInfo = r.json().await.unwrap();
    assert_eq!((w.to, w.amount, w.nonce, w.devnet), (to, amount, 1, false));
    // Debited at once: the ledger never shows money that is on its way out.
    assert_eq!(node.balance().await.withdrawable, TokenAmount(earned.0 - amount.0));

    let done = until_final(&node, &w.id, 30).await;
    assert_eq!(done.status, WithdrawalStatus::Confirmed, "{done:?}");
    assert_eq!(on_chain(&anvil.url(), token, to).await, U256::from(amount.0));
    let transfers = devchain::transfers_to(&anvil.url(), token, to).await.unwrap();
    assert_eq!(transfers, vec![(done.tx_hash.unwrap(), U256::from(amount.0))]);
    assert!(done.block.is_some_and(|b| b > 0));
    assert_eq!(node.balance().await.withdrawable, TokenAmount(earned.0 - amount.0));
    let listed = list_withdrawals(&node).await;
    assert_eq!(listed, vec![done]);
    // The network says where it pays.
    let net: idlewatt_protocol::wire::NetworkStatus =
        node.http.get(format!("{}/v1/network", node.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!((net.chain_id, net.token_address, net.devnet), (DEV_CHAIN_ID, Some(token), false));
    util::client::stop(handle).await;
}

#[tokio::test]
async fn a_double_submitted_withdrawal_pays_once() {
    let (anvil, token) = chain_with_token(TokenAmount::tokens(1000)).await;
    let handle = start(config_with_chain(chain_config(&anvil.url(), token, DEV_KEYS[0]))).await;
    let node = Node::new(&handle, 12);
    earn(&node, 2).await;
    let to = payee(2);
    let req = signed(&node.key, to, tokens(0.5), 7, DEV_CHAIN_ID);
    // The same signed withdrawal, twice at once and once more later (fresh request
    // signatures each time, as a retrying client sends them).
    let (a, b) = tokio::join!(post_withdrawal(&node, &req), post_withdrawal(&node, &req));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED]);
    let (wa, wb): (WithdrawalInfo, WithdrawalInfo) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(wa.id, wb.id);
    let done = until_final(&node, &wa.id, 30).await;
    assert_eq!(done.status, WithdrawalStatus::Confirmed);
    let again = post_withdrawal(&node, &req).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<WithdrawalInfo>().await.unwrap(), done);
    // The same nonce for a different withdrawal is a conflict, not a second payment.
    let other = signed(&node.key, to, tokens(0.25), 7, DEV_CHAIN_ID);
    let (status, body) = error_of(post_withdrawal(&node, &other).await).await;
    assert_eq!((status, body.error.kind), (StatusCode::CONFLICT, ErrorKind::Conflict));

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(on_chain(&anvil.url(), token, to).await, U256::from(tokens(0.5).0));
    assert_eq!(devchain::transfers_to(&anvil.url(), token, to).await.unwrap().len(), 1);
    assert_eq!(node.balance().await.withdrawable, TokenAmount(2 * ONE_JOB.0 - tokens(0.5).0));
    assert_eq!(list_withdrawals(&node).await.len(), 1);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn forged_wrong_chain_overdrawn_and_malformed_withdrawals_are_refused_with_nothing_debited() {
    let (anvil, token) = chain_with_token(TokenAmount::tokens(1000)).await;
    let handle = start(config_with_chain(chain_config(&anvil.url(), token, DEV_KEYS[0]))).await;
    let node = Node::new(&handle, 13);
    earn(&node, 1).await;
    let before = node.balance().await;
    let to = payee(3);
    let thief = PrivateKeySigner::random();

    // Signed by another key (the request itself is the node's).
    let forged = signed(&thief, to, tokens(0.1), 1, DEV_CHAIN_ID);
    let (status, body) = error_of(post_withdrawal(&node, &forged).await).await;
    assert_eq!((status, body.error.kind), (StatusCode::UNAUTHORIZED, ErrorKind::Unauthorized));
    assert!(body.error.message.contains("EIP-712"), "{}", body.error.message);
    // A valid signature, tampered amount.
    let mut tampered = signed(&node.key, to, tokens(0.1), 2, DEV_CHAIN_ID);
    tampered.amount = tokens(0.5);
    let (status, _) = error_of(post_withdrawal(&node, &tampered).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Signed for another chain.
    let (status, body) = error_of(post_withdrawal(&node, &signed(&node.key, to, tokens(0.1), 3, 1)).await).await;
    assert_eq!((status, body.error.kind), (StatusCode::BAD_REQUEST, ErrorKind::BadRequest));
    assert!(body.error.message.contains("chain id"), "{}", body.error.message);
    // More than the balance.
    let (status, body) =
        error_of(post_withdrawal(&node, &signed(&node.key, to, tokens(0.6), 4, DEV_CHAIN_ID)).await).await;
    assert_eq!((status, body.error.kind), (StatusCode::CONFLICT, ErrorKind::InsufficientBalance));
    assert!(body.error.message.contains("nothing was debited"), "{}", body.error.message);
    // Below the minimum.
    let (status, body) =
        error_of(post_withdrawal(&node, &signed(&node.key, to, tokens(0.001), 5, DEV_CHAIN_ID)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("smallest"), "{}", body.error.message);
    // A mistyped (bad checksum) address, even when signed.
    let mut typo = signed(&node.key, to, tokens(0.1), 6, DEV_CHAIN_ID);
    typo.to = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD".into();
    let (status, body) = error_of(post_withdrawal(&node, &typo).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.error.message.contains("checksum"), "{}", body.error.message);
    // Garbage.
    let r = node.post("/v1/withdrawals", b"{\"to\": 1}".to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let after = node.balance().await;
    assert_eq!(after.withdrawable, before.withdrawable);
    assert!(list_withdrawals(&node).await.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(devchain::transfers_to(&anvil.url(), token, to).await.unwrap().is_empty());
    util::client::stop(handle).await;
}

#[tokio::test]
async fn concurrent_withdrawals_cannot_overdraw() {
    let (anvil, token) = chain_with_token(TokenAmount::tokens(1000)).await;
    let handle = start(config_with_chain(chain_config(&anvil.url(), token, DEV_KEYS[0]))).await;
    let node = Node::new(&handle, 14);
    earn(&node, 2).await; // 1.048576 tokens
    let to = payee(4);
    let reqs: Vec<_> = (0..6).map(|n| signed(&node.key, to, tokens(0.3), 100 + n, DEV_CHAIN_ID)).collect();
    let answers = futures_join_all(&node, &reqs).await;
    let accepted = answers.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = answers.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((accepted, refused), (3, 3), "{answers:?}");
    let list = list_withdrawals(&node).await;
    for w in &list {
        assert_eq!(until_final(&node, &w.id, 30).await.status, WithdrawalStatus::Confirmed);
    }
    assert_eq!(on_chain(&anvil.url(), token, to).await, U256::from(3 * tokens(0.3).0));
    assert_eq!(node.balance().await.withdrawable, TokenAmount(2 * ONE_JOB.0 - 3 * tokens(0.3).0));
    util::client::stop(handle).await;
}

async fn futures_join_all(node: &Node, reqs: &[WithdrawalRequest]) -> Vec<StatusCode> {
    let mut set = tokio::task::JoinSet::new();
    for req in reqs {
        let (req, base, key) = (req.clone(), node.base.clone(), node.key.clone());
        set.spawn(async move {
            let n = Node { key, http: reqwest::Client::new(), base };
            post_withdrawal(&n, &req).await.status()
        });
    }
    set.join_all().await
}

#[tokio::test]
async fn a_low_treasury_fails_clearly_and_debits_nothing() {
    let (anvil, token) = chain_with_token(TokenAmount::tokens(1000)).await;
    // Account 1 has ETH for gas but none of the token.
    let handle = start(config_with_chain(chain_config(&anvil.url(), token, DEV_KEYS[1]))).await;
    let node = Node::new(&handle, 15);
    earn(&node, 1).await;
    let before = node.balance().await.withdrawable;
    let (status, body) =
        error_of(post_withdrawal(&node, &signed(&node.key, payee(5), tokens(0.2), 1, DEV_CHAIN_ID)).await).await;
    assert_eq!((status, body.error.kind), (StatusCode::SERVICE_UNAVAILABLE, ErrorKind::TreasuryLow));
    assert!(body.error.message.contains("nothing was debited"), "{}", body.error.message);
    assert_eq!(node.balance().await.withdrawable, before);
    assert!(list_withdrawals(&node).await.is_empty());
    util::client::stop(handle).await;
}

#[tokio::test]
async fn a_transfer_the_token_refuses_fails_with_the_reason_and_is_credited_back() {
    let (anvil, token) = chain_with_token(TokenAmount::tokens(1000)).await;
    let handle = start(config_with_chain(chain_config(&anvil.url(), token, DEV_KEYS[0]))).await;
    let node = Node::new(&handle, 19);
    earn(&node, 1).await;
    let before = node.balance().await.withdrawable;
    // A paused token reverts every transfer: the treasury has the tokens, the chain says no.
    devchain::pause(&anvil.url(), DEV_KEYS[0], token).await.unwrap();
    let r = post_withdrawal(&node, &signed(&node.key, payee(9), tokens(0.2), 1, DEV_CHAIN_ID)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let w: WithdrawalInfo = r.json().await.unwrap();
    let done = until_final(&node, &w.id, 30).await;
    assert_eq!(done.status, WithdrawalStatus::Failed, "{done:?}");
    let reason = done.reason.unwrap_or_default();
    assert!(reason.contains("refuses") && reason.contains("back in your balance"), "{reason}");
    assert_eq!(node.balance().await.withdrawable, before, "credited back in full");
    assert!(devchain::transfers_to(&anvil.url(), token, payee(9)).await.unwrap().is_empty());
    util::client::stop(handle).await;
}

/// The coordinator binary on `port` with `database`, paying from anvil account 0.
fn coordinator_process(
    port: u16,
    database: &std::path::Path,
    rpc: &str,
    token: Address,
    key_file: &std::path::Path,
    crash: bool,
) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idlewatt-coordinator"));
    cmd.args(["--listen", &format!("127.0.0.1:{port}"), "--database"])
        .arg(database)
        .args(["--fixed-job-dim", "64", "--reward-per-tflop", &PER_TFLOP.to_string()])
        .args(["--min-withdrawal", &tokens(0.01).to_string(), "--rate-limit", "1000", "--rate-burst", "1000"])
        // This test is about payouts, not probation: the node may withdraw at once.
        .args(["--probation-results", "0"])
        // The node's work is calibration work, paid from the operator's budget.
        .args(["--bootstrap-budget", "1000"])
        .args(["--chain-rpc-url", rpc, "--chain-id", &DEV_CHAIN_ID.to_string(), "--token-address", &token.to_string()])
        .arg("--treasury-key-file")
        .arg(key_file)
        .env_remove("IDLEWATT_TREASURY_KEY")
        // Warnings and the crash point's error only: the test output stays readable.
        .env("IDLEWATT_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if crash {
        cmd.env("IDLEWATT_CRASH_AFTER_BROADCAST", "1");
    } else {
        cmd.env_remove("IDLEWATT_CRASH_AFTER_BROADCAST");
    }
    cmd.spawn().unwrap()
}

async fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "the coordinator did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Kills the child by its PID if it is still running.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_coordinator_killed_between_broadcast_and_recording_pays_exactly_once_after_restart() {
    let (anvil, token) = chain_with_token(TokenAmount::tokens(1000)).await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("coordinator.sqlite");
    let key_file = dir.path().join("treasury.key");
    std::fs::write(&key_file, DEV_KEYS[0]).unwrap();
    let port = devchain::free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");

    let mut first = Reaper(coordinator_process(port, &database, &anvil.url(), token, &key_file, true));
    wait_listening(port).await;
    let node = Node::at(&base, 16);
    earn(&node, 2).await;
    let to = payee(6);
    let amount = tokens(0.9);
    let r = post_withdrawal(&node, &signed(&node.key, to, amount, 1, DEV_CHAIN_ID)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<WithdrawalInfo>().await.unwrap().id;
    // The crash point aborts the process right after the broadcast.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = first.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the coordinator did not hit its crash point");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success(), "{status:?}");
    // The transfer is on chain, but the database still says it was only signed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while devchain::transfers_to(&anvil.url(), token, to).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the broadcast transfer never reached a block");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recorded: String = {
        let db = sqlx::SqlitePool::connect(&format!("sqlite:{}", database.display())).await.unwrap();
        let s =
            sqlx::query_scalar("SELECT status FROM withdrawals WHERE id = $1").bind(&id).fetch_one(&db).await.unwrap();
        db.close().await;
        s
    };
    assert_eq!(recorded, "signed");

    let _second = Reaper(coordinator_process(port, &database, &anvil.url(), token, &key_file, false));
    wait_listening(port).await;
    let done = until_final(&node, &id, 30).await;
    assert_eq!(done.status, WithdrawalStatus::Confirmed, "{done:?}");
    // Give a wrongly re-paying coordinator time to do it, then count.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let transfers = devchain::transfers_to(&anvil.url(), token, to).await.unwrap();
    assert_eq!(transfers, vec![(done.tx_hash.unwrap(), U256::from(amount.0))]);
    assert_eq!(on_chain(&anvil.url(), token, to).await, U256::from(amount.0));
    assert_eq!(node.balance().await.withdrawable, TokenAmount(2 * ONE_JOB.0 - amount.0));
    assert_eq!(until_final(&node, &id, 1).await, done);
}

#[tokio::test]
async fn the_chain_going_away_leaves_the_withdrawal_queued_and_it_completes_when_the_chain_returns() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("anvil-state.json");
    let port = devchain::free_port().unwrap();
    let anvil = Anvil::start_on(port, Some(&state)).unwrap_or_else(|e| panic!("{e}"));
    let rpc = anvil.url();
    let token = devchain::setup(&rpc, U256::from(TokenAmount::tokens(1000).0)).await.unwrap().token;
    anvil.stop().unwrap();
    assert!(state.is_file(), "anvil did not write its state");

    let handle = start(config_with_chain(chain_config(&rpc, token, DEV_KEYS[0]))).await;
    let node = Node::new(&handle, 17);
    earn(&node, 1).await;
    let to = payee(7);
    let amount = tokens(0.4);
    let r = post_withdrawal(&node, &signed(&node.key, to, amount, 1, DEV_CHAIN_ID)).await;
    assert_eq!(r.status(), StatusCode::CREATED, "a withdrawal queues while the chain is away");
    let w: WithdrawalInfo = r.json().await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting = get_withdrawal(&node, &w.id).await;
    assert_eq!(waiting.status, WithdrawalStatus::Queued);
    let reason = waiting.reason.unwrap_or_default();
    assert!(reason.contains("waiting for the chain"), "the owner sees why: {reason:?}");
    assert_eq!(node.balance().await.withdrawable, TokenAmount(ONE_JOB.0 - amount.0));

    let back = Anvil::start_on(port, Some(&state)).unwrap_or_else(|e| panic!("{e}"));
    let done = until_final(&node, &w.id, 30).await;
    assert_eq!(done.status, WithdrawalStatus::Confirmed, "{done:?}");
    assert_eq!(done.reason, None);
    assert_eq!(on_chain(&back.url(), token, to).await, U256::from(amount.0));
    assert_eq!(devchain::transfers_to(&back.url(), token, to).await.unwrap().len(), 1);
    util::client::stop(handle).await;
}

#[tokio::test]
async fn without_a_chain_withdrawals_settle_in_the_ledger_and_say_devnet() {
    let handle = start(Config { reward_per_tflop: PER_TFLOP, min_withdrawal: tokens(0.01), ..test_config() }).await;
    let node = Node::new(&handle, 18);
    earn(&node, 1).await;
    let r = post_withdrawal(&node, &signed(&node.key, payee(8), tokens(0.2), 1, DEV_CHAIN_ID)).await;
    let (status, body) = error_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a devnet signs for chain id 0: {}", body.error.message);
    let r = post_withdrawal(&node, &signed(&node.key, payee(8), tokens(0.2), 1, 0)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let w: WithdrawalInfo = r.json().await.unwrap();
    assert_eq!((w.status, w.devnet, w.tx_hash, w.block), (WithdrawalStatus::Confirmed, true, None, None));
    assert_eq!(node.balance().await.withdrawable, TokenAmount(ONE_JOB.0 - tokens(0.2).0));
    util::client::stop(handle).await;
}
