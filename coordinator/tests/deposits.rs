//! Deposits on a real chain: each test starts its own anvil (npm `@foundry-rs/anvil`)
//! on a free loopback port, deploys OpenZeppelin's ERC-20 (the set-up mints the supply
//! to the treasury: a transfer from the zero address the watcher must ignore), and runs
//! a real coordinator that follows the token's `Transfer` logs to the treasury. Clients
//! are anvil's funded development accounts 1 and 2, holding minted tokens; they deposit
//! with real ERC-20 transfers.
//!
//! Scenarios: a deposit is credited once to its sender, a mint and the treasury's own
//! transfer are recorded as ignored and credit nobody; a deposit waits for the
//! configured confirmations; deposits are credited exactly once across a coordinator
//! restart (one made while it was down included), an RPC outage (anvil stopped with its
//! state and restarted on the same port) and a full re-scan from block 0.

#![allow(clippy::unwrap_used)]

mod util;

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use idlewatt_coordinator::chain::TreasuryKey;
use idlewatt_coordinator::devchain::{self, Anvil, DEV_CHAIN_ID, DEV_KEYS};
use idlewatt_coordinator::{ChainConfig, Config, Handle};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::client::DepositInfo;
use idlewatt_protocol::deposit::{DepositRecord, DepositStatus};
use util::{start, test_config};

fn tokens(x: u64) -> U256 {
    U256::from(TokenAmount::tokens(x).0)
}

fn chain_config(rpc: &str, token: Address) -> ChainConfig {
    let mut c = ChainConfig::new(rpc, DEV_CHAIN_ID, token, TreasuryKey::from_hex(DEV_KEYS[0], "test").unwrap());
    c.poll_interval = Duration::from_millis(100);
    c.max_backoff = Duration::from_millis(400);
    c
}

fn config(chain: ChainConfig, database: Option<&Path>) -> Config {
    let mut c = Config { chain: Some(chain), ..test_config() };
    if let Some(db) = database {
        c.database = db.display().to_string();
    }
    c
}

/// Deploys the token (its supply minted to the treasury) and mints `each` to clients 1 and 2.
async fn token_and_clients(rpc: &str, each: U256) -> (Address, Address) {
    let t = devchain::setup(rpc, tokens(1000)).await.unwrap();
    for key in [DEV_KEYS[1], DEV_KEYS[2]] {
        devchain::mint(rpc, DEV_KEYS[0], t.token, devchain::address_of(key).unwrap(), each).await.unwrap();
    }
    (t.token, t.treasury)
}

