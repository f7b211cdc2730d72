//! The client tool end to end: the real `idlewatt-client` binary (its wallet in a real,
//! private gnome-keyring) against a real coordinator on 127.0.0.1:0, with a real node
//! (`idlewatt-node run` on lavapipe) computing the jobs. Matrices are written and checked
//! by numpy, and the official `openai` Python package talks to the coordinator with a
//! key from `keys create --json`, both from a venv the tests create (`util::python`).
//!
//! Scenarios: faucet → matmul of numpy's `.npy` files → C checked by numpy against
//! A @ B; every `--json` output parses; a Fortran-order `.npy` gets the coordinator's 400
//! reason (exit 2); a maximum price below the quote gets 402 with the amount needed (exit
//! 3); an API key works with the OpenAI SDK (the documented OpenAI error for an unknown
//! model) and stops working once revoked; the client's wallet is its own keyring entry
//! beside the node's; a deposit on a real chain (anvil) is credited once, and a devnet
//! says to use the faucet; with no coordinator given, the client uses the local network
//! in the node's data folder; the books balance after each scenario.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use idlewatt_coordinator::chain::TreasuryKey;
use idlewatt_coordinator::devchain::{self, Anvil, DEV_CHAIN_ID, DEV_KEYS};
use idlewatt_protocol::TokenAmount;
use serde_json::Value;
use util::coordinator::Coordinator;
use util::keyring::KeyringSession;

/// Folders and the keyring one scenario's processes share.
struct World {
    keyring: KeyringSession,
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        Self { keyring: KeyringSession::start(), dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `idlewatt-client` with `args` (and `stdin`), against `coordinator` if given.
    fn client(&self, coordinator: Option<&str>, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_idlewatt-client"));
        cmd.args(args)
            .env("IDLEWATT_CLIENT_DATA_DIR", self.path("client"))
            .env("IDLEWATT_DATA_DIR", self.path("node"))
            .envs(self.keyring.envs())
            .env_remove("IDLEWATT_CHAIN_RPC_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match coordinator {
            Some(url) => cmd.env("IDLEWATT_COORDINATOR", url),
            None => cmd.env_remove("IDLEWATT_COORDINATOR"),
        };
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs `idlewatt-node` with the node's data folder.
    fn node(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_idlewatt-node"))
            .args(args)
            .env("IDLEWATT_DATA_DIR", self.path("node"))
            .envs(self.keyring.envs())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// `idlewatt-node run` computing for `url` on lavapipe, always (no idle wait).
    fn start_node(&self, url: &str) -> Reaper {
        let data = idlewatt::paths::DataDirs::at(self.path("node")).unwrap();
        let settings = idlewatt::config::Settings { coordinator_url: Some(url.to_owned()), ..Default::default() };
        settings.save(&data).unwrap();
        json(&self.node(&["wallet", "create", "--json"], ""));
        let runtime = self.path("xdg-runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_idlewatt-node"))
            .args(["run", "--when", "always", "--allow-software", "--json"])
            .env("IDLEWATT_DATA_DIR", self.path("node"))
            .envs(self.keyring.envs())
            .env("WGPU_BACKEND", "vulkan")
            .env("XDG_RUNTIME_DIR", runtime)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Reaper(child)
    }
}

/// Stops a child process (by its PID) when dropped.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The JSON document a successful `--json` command printed.
fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// A failed command's exit code, stderr, and its `--json` error document.
fn failure(out: &Output) -> (i32, String, Value) {
    assert!(!out.status.success(), "expected a failure: {}", String::from_utf8_lossy(&out.stdout));
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned(), doc)
}

fn tokens(v: &Value) -> u128 {
    v.as_str().unwrap_or_else(|| panic!("not an amount: {v}")).parse().unwrap()
}

fn coordinator(database: &Path) -> Coordinator {
    Coordinator::start(idlewatt_coordinator::Config {
        database: database.to_string_lossy().into_owned(),
        rate_limit_per_s: 1000.0,
        rate_limit_burst: 1000.0,
        ..Default::default()
    })
}

/// `GET /v1/network`'s books: deposits − withdrawals = clients + escrow + nodes + fees.
fn assert_books_balance(url: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let net: Value =
        rt.block_on(async { reqwest::get(format!("{url}/v1/network")).await.unwrap().json().await.unwrap() });
    let books = &net["books"];
    assert_eq!(books["balanced"], Value::Bool(true), "the books do not balance: {books}");
    let sum: u128 = ["client_balances", "escrow", "node_balances", "fees"].iter().map(|k| tokens(&books[*k])).sum();
    assert_eq!(tokens(&books["deposits"]) - tokens(&books["withdrawals"]), sum, "{books}");
    eprintln!("books: {books}");
}

const NUMPY_WRITE: &str = r#"
import sys, numpy as np
rng = np.random.default_rng(14)
a = rng.standard_normal((70, 50), dtype=np.float32)
b = rng.standard_normal((50, 40), dtype=np.float32)
np.save(sys.argv[1], a)
np.save(sys.argv[2], b)
np.save(sys.argv[3], np.asfortranarray(a))
"#;

const NUMPY_CHECK: &str = r#"
import sys, numpy as np
a, b, c = (np.load(p) for p in sys.argv[1:4])
assert c.dtype == np.float32 and c.shape == (70, 40), (c.dtype, c.shape)
ref = a.astype(np.float64) @ b.astype(np.float64)
err = float(np.max(np.abs(c - ref)) / np.max(np.abs(ref)))
print(f"max normwise error {err:.2e}")
assert err < 1e-5, err
"#;

const OPENAI_UNKNOWN_MODEL: &str = r#"
import sys, openai
client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key=sys.argv[2], max_retries=0)
try:
    client.embeddings.create(model="no-such-model", input=["hello"])
