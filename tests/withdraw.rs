//! Withdrawing from the node's side, end to end: the `idlewatt-node withdraw` and
//! `withdrawals` commands sign with the owner's wallet in a real keyring (a private
//! gnome-keyring, `util::keyring`), against a real coordinator that pays on a real
//! chain (anvil on a free loopback port, an OpenZeppelin ERC-20), and against the
//! embedded local network with no chain (a devnet, labelled so). The node earns first
//! by computing real results (CPU reference) with the same key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use util::coordinator::Coordinator;

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use idlewatt::compute::reference;
use idlewatt::network::{NetworkJobs, RequestSigner, RetryPolicy};
use idlewatt::node::{Job, JobSource};
use idlewatt::paths::DataDirs;
use idlewatt_coordinator::chain::TreasuryKey;
use idlewatt_coordinator::devchain::{self, Anvil, DEV_CHAIN_ID, DEV_KEYS};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::wire::{HardwareSummary, NodeLimits};
use util::keyring::KeyringSession;

/// 10⁶ tokens per TFLOP: one 64³ job earns 0.524288 tokens.
const PER_TFLOP: TokenAmount = TokenAmount(1_000_000 * 1_000_000_000_000_000_000);

/// A coordinator serving `config` with 64³ jobs, this test's reward and no rate limit.
fn start_coordinator(config: idlewatt_coordinator::Config) -> Coordinator {
    Coordinator::start(idlewatt_coordinator::Config {
        fixed_job_dim: Some(64),
        reward_per_tflop: PER_TFLOP,
        rate_limit_per_s: 1000.0,
        rate_limit_burst: 1000.0,
        bootstrap_budget: idlewatt_protocol::TokenAmount::tokens(1_000_000_000),
        ..config
    })
}

/// Earns `n` verified jobs as `key` (results computed with the CPU reference).
fn earn(url: &str, key: &Arc<PrivateKeySigner>, data: &DataDirs, n: usize) {
    let hardware = HardwareSummary {
        adapter: "test adapter".into(),
        backend: "vulkan".into(),
        device_type: "cpu".into(),
        max_buffer_bytes: 1 << 28,
        benchmark_gflops: 1.0,
    };
    let signer: Arc<dyn RequestSigner> = key.clone();
    let limits = NodeLimits { max_dim: 64, max_buffer_bytes: 1 << 28 };
    let mut jobs = NetworkJobs::new(url, signer, data, hardware, limits)
        .unwrap()
        .with_retry(RetryPolicy { attempts: 2, ..RetryPolicy::once() });
    for _ in 0..n {
        let job: Job = jobs.next_job().unwrap();
        let (a, b) = job.inputs().unwrap();
        let c = reference::matmul(&a, &b, job.dims.m as usize, job.dims.n as usize, job.dims.k as usize);
        jobs.submit(&job, c).unwrap();
    }
}