async fn get_json<T: serde::de::DeserializeOwned>(base: &str, path: &str) -> T {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn of_tx(base: &str, tx: B256) -> Vec<DepositRecord> {
    get_json(base, &format!("/v1/deposits/{tx}")).await
}

async fn of_sender(base: &str, from: Address) -> Vec<DepositRecord> {
    get_json(base, &format!("/v1/accounts/{from}/deposits")).await
}

/// Waits until the coordinator recorded the logs of `tx`.
async fn recorded(base: &str, tx: B256, secs: u64) -> Vec<DepositRecord> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let seen = of_tx(base, tx).await;
        if !seen.is_empty() {
            return seen;
        }
        assert!(Instant::now() < deadline, "deposit {tx} not recorded after {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The client balance the ledger holds for `who`: every deposit credited to it.
async fn credited_in_ledger(database: &Path, who: Address) -> (i64, U256) {
    let db = sqlx::SqlitePool::connect(&format!("sqlite:{}", database.display())).await.unwrap();
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT amount_gwei, amount_wei FROM ledger WHERE id LIKE 'deposit:%' AND account LIKE '%' || $1",
    )
    .bind(alloy::hex::encode_prefixed(who))
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    let sum: i128 = rows.iter().map(|(g, w)| i128::from(*g) * 1_000_000_000 + i128::from(*w)).sum();
    (rows.len() as i64, U256::from(u128::try_from(sum).unwrap()))
}

fn client(n: usize) -> Address {
    devchain::address_of(DEV_KEYS[n]).unwrap()
}

#[tokio::test]
async fn a_deposit_is_credited_once_and_mints_and_the_treasurys_own_transfers_are_ignored() {
    let anvil = Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let rpc = anvil.url();
    let (token, treasury) = token_and_clients(&rpc, tokens(50)).await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("coordinator.sqlite");
    let handle = start(config(chain_config(&rpc, token), Some(&database))).await;
    let base = handle.url();

    let info: DepositInfo = get_json(&base, "/v1/deposit").await;
    assert_eq!(
        (info.devnet, info.chain_id, info.token_address, info.treasury, info.confirmations),
        (false, DEV_CHAIN_ID, Some(token), Some(treasury), 1)
    );

    let tx = devchain::transfer(&rpc, DEV_KEYS[1], token, treasury, tokens(3)).await.unwrap();
    let seen = recorded(&base, tx, 20).await;
    assert_eq!(seen.len(), 1);
    let d = &seen[0];
    assert_eq!(
        (d.from, d.amount, d.status, d.reason.clone()),
        (client(1), TokenAmount::tokens(3), DepositStatus::Credited, None)
    );
    // The treasury moving its own tokens to itself is no client's deposit.
    let own = devchain::transfer(&rpc, DEV_KEYS[0], token, treasury, tokens(5)).await.unwrap();
    let own = recorded(&base, own, 20).await;
    assert_eq!(own[0].status, DepositStatus::Ignored);
    assert!(own[0].reason.as_deref().unwrap_or_default().contains("treasury"), "{own:?}");
    // The set-up's mint to the treasury (from the zero address) is recorded, not credited.
    let mints = of_sender(&base, Address::ZERO).await;
    assert_eq!(mints.len(), 1, "{mints:?}");
    assert_eq!((mints[0].status, mints[0].amount), (DepositStatus::Ignored, TokenAmount::tokens(1000)));
    assert!(mints[0].reason.as_deref().unwrap_or_default().contains("minted"));

    // Time for a buggy watcher to credit again, then count.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(of_sender(&base, client(1)).await, seen);
    util::client::stop(handle).await;
    assert_eq!(credited_in_ledger(&database, client(1)).await, (1, tokens(3)));
    assert_eq!(credited_in_ledger(&database, treasury).await, (0, U256::ZERO));
    assert_eq!(credited_in_ledger(&database, Address::ZERO).await, (0, U256::ZERO));
}

#[tokio::test]
async fn a_deposit_waits_for_its_confirmations() {
    let anvil = Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let rpc = anvil.url();
    let (token, treasury) = token_and_clients(&rpc, tokens(50)).await;
    let mut chain = chain_config(&rpc, token);
    chain.confirmations = 3;
    let handle = start(config(chain, None)).await;
    let base = handle.url();
    let info: DepositInfo = get_json(&base, "/v1/deposit").await;
    assert_eq!(info.confirmations, 3);

    let tx = devchain::transfer(&rpc, DEV_KEYS[2], token, treasury, tokens(4)).await.unwrap();
    // anvil mines a block per transaction: the deposit's block is the head, 1 confirmation.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(of_tx(&base, tx).await.is_empty(), "credited with 1 of 3 confirmations");
    devchain::mint(&rpc, DEV_KEYS[0], token, Address::repeat_byte(0x77), U256::from(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(of_tx(&base, tx).await.is_empty(), "credited with 2 of 3 confirmations");
    devchain::mint(&rpc, DEV_KEYS[0], token, Address::repeat_byte(0x77), U256::from(1)).await.unwrap();
    let seen = recorded(&base, tx, 20).await;
    assert_eq!((seen[0].from, seen[0].status), (client(2), DepositStatus::Credited));
    util::client::stop(handle).await;
}

async fn restart(previous: Handle, chain: ChainConfig, database: &Path) -> Handle {
    util::client::stop(previous).await;
    start(config(chain, Some(database))).await
}

#[tokio::test]
async fn deposits_are_credited_exactly_once_across_a_restart_an_rpc_outage_and_a_rescan() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("anvil-state.json");
    let database = dir.path().join("coordinator.sqlite");
    let port = devchain::free_port().unwrap();
    let anvil = Anvil::start_on(port, Some(&state)).unwrap_or_else(|e| panic!("{e}"));
    let rpc = anvil.url();
    let (token, treasury) = token_and_clients(&rpc, tokens(50)).await;
    let chain = chain_config(&rpc, token);

    // A: seen by the first coordinator.
    let handle = start(config(chain.clone(), Some(&database))).await;
    let a = devchain::transfer(&rpc, DEV_KEYS[1], token, treasury, tokens(1)).await.unwrap();
    recorded(&handle.url(), a, 20).await;
    util::client::stop(handle).await;

    // B: made while no coordinator runs; the next one reads on from its cursor.
    let b = devchain::transfer(&rpc, DEV_KEYS[1], token, treasury, tokens(2)).await.unwrap();
    let handle = start(config(chain.clone(), Some(&database))).await;
    recorded(&handle.url(), b, 20).await;

    // The RPC goes away (state saved) while the coordinator keeps running and retrying.
    anvil.stop().unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let anvil = Anvil::start_on(port, Some(&state)).unwrap_or_else(|e| panic!("{e}"));
    // C: after the chain is back.
    let c = devchain::transfer(&anvil.url(), DEV_KEYS[1], token, treasury, tokens(4)).await.unwrap();
    recorded(&handle.url(), c, 30).await;

    // A full re-scan from block 0 (cursor forgotten) on a restarted coordinator.
    util::client::stop(handle).await;
    {
        let db = sqlx::SqlitePool::connect(&format!("sqlite:{}", database.display())).await.unwrap();
        let n = sqlx::query("DELETE FROM deposit_cursor").execute(&db).await.unwrap().rows_affected();
        assert_eq!(n, 1, "one cursor for this chain, token and treasury");
        db.close().await;
    }
    let handle = start(config(chain.clone(), Some(&database))).await;
    // The re-scan is done once the cursor is past the head again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let db = sqlx::SqlitePool::connect(&format!("sqlite:{}", database.display())).await.unwrap();
        let next: Option<i64> =
            sqlx::query_scalar("SELECT next_block FROM deposit_cursor").fetch_optional(&db).await.unwrap();
        db.close().await;
        let head = devchain::block_number(&anvil.url()).await.unwrap();
        if next.is_some_and(|n| n as u64 > head) {
            break;
        }
        assert!(Instant::now() < deadline, "the re-scan did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut listed = of_sender(&handle.url(), client(1)).await;
    listed.sort_by_key(|d| d.block);
    let hashes: Vec<B256> = listed.iter().map(|d| d.tx_hash).collect();
    assert_eq!(hashes, vec![a, b, c]);
    assert!(listed.iter().all(|d| d.status == DepositStatus::Credited));
    let restarted = restart(handle, chain, &database).await;
    util::client::stop(restarted).await;
    assert_eq!(credited_in_ledger(&database, client(1)).await, (3, tokens(7)));
}

#[tokio::test]
async fn a_devnet_has_no_treasury_and_says_to_use_the_faucet() {
    let handle = start(test_config()).await;
    let info: DepositInfo = get_json(&handle.url(), "/v1/deposit").await;
    assert!(info.devnet && info.treasury.is_none() && info.faucet, "{info:?}");
    let r = reqwest::get(format!("{}/v1/deposits/0x1234", handle.url())).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    util::client::stop(handle).await;
}