except openai.NotFoundError as e:
    print(e.code)
except openai.AuthenticationError as e:
    print("unauthorized")
"#;

#[test]
fn a_client_funds_multiplies_numpys_matrices_and_numpy_agrees() {
    let w = World::new();
    let coordinator = coordinator(&w.path("network.sqlite"));
    let base = coordinator.url();
    let url = Some(base.as_str());
    let _node = w.start_node(&base);

    // The client's wallet is its own keyring entry, apart from the node's.
    let client = json(&w.client(url, &["wallet", "create", "--json"], ""));
    let node = json(&w.node(&["wallet", "address", "--json"], ""));
    assert_ne!(client["address"], node["address"]);
    assert_eq!(json(&w.client(url, &["wallet", "address", "--json"], ""))["address"], client["address"]);
    assert!(w.path("client/wallet.json").is_file() && w.path("node/wallet.json").is_file());

    let grant = json(&w.client(url, &["faucet", "--json"], ""));
    assert!(tokens(&grant["credited"]) > 0, "{grant}");
    let before = json(&w.client(url, &["account", "--json"], ""));
    assert_eq!(before["balance"], grant["balance"]);

    let (a, b, fortran, c) = (w.path("a.npy"), w.path("b.npy"), w.path("a_fortran.npy"), w.path("c.npy"));
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let out = util::python::run(NUMPY_WRITE, &[&s(&a), &s(&b), &s(&fortran)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let started = Instant::now();
    let done = json(&w.client(url, &["matmul", "--a", &s(&a), "--b", &s(&b), "--out", &s(&c), "--json"], ""));
    eprintln!("matmul 70x40x50 through the network: {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(done["job"]["status"], "done", "{done}");
    assert_eq!(done["job"]["matmul"]["m"], 70);
    let check = util::python::run(NUMPY_CHECK, &[&s(&a), &s(&b), &s(&c)]);
    assert!(
        check.status.success(),
        "numpy disagrees: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    eprintln!("numpy: {}", String::from_utf8_lossy(&check.stdout).trim());

    let id = done["job"]["id"].as_str().unwrap().to_owned();
    let listed = json(&w.client(url, &["jobs", "--json"], ""));
    assert!(listed.as_array().unwrap().iter().any(|j| j["id"] == id.as_str()), "{listed}");
    assert_eq!(json(&w.client(url, &["job", &id, "--json"], ""))["status"], "done");
    let after = json(&w.client(url, &["account", "--json"], ""));
    assert_eq!(tokens(&after["spent"]), tokens(&done["job"]["cost_so_far"]));
    assert_eq!(tokens(&after["balance"]) + tokens(&after["spent"]), tokens(&before["balance"]), "{after}");

    // A Fortran-order array: the coordinator's 400 reason, exit code 2.
    let (code, stderr, doc) =
        failure(&w.client(url, &["matmul", "--a", &s(&fortran), "--b", &s(&b), "--out", &s(&c), "--json"], ""));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(doc["error"]["status"], 400, "{doc}");
    assert!(stderr.to_lowercase().contains("fortran"), "{stderr}");
    // A maximum price below the quote: 402 with the amount needed, exit code 3.
    let (code, stderr, doc) = failure(&w.client(
        url,
        &["matmul", "--a", &s(&a), "--b", &s(&b), "--out", &s(&c), "--max-price", "0.000000000000000001", "--json"],
        "",
    ));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("more tokens are needed"), "{stderr}");
    assert_eq!(doc["error"]["payment"]["reason"], "max_price", "{doc}");
    assert!(tokens(&doc["error"]["payment"]["needed"]) > 0);
    // No such job.
    let (code, _, doc) = failure(&w.client(url, &["job", "nosuchjob", "--json"], ""));
    assert_eq!((code, &doc["error"]["status"]), (1, &Value::from(404)), "{doc}");

    assert_books_balance(&base);
}

#[test]
fn an_api_key_works_with_the_openai_sdk_until_it_is_revoked() {
    let w = World::new();
    let coordinator = coordinator(&w.path("network.sqlite"));
    let url = coordinator.url();
    json(&w.client(Some(&url), &["wallet", "create", "--json"], ""));
    json(&w.client(Some(&url), &["faucet", "--json"], ""));
    let created = json(&w.client(Some(&url), &["keys", "create", "--label", "sdk", "--json"], ""));
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let listed = json(&w.client(Some(&url), &["keys", "list", "--json"], ""));
    assert!(!listed.to_string().contains(&key), "a listing never shows the key");
    assert_eq!(listed[0]["id"], id.as_str());

    let out = util::python::run(OPENAI_UNKNOWN_MODEL, &[&url, &key]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "model_not_found");

    let revoked = json(&w.client(Some(&url), &["keys", "revoke", &id, "--json"], ""));
    assert!(revoked["revoked_at_ms"].is_i64(), "{revoked}");
    let out = util::python::run(OPENAI_UNKNOWN_MODEL, &[&url, &key]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "unauthorized", "{}", String::from_utf8_lossy(&out.stderr));
    assert_books_balance(&url);
}

#[test]
fn a_deposit_on_a_chain_is_credited_once_and_a_devnet_says_to_use_the_faucet() {
    let w = World::new();
    let anvil = Anvil::start().unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let token = rt.block_on(devchain::setup(&anvil.url(), U256::from(TokenAmount::tokens(1000).0))).unwrap().token;
    let mut chain = idlewatt_coordinator::ChainConfig::new(
        anvil.url(),
        DEV_CHAIN_ID,
        token,
        TreasuryKey::from_hex(DEV_KEYS[0], "t").unwrap(),
    );
    chain.poll_interval = Duration::from_millis(100);
    let coordinator = Coordinator::start(idlewatt_coordinator::Config {
        database: w.path("network.sqlite").to_string_lossy().into_owned(),
        chain: Some(chain),
        rate_limit_per_s: 1000.0,
        rate_limit_burst: 1000.0,
        ..Default::default()
    });
    let url = coordinator.url();
    // The client: anvil's account 2 (it has ETH for gas), imported into the keyring, with 10 tokens.
    let imported = json(&w.client(Some(&url), &["wallet", "import", "--json"], &format!("{}\n", DEV_KEYS[2])));
    let me = devchain::address_of(DEV_KEYS[2]).unwrap();
    assert_eq!(imported["address"], me.to_checksum(None));
    rt.block_on(devchain::mint(&anvil.url(), DEV_KEYS[0], token, me, U256::from(TokenAmount::tokens(10).0))).unwrap();

    // The faucet is for devnets only.
    let (code, stderr, _) = failure(&w.client(Some(&url), &["faucet", "--json"], ""));
    assert_eq!(code, 1, "{stderr}");
    let (code, stderr, _) = failure(&w.client(Some(&url), &["deposit", "--amount", "2.5"], ""));
    assert_eq!(code, 1);
    assert!(stderr.contains("--rpc-url"), "{stderr}");

    let out = json(&w.client(Some(&url), &["deposit", "--amount", "2.5", "--rpc-url", &anvil.url(), "--json"], ""));
    let deposits = out["deposits"].as_array().unwrap();
    assert_eq!(deposits.len(), 1, "{out}");
    assert_eq!(
        (&deposits[0]["status"], &deposits[0]["amount"]),
        (&Value::from("credited"), &Value::from("2500000000000000000"))
    );
    std::thread::sleep(Duration::from_millis(800));
    let account = json(&w.client(Some(&url), &["account", "--json"], ""));
    assert_eq!(tokens(&account["balance"]), TokenAmount::from_token_str("2.5").unwrap().0, "{account}");
    assert_eq!(tokens(&account["deposited"]), TokenAmount::from_token_str("2.5").unwrap().0);
    assert_eq!(
        rt.block_on(devchain::balance_of(&anvil.url(), token, me)).unwrap(),
        U256::from(TokenAmount::from_token_str("7.5").unwrap().0)
    );
    // More than the wallet holds: refused before anything is sent.
    let (code, stderr, _) =
        failure(&w.client(Some(&url), &["deposit", "--amount", "100", "--rpc-url", &anvil.url()], ""));
    assert_eq!(code, 1);
    assert!(stderr.contains("holds 7.5"), "{stderr}");
    assert_books_balance(&url);

    // A devnet (here the local network of the node's data folder: no --coordinator).
    let (code, stderr, _) = failure(&w.client(None, &["deposit", "--amount", "1", "--rpc-url", &anvil.url()], ""));
    assert_eq!(code, 1);
    assert!(stderr.contains("faucet"), "{stderr}");
    let grant = json(&w.client(None, &["faucet", "--json"], ""));
    let local = json(&w.client(None, &["account", "--json"], ""));
    assert_eq!(local["balance"], grant["balance"], "the local network keeps the faucet's grant in network.sqlite");
    assert!(w.path("node/network.sqlite").is_file());
}

const OPENAI_EMBEDDINGS: &str = r#"
import json, sys, numpy as np, openai
url, key, fixture = sys.argv[1:4]
items = json.load(open(fixture))["items"]
picked = [items[i] for i in (0, 57, 131)]
client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=600)
r = client.embeddings.create(model="all-MiniLM-L6-v2", input=[p["text"] for p in picked])
assert len(r.data) == len(picked), f"{len(r.data)} vectors for {len(picked)} texts"
cosines = []
for p, d in zip(picked, r.data):
    got, want = np.array(d.embedding), np.array(p["vector"])
    assert got.shape == (384,), got.shape
    cosines.append(float(got @ want / (np.linalg.norm(got) * np.linalg.norm(want))))
print(json.dumps({"min_cosine": min(cosines), "prompt_tokens": r.usage.prompt_tokens,
                  "tokens": sum(len(p["ids"]) for p in picked)}))
"#;

/// Issue 15's path end to end: the official OpenAI SDK asks the coordinator for
/// embeddings; a real `idlewatt-node` leases the batch (the client's texts as token
/// ids, canaries mixed in), downloads the model from the coordinator, computes it on
/// lavapipe, and the coordinator verifies it on the CPU before the client sees it.
#[test]
fn the_openai_sdk_gets_embeddings_a_node_computed_on_its_gpu() {
    let model_dir = idlewatt_models::testing::minilm_dir().unwrap_or_else(|e| panic!("{e}"));
    let w = World::new();
    let coordinator = Coordinator::start(idlewatt_coordinator::Config {
        database: w.path("network.sqlite").to_string_lossy().into_owned(),
        rate_limit_per_s: 1000.0,
        rate_limit_burst: 1000.0,
        embeddings_timeout: Duration::from_secs(500),
        // The SDK's request waits for the node; lavapipe takes about a minute.
        limits: idlewatt_coordinator::Limits { request_timeout: Duration::from_secs(600), ..Default::default() },
        models: vec![idlewatt_coordinator::embed::registry::ModelSpec {
            name: "all-MiniLM-L6-v2".into(),
            dir: model_dir,
        }],
        ..Default::default()
    });
    let url = coordinator.url();
    json(&w.client(Some(&url), &["wallet", "create", "--json"], ""));
    json(&w.client(Some(&url), &["faucet", "--json"], ""));
    let created = json(&w.client(Some(&url), &["keys", "create", "--label", "sdk", "--json"], ""));
    let key = created["key"].as_str().unwrap().to_owned();
    let _node = w.start_node(&url);

    let fixture = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("tests/fixtures/embeddings/minilm_reference.json");
    let started = Instant::now();
    let out = util::python::run(OPENAI_EMBEDDINGS, &[&url, &key, &fixture.to_string_lossy()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("embeddings through the network in {:.1} s: {answer}", started.elapsed().as_secs_f64());
    assert!(answer["min_cosine"].as_f64().unwrap() >= 0.9999, "{answer}");
    // Billed by the model's own tokenizer, canaries not included.
    assert_eq!(answer["prompt_tokens"], answer["tokens"], "{answer}");
    assert_books_balance(&url);
}