/// Runs `idlewatt-node` with the keyring and `data` as its data folder.
fn node(keyring: &KeyringSession, data: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_idlewatt-node"))
        .args(args)
        .env("IDLEWATT_DATA_DIR", data)
        .envs(keyring.envs())
        .env_remove("IDLEWATT_CHAIN_RPC_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failed(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "expected a failure: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A wallet with a fresh key, imported into the keyring through the CLI.
fn wallet(keyring: &KeyringSession, data: &Path) -> Arc<PrivateKeySigner> {
    let key = PrivateKeySigner::random();
    let hex = alloy::hex::encode_prefixed(key.to_bytes());
    let out = ok(&node(keyring, data, &["wallet", "import", "--json"], &format!("{hex}\n")));
    let imported: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(imported["address"], key.address().to_checksum(None));
    Arc::new(key)
}

#[test]
fn withdraw_command_pays_on_chain_with_the_keyring_wallet() {
    let keyring = KeyringSession::start();
    let dir = tempfile::tempdir().unwrap();
    let cli_data = dir.path().join("cli");
    let anvil = Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let token = rt.block_on(devchain::setup(&anvil.url(), U256::from(TokenAmount::tokens(1000).0))).unwrap().token;
    let mut chain = idlewatt_coordinator::ChainConfig::new(
        anvil.url(),
        DEV_CHAIN_ID,
        token,
        TreasuryKey::from_hex(DEV_KEYS[0], "test").unwrap(),
    );
    chain.poll_interval = std::time::Duration::from_millis(100);
    let coordinator = start_coordinator(idlewatt_coordinator::Config {
        database: dir.path().join("network.sqlite").to_string_lossy().into_owned(),
        chain: Some(chain),
        ..Default::default()
    });
    let url = coordinator.url();
    let key = wallet(&keyring, &cli_data);
    earn(&url, &key, &DataDirs::at(dir.path().join("earner")).unwrap(), 2);

    let to = Address::repeat_byte(0x5c);
    let to_text = to.to_checksum(None);
    // Bad input is refused before anything is signed or debited, with a reason.
    let typo = format!("{}{}", &to_text[..41], if to_text.ends_with('C') { "c" } else { "C" });
    let bad = [
        (vec!["--to", typo.as_str(), "--amount", "0.5"], "checksum"),
        (vec!["--to", "0x1234", "--amount", "0.5"], "not an address"),
        (vec!["--to", to_text.as_str(), "--amount", "1,5"], "not an amount"),
        (vec!["--to", to_text.as_str(), "--amount", "0.0000001"], "smallest withdrawal"),
        (vec!["--to", to_text.as_str(), "--amount", "5"], "withdrawable"),
    ];
    for (args, expect) in bad {
        let mut full = vec!["withdraw", "--coordinator", url.as_str()];
        full.extend(args);
        let err = failed(&node(&keyring, &cli_data, &full, ""));
        assert!(err.contains(expect), "{full:?}: {err}");
    }

    let out = ok(&node(
        &keyring,
        &cli_data,
        &["withdraw", "--coordinator", &url, "--to", &to_text, "--amount", "0.5", "--json"],
        "",
    ));
    let w: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(w["status"], "confirmed", "{w}");
    assert_eq!(w["devnet"], false);
    assert_eq!(w["amount"], "500000000000000000");
    assert_eq!(w["to"], to_text);
    let tx_hash = w["tx_hash"].as_str().unwrap().to_owned();
    assert!(w["block"].as_u64().unwrap() > 0);
    assert_eq!(
        rt.block_on(devchain::balance_of(&anvil.url(), token, to)).unwrap(),
        U256::from(5u64) * U256::from(10u64).pow(U256::from(17))
    );
    let transfers = rt.block_on(devchain::transfers_to(&anvil.url(), token, to)).unwrap();
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].0.to_string(), tx_hash);

    let list: serde_json::Value =
        serde_json::from_str(&ok(&node(&keyring, &cli_data, &["withdrawals", "--coordinator", &url, "--json"], "")))
            .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["tx_hash"], tx_hash.as_str());
    let text = ok(&node(&keyring, &cli_data, &["withdrawals", "--coordinator", &url], ""));
    assert!(text.contains("confirmed") && text.contains(&tx_hash) && !text.contains("devnet"), "{text}");
    let balance: serde_json::Value =
        serde_json::from_str(&ok(&node(&keyring, &cli_data, &["balance", "--coordinator", &url, "--json"], "")))
            .unwrap();
    assert_eq!(balance["withdrawable"], (2 * 524_288_000_000_000_000u128 - 500_000_000_000_000_000).to_string());
}

#[test]
fn withdraw_on_the_embedded_devnet_settles_in_the_ledger_and_says_so() {
    let keyring = KeyringSession::start();
    let dir = tempfile::tempdir().unwrap();
    let cli_data = dir.path().join("cli");
    let key = wallet(&keyring, &cli_data);
    // Earn on the local network's own database (the file the embedded network opens).
    let mut coordinator = start_coordinator(idlewatt_coordinator::Config {
        database: cli_data.join("network.sqlite").to_string_lossy().into_owned(),
        ..Default::default()
    });
    earn(&coordinator.url(), &key, &DataDirs::at(dir.path().join("earner")).unwrap(), 1);
    coordinator.stop();

    let to = Address::repeat_byte(0x6d).to_checksum(None);
    let text = ok(&node(&keyring, &cli_data, &["withdraw", "--to", &to, "--amount", "0.25"], ""));
    assert!(text.contains("confirmed") && text.contains("devnet (not on chain)"), "{text}");
    let list = ok(&node(&keyring, &cli_data, &["withdrawals"], ""));
    assert!(list.contains("0.25 tokens") && list.contains("devnet (not on chain)"), "{list}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&node(&keyring, &cli_data, &["withdrawals", "--json"], ""))).unwrap();
    assert_eq!((json[0]["devnet"].as_bool(), json[0]["tx_hash"].is_null()), (Some(true), true));
    let balance: serde_json::Value =
        serde_json::from_str(&ok(&node(&keyring, &cli_data, &["balance", "--json"], ""))).unwrap();
    assert_eq!(balance["withdrawable"], (524_288_000_000_000_000u128 - 250_000_000_000_000_000).to_string());
}
