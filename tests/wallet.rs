//! The wallet against a real OS keyring: a private D-Bus session with gnome-keyring,
//! started here (`util::keyring`). `harness = false` because the keyring crate reads
//! `DBUS_SESSION_BUS_ADDRESS` from the process environment once, and setting it is only
//! sound while the process is single-threaded: `main` starts the keyring, sets the
//! variable, installs a TRACE subscriber that captures every log line (for the leak
//! test), then runs the tests in sequence and exits non-zero if any failed.

mod util;

use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode, Output, Stdio};
use std::sync::{Arc, Mutex};

use alloy::primitives::{Address, U256};
use alloy::signers::local::MnemonicBuilder;
use alloy::signers::local::coins_bip39::English;
use idlewatt::paths::DataDirs;
use idlewatt::wallet::{
    ConfirmDelete, KeySource, Overwrite, RevealPhrase, SERVICE, Secret, Wallet, WalletError, Withdrawal, WordCount,
    recover_message_signer, recover_withdrawal_signer,
};

const VECTOR: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const VECTOR_ADDRESS: &str = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";

type Test = (&'static str, fn(&Ctx));

const TESTS: &[Test] = &[
    ("create_read_back_sign_and_recover", create_read_back_sign_and_recover),
    ("import_bip39_test_vector_gives_metamask_address", import_bip39_test_vector_gives_metamask_address),
    ("import_raw_private_key_with_and_without_0x", import_raw_private_key_with_and_without_0x),
    ("bad_phrases_and_keys_are_refused_without_echo", bad_phrases_and_keys_are_refused_without_echo),
    ("existing_wallet_is_not_overwritten_unless_asked", existing_wallet_is_not_overwritten_unless_asked),
    ("show_phrase_and_confirm_backup", show_phrase_and_confirm_backup),
    ("delete_removes_the_real_keyring_entry", delete_removes_the_real_keyring_entry),
    ("missing_key_is_reported", missing_key_is_reported),
    ("failed_metadata_write_rolls_back_the_keyring", failed_metadata_write_rolls_back_the_keyring),
    ("cli_create_address_sign_flow_and_delete", cli_create_address_sign_flow_and_delete),
    ("cli_import_reads_stdin_and_reports_bad_input", cli_import_reads_stdin_and_reports_bad_input),
    ("cli_without_secret_service_exits_4_and_writes_nothing", cli_without_secret_service_exits_4_and_writes_nothing),
    ("cli_locked_keyring_exits_4_and_says_unlock", cli_locked_keyring_exits_4_and_says_unlock),
    ("no_secret_in_logs_files_or_stderr", no_secret_in_logs_files_or_stderr),
];

/// What every test gets: the keyring session and the captured log lines.
struct Ctx {
    _keyring: util::keyring::KeyringSession,
    logs: Arc<Mutex<Vec<u8>>>,
}

impl Ctx {
    fn logs(&self) -> String {
        String::from_utf8_lossy(&self.logs.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in TESTS {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();

    let keyring = util::keyring::KeyringSession::start();
    #[allow(unsafe_code)]
    // SAFETY: no other thread exists yet (the keyring session's daemons are separate
    // processes and nothing has spawned a thread in this one), so nothing can read the
    // environment concurrently.
    unsafe {
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", keyring.bus_address());
    }

    let logs = Arc::new(Mutex::new(Vec::new()));
    let writer = Capture(logs.clone());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let ctx = Ctx { _keyring: keyring, logs };
    let mut failed = Vec::new();
    let selected: Vec<&Test> =
        TESTS.iter().filter(|(n, _)| filter.as_ref().is_none_or(|f| n.contains(f.as_str()))).collect();
    println!("\nrunning {} tests (real gnome-keyring)", selected.len());
    for (name, test) in selected {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(&ctx)));
        println!("test {name} ... {}", if result.is_ok() { "ok" } else { "FAILED" });
        if result.is_err() {
            failed.push(*name);
        }
    }
    drop(ctx);
    if failed.is_empty() {
        println!("\ntest result: ok. all wallet tests passed\n");
        ExitCode::SUCCESS
    } else {
        println!("\ntest result: FAILED. failures: {failed:?}\n");
        ExitCode::FAILURE
    }
}

// ---------------------------------------------------------------- helpers

fn data_dir() -> (tempfile::TempDir, DataDirs) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dirs = DataDirs::at(tmp.path()).expect("data dir");
    (tmp, dirs)
}

/// The keyring entry as the keyring crate sees it (the same store the wallet uses).
fn keyring_secret(address: &Address) -> Option<String> {
    let entry = keyring::Entry::new(SERVICE, &address.to_checksum(None)).expect("keyring entry");
    match entry.get_password() {
        Ok(s) => Some(s),
        Err(keyring::Error::NoEntry) => None,
        Err(e) => panic!("keyring read failed: {e}"),
    }
}

/// Items of our service in gnome-keyring, asked independently with libsecret's CLI.
fn secret_tool_lookup(ctx: &Ctx, address: &Address) -> Option<String> {
    let mut cmd = Command::new("secret-tool");
    cmd.args(["lookup", "service", SERVICE, "username", &address.to_checksum(None)]);
    for (k, v) in ctx._keyring.envs() {
        cmd.env(k, v);
    }
    match cmd.output() {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(_) => None,
        Err(e) => panic!("secret-tool runs (apt install libsecret-tools): {e}"),
    }
}

fn node(data: &Path, args: &[&str], stdin: &str, extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idlewatt-node"));
    cmd.args(args)
        .env("IDLEWATT_DATA_DIR", data)
        .env("IDLEWATT_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("idlewatt-node runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("idlewatt-node finishes")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status, last_line(&stderr(out)));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e})"))
}

/// The CLI's one-line error (background threads may log after it at TRACE).
fn last_line(s: &str) -> &str {
    s.lines().rev().find(|l| l.starts_with("idlewatt-node: ")).unwrap_or_else(|| s.lines().last().unwrap_or_default())
}

fn withdrawal(chain_id: u64) -> Withdrawal {
    Withdrawal {
        to: Address::repeat_byte(0x42),
        amount: U256::from(1_500_000_000_000_000_000u128),
        nonce: 7,
        chainId: chain_id,
    }
}

/// The private key hex of a phrase's account, derived independently of the wallet code.
fn key_hex_of(phrase: &str) -> String {
    let signer = MnemonicBuilder::<English>::default().phrase(phrase).build().expect("derive");
    alloy::hex::encode(signer.to_bytes())
}

/// Every way a secret could show up in `text`: the phrase, any 3 consecutive words of
/// it, the key hex with or without 0x, in any case.
fn leaks(text: &str, phrase: &str, key_hex: &str) -> Vec<String> {
    let hay = text.to_lowercase();
    let words: Vec<&str> = phrase.split(' ').collect();
    let mut found = Vec::new();
    for w in words.windows(3) {
        let needle = w.join(" ");
        if hay.contains(&needle) {
            found.push(format!(
                "3 consecutive phrase words starting with word {}",
                words.iter().position(|x| x == &w[0]).unwrap_or(0) + 1
            ));
        }
    }
    let key = key_hex.to_lowercase();
    if hay.contains(&key) {
        found.push("private key hex".into());
    }
    // Also half the key: a log line that printed the key in pieces still leaks.
    if hay.contains(&key[..32]) || hay.contains(&key[32..]) {
        found.push("half of the private key hex".into());
    }
    found
}

fn files_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in walk(dir) {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(&entry).unwrap_or_default()));
        text.push('\n');
    }
    text
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

// ---------------------------------------------------------------- library tests

fn create_read_back_sign_and_recover(_ctx: &Ctx) {
    let (_tmp, dirs) = data_dir();
    let wallet = Wallet::new(&dirs);
    assert!(wallet.info().expect("info").is_none());
    for words in [WordCount::Twelve, WordCount::TwentyFour] {
        let new = wallet.create(words, Overwrite::ReplaceExisting).expect("create");
        assert_eq!(new.phrase.word_count(), words.words());
        let info = wallet.info().expect("info").expect("a wallet");
        assert_eq!(info, new.info);
        assert_eq!(info.word_count, Some(words.words()));
        assert_eq!(info.source, KeySource::Phrase);
        assert!(!info.backed_up);
        // The phrase is what the real keyring holds, and the independently derived
        // account is the one in the wallet file.
        assert_eq!(keyring_secret(&info.address).as_deref(), Some(new.phrase.expose()));
        let derived = MnemonicBuilder::<English>::default().phrase(new.phrase.expose()).build().expect("derive");
        assert_eq!(derived.address(), info.address);

        let signer = wallet.signer().expect("signer");
        assert_eq!(signer.address(), info.address);
        let msg = b"POST /v1/leases\n1700000000\n{}";
        let sig = signer.sign_message(msg).expect("sign");
        assert_eq!(recover_message_signer(msg, &sig).expect("recover"), info.address);
        // Alloy's own recovery agrees (what the coordinator will call).
        assert_eq!(sig.recover_address_from_msg(msg).expect("alloy recover"), info.address);

        let w = withdrawal(31337);
        let sig = signer.sign_withdrawal(&w).expect("sign 712");
        assert_eq!(recover_withdrawal_signer(&w, &sig).expect("recover 712"), info.address);
        let tampered = Withdrawal { amount: w.amount + U256::from(1), ..w.clone() };
        assert_ne!(recover_withdrawal_signer(&tampered, &sig).ok(), Some(info.address));
    }
    let address = wallet.info().expect("info").expect("wallet").address;
    wallet.delete(ConfirmDelete::EraseKeyFromThisComputer).expect("delete");
    assert_eq!(keyring_secret(&address), None);
}

fn import_bip39_test_vector_gives_metamask_address(ctx: &Ctx) {
    let (_tmp, dirs) = data_dir();
    let wallet = Wallet::new(&dirs);
    let secret = Secret::parse(&format!("  {}\n", VECTOR.replace(' ', "   "))).expect("valid phrase");
    let info = wallet.import(&secret, Overwrite::Refuse).expect("import");
    assert_eq!(info.address.to_checksum(None), VECTOR_ADDRESS);
    assert_eq!(info.word_count, Some(12));
    assert_eq!(secret_tool_lookup(ctx, &info.address).as_deref(), Some(VECTOR), "in gnome-keyring itself");
    let signer = wallet.signer().expect("signer");
    let sig = signer.sign_message(b"hi").expect("sign");
    assert_eq!(recover_message_signer(b"hi", &sig).expect("recover").to_checksum(None), VECTOR_ADDRESS);
    wallet.delete(ConfirmDelete::EraseKeyFromThisComputer).expect("delete");
}

fn import_raw_private_key_with_and_without_0x(_ctx: &Ctx) {
    // The first anvil/hardhat account: well known, never used for value.
    let hex = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    let expected: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".parse().expect("address");
    for input in [hex.to_string(), format!("0x{}", hex.to_uppercase())] {
        let (_tmp, dirs) = data_dir();
        let wallet = Wallet::new(&dirs);
        let info = wallet.import(&Secret::parse(&input).expect("key"), Overwrite::Refuse).expect("import");
        assert_eq!(info.address, expected);
        assert_eq!(info.source, KeySource::PrivateKey);
        assert_eq!(info.word_count, None);
        assert_eq!(keyring_secret(&expected).as_deref(), Some(format!("0x{hex}").as_str()));
        let w = withdrawal(1);
        let sig = wallet.signer().expect("signer").sign_withdrawal(&w).expect("sign");
        assert_eq!(recover_withdrawal_signer(&w, &sig).expect("recover"), expected);
        assert!(matches!(
            wallet.show_phrase(RevealPhrase::IUnderstandAnyoneWithItCanTakeMyFunds),
            Err(WalletError::NoPhrase)
        ));
        wallet.delete(ConfirmDelete::EraseKeyFromThisComputer).expect("delete");
        assert_eq!(keyring_secret(&expected), None);
    }
}

fn bad_phrases_and_keys_are_refused_without_echo(_ctx: &Ctx) {
    let wrong_word = VECTOR.replacen("abandon", "abandn", 3).replacen("abandn", "abandon", 2);
    let err = Secret::parse(&wrong_word).expect_err("unknown word");
    assert!(matches!(err, WalletError::UnknownWord { position: 3 }), "{err:?}");
    assert!(err.to_string().contains("word 3"), "{err}");
    assert!(!err.to_string().contains("abandn") && !format!("{err:?}").contains("abandn"));

    let err = Secret::parse(&VECTOR.replace("about", "zoo")).expect_err("checksum");
    assert!(matches!(err, WalletError::BadChecksum), "{err:?}");
    let err = Secret::parse("abandon abandon abandon").expect_err("count");
    assert!(matches!(err, WalletError::BadWordCount { count: 3 }), "{err:?}");

    for bad in ["0x12345", "0xzz74bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"] {
        let err = Secret::parse(bad).expect_err("bad hex");
        assert!(matches!(err, WalletError::BadHex { .. }), "{err:?}");
        assert!(!err.to_string().contains("bec39a17"), "{err}");
    }
    // Nothing was written by any of the failures.
    let (tmp, dirs) = data_dir();
    let wallet = Wallet::new(&dirs);
    assert!(wallet.info().expect("info").is_none());
    assert!(walk(tmp.path()).is_empty());
}

fn existing_wallet_is_not_overwritten_unless_asked(_ctx: &Ctx) {
    let (_tmp, dirs) = data_dir();
    let wallet = Wallet::new(&dirs);
    let first = wallet.create(WordCount::Twelve, Overwrite::Refuse).expect("create");
    let err = wallet.create(WordCount::Twelve, Overwrite::Refuse).expect_err("refused");
    assert!(matches!(&err, WalletError::AlreadyExists { address } if *address == first.info.address.to_checksum(None)));
    let err = wallet.import(&Secret::parse(VECTOR).expect("phrase"), Overwrite::Refuse).expect_err("refused");
    assert!(matches!(err, WalletError::AlreadyExists { .. }));
    assert_eq!(wallet.info().expect("info").expect("wallet").address, first.info.address);
    assert!(keyring_secret(&first.info.address).is_some());

    let second = wallet.import(&Secret::parse(VECTOR).expect("phrase"), Overwrite::ReplaceExisting).expect("replace");
    assert_eq!(second.address.to_checksum(None), VECTOR_ADDRESS);
    assert_eq!(keyring_secret(&first.info.address), None, "the replaced key is erased");
    wallet.delete(ConfirmDelete::EraseKeyFromThisComputer).expect("delete");
}

fn show_phrase_and_confirm_backup(_ctx: &Ctx) {
    let (_tmp, dirs) = data_dir();
    let wallet = Wallet::new(&dirs);
    let new = wallet.create(WordCount::Twelve, Overwrite::Refuse).expect("create");
    let shown = wallet.show_phrase(RevealPhrase::IUnderstandAnyoneWithItCanTakeMyFunds).expect("show");
    assert_eq!(shown.expose(), new.phrase.expose());

    let challenge = wallet.backup_challenge().expect("challenge");
    assert_eq!(challenge.len(), 3);
    assert!(challenge.windows(2).all(|w| w[0] < w[1]) && challenge.iter().all(|&p| (1..=12).contains(&p)));

    let word = |p: usize| new.phrase.word(p).expect("word").to_string();
    let (w2, w5, w9) = (word(2), word(5), word(9));
    let wrong = if w5 == "zoo" { "abandon" } else { "zoo" };
    let err = wallet.confirm_backup(&[(2, &w2), (5, wrong), (9, &w9)]).expect_err("mismatch");
    assert!(matches!(err, WalletError::BackupMismatch { position: 5 }), "{err:?}");
    assert!(!wallet.info().expect("info").expect("wallet").backed_up);
    assert!(matches!(wallet.confirm_backup(&[(2, &w2), (9, &w9)]), Err(WalletError::BadBackupCheck { .. })));
    assert!(matches!(wallet.confirm_backup(&[(2, &w2), (2, &w2), (9, &w9)]), Err(WalletError::BadBackupCheck { .. })));
    assert!(matches!(wallet.confirm_backup(&[(0, &w2), (5, &w5), (13, &w9)]), Err(WalletError::BadBackupCheck { .. })));

    let info = wallet.confirm_backup(&[(2, &w2.to_uppercase()), (5, &w5), (9, &format!(" {w9}\n"))]).expect("confirm");
    assert!(info.backed_up);
    assert!(wallet.info().expect("info").expect("wallet").backed_up, "persisted");
    wallet.delete(ConfirmDelete::EraseKeyFromThisComputer).expect("delete");
}

fn delete_removes_the_real_keyring_entry(ctx: &Ctx) {
    let (tmp, dirs) = data_dir();
    let wallet = Wallet::new(&dirs);
    let info = wallet.import(&Secret::parse(VECTOR).expect("phrase"), Overwrite::Refuse).expect("import");
    assert!(secret_tool_lookup(ctx, &info.address).is_some());
    let erased = wallet.delete(ConfirmDelete::EraseKeyFromThisComputer).expect("delete");
    assert_eq!(erased, info.address);
    assert_eq!(secret_tool_lookup(ctx, &info.address), None, "gone from gnome-keyring");
    assert_eq!(keyring_secret(&info.address), None);
    assert!(wallet.info().expect("info").is_none());
    assert!(walk(tmp.path()).is_empty(), "wallet file gone");
    assert!(matches!(wallet.delete(ConfirmDelete::EraseKeyFromThisComputer), Err(WalletError::NoWallet)));
    assert!(matches!(wallet.signer(), Err(WalletError::NoWallet)));
}

fn missing_key_is_reported(_ctx: &Ctx) {
    let (_tmp, dirs) = data_dir();
    let wallet = Wallet::new(&dirs);
    let info = wallet.import(&Secret::parse(VECTOR).expect("phrase"), Overwrite::Refuse).expect("import");
    // The owner (or a keyring reset) removed the entry behind Idlewatt's back.
    keyring::Entry::new(SERVICE, &info.address.to_checksum(None)).expect("entry").delete_credential().expect("rm");
    let err = wallet.signer().expect_err("missing");
    assert!(matches!(&err, WalletError::KeyMissing { address } if address == VECTOR_ADDRESS), "{err:?}");
    assert!(err.to_string().contains("wallet import"), "{err}");
    // Re-importing repairs it.
    wallet.import(&Secret::parse(VECTOR).expect("phrase"), Overwrite::ReplaceExisting).expect("re-import");
    wallet.signer().expect("signer again");
    wallet.delete(ConfirmDelete::EraseKeyFromThisComputer).expect("delete");
}

fn failed_metadata_write_rolls_back_the_keyring(_ctx: &Ctx) {
    let (tmp, dirs) = data_dir();
    let wallet = Wallet::new(&dirs);
    // A directory where the wallet file should go: the rename over it fails.
    std::fs::create_dir(tmp.path().join(idlewatt::wallet::meta::FILE_NAME)).expect("blocker");
    std::fs::write(tmp.path().join(idlewatt::wallet::meta::FILE_NAME).join("x"), b"").expect("non-empty");
    let address: Address = VECTOR_ADDRESS.parse().expect("address");
    let err = wallet.import(&Secret::parse(VECTOR).expect("phrase"), Overwrite::Refuse).expect_err("cannot write");
    assert!(matches!(err, WalletError::Metadata { .. } | WalletError::MetadataCorrupt { .. }), "{err:?}");
    assert_eq!(keyring_secret(&address), None, "keyring write undone");
    let leftovers: Vec<_> = walk(tmp.path()).into_iter().filter(|p| !p.ends_with("x")).collect();
    assert!(leftovers.is_empty(), "no temp file left: {leftovers:?}");
}

// ---------------------------------------------------------------- CLI tests

fn cli_create_address_sign_flow_and_delete(_ctx: &Ctx) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let created = ok(&node(d, &["wallet", "create", "--words", "24", "--json"], "", &[]));
    let address = created["address"].as_str().expect("address").to_string();
    let phrase = created["phrase"].as_str().expect("phrase").to_string();
    assert_eq!(phrase.split(' ').count(), 24);
    assert_eq!(created["word_count"], 24);
    assert_eq!(created["backed_up"], false);

    let again = node(d, &["wallet", "create"], "", &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(last_line(&stderr(&again)).contains("already exists"), "{}", last_line(&stderr(&again)));

    let shown = ok(&node(d, &["wallet", "address", "--json"], "", &[]));
    assert_eq!(shown["address"], address.as_str());
    let text = node(d, &["wallet", "address"], "", &[]);
    assert!(stdout(&text).contains(&address));

    let refused = node(d, &["wallet", "show-phrase"], "", &[]);
    assert_eq!(refused.status.code(), Some(2), "show-phrase needs --i-understand");
    let shown = node(d, &["wallet", "show-phrase", "--i-understand"], "", &[]);
    assert!(shown.status.success());
    let words: Vec<&str> = phrase.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        assert!(stdout(&shown).contains(&format!("{:>2}. {w}\n", i + 1)));
    }

    let answers = format!("{}\n{}\n{}\n", words[0], words[11], words[23]);
    let confirmed = node(d, &["wallet", "confirm-backup", "--positions", "1,12,24"], &answers, &[]);
    assert!(confirmed.status.success(), "{}", last_line(&stderr(&confirmed)));
    assert_eq!(ok(&node(d, &["wallet", "address", "--json"], "", &[]))["backed_up"], true);
    let wrong = node(d, &["wallet", "confirm-backup", "--positions", "1,2,3"], "x\ny\nz\n", &[]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(last_line(&stderr(&wrong)).contains("word 1 does not match"));

    let refused = node(d, &["wallet", "delete"], "", &[]);
    assert_eq!(refused.status.code(), Some(2), "delete needs --i-understand");
    let deleted = node(d, &["wallet", "delete", "--i-understand"], "", &[]);
    assert!(deleted.status.success(), "{}", last_line(&stderr(&deleted)));
    assert_eq!(keyring_secret(&address.parse().expect("address")), None);
    let gone = node(d, &["wallet", "address"], "", &[]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(last_line(&stderr(&gone)).contains("no wallet"));
}

fn cli_import_reads_stdin_and_reports_bad_input(_ctx: &Ctx) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let bad = node(d, &["wallet", "import"], &VECTOR.replace("abandon about", "abandon abuot"), &[]);
    assert_eq!(bad.status.code(), Some(1));
    let err = last_line(&stderr(&bad)).to_string();
    assert!(err.contains("word 12") && !err.contains("abuot"), "{err}");
    let bad = node(d, &["wallet", "import"], "0xnothex", &[]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(last_line(&stderr(&bad)).contains("not a valid private key"));
    assert!(walk(d).is_empty(), "failed imports write nothing");

    let imported = ok(&node(d, &["wallet", "import", "--json"], &format!("{VECTOR}\n"), &[]));
    assert_eq!(imported["address"], VECTOR_ADDRESS);
    assert_eq!(imported["source"], "phrase");
    let key = node(
        d,
        &["wallet", "import", "--replace", "--json"],
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n",
        &[],
    );
    let key = ok(&key);
    assert_eq!(key["source"], "private_key");
    assert_eq!(keyring_secret(&VECTOR_ADDRESS.parse().expect("address")), None, "replaced key erased");
    let none = node(d, &["wallet", "show-phrase", "--i-understand"], "", &[]);
    assert_eq!(none.status.code(), Some(1));
    assert!(last_line(&stderr(&none)).contains("no recovery phrase"));
    assert!(node(d, &["wallet", "delete", "--i-understand"], "", &[]).status.success());
}

fn cli_without_secret_service_exits_4_and_writes_nothing(_ctx: &Ctx) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let nowhere = format!("unix:path={}", d.join("no-such-bus").display());
    for (args, stdin) in [(&["wallet", "create"][..], ""), (&["wallet", "import"][..], VECTOR)] {
        let out = node(d, args, stdin, &[("DBUS_SESSION_BUS_ADDRESS", &nowhere)]);
        let err = last_line(&stderr(&out)).to_string();
        assert_eq!(out.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("gnome-keyring") && err.contains("D-Bus"), "{err}");
        assert!(out.stdout.is_empty(), "no phrase printed when it could not be kept");
        assert!(walk(d).is_empty(), "nothing written: {:?}", walk(d));
    }
}

fn cli_locked_keyring_exits_4_and_says_unlock(_ctx: &Ctx) {
    // A keyring of its own, so locking it does not disturb the other tests.
    let session = util::keyring::KeyringSession::start();
    let env: Vec<(&str, String)> = session.envs();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let created = ok(&node(d, &["wallet", "create", "--json"], "", &env));
    session.lock();
    let before = files_text(d);
    for args in [&["wallet", "show-phrase", "--i-understand"][..], &["wallet", "create", "--replace"]] {
        let out = node(d, args, "", &env);
        let err = last_line(&stderr(&out)).to_string();
        assert_eq!(out.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("keyring is locked") && err.contains("unlock it"), "{err}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(files_text(d), before, "nothing changed");
    let address = ok(&node(d, &["wallet", "address", "--json"], "", &env));
    assert_eq!(address["address"], created["address"], "the wallet file is untouched");
}

/// A whole create → show → sign → delete cycle, in-process with every crate logging at
/// TRACE into the capture, and through the CLI with `IDLEWATT_LOG=trace`: no phrase,
/// no 3 consecutive words of it, no key hex anywhere but where the owner asked for it.
fn no_secret_in_logs_files_or_stderr(ctx: &Ctx) {
    let (tmp, dirs) = data_dir();
    let wallet = Wallet::new(&dirs);
    let logs_before = ctx.logs().len();
    let new = wallet.create(WordCount::Twelve, Overwrite::Refuse).expect("create");
    let phrase = new.phrase.expose().to_string();
    let key_hex = key_hex_of(&phrase);
    // The detector itself finds what it looks for.
    let w: Vec<&str> = phrase.split(' ').collect();
    assert!(!leaks(&format!("..{} {} {}..", w[4], w[5], w[6]).to_uppercase(), &phrase, &key_hex).is_empty());
    assert!(!leaks(&format!("key=0X{}", key_hex.to_uppercase()), &phrase, &key_hex).is_empty());
    let signer = wallet.signer().expect("signer");
    signer.sign_message(b"hello").expect("sign");
    signer.sign_withdrawal(&withdrawal(31337)).expect("sign 712");
    let _ = format!("{signer:?} {:?} {:?}", new, wallet);
    let debug = format!("{signer:?} {new:?} {wallet:?} {:?}", Secret::parse(&phrase).expect("phrase"));
    assert!(leaks(&debug, &phrase, &key_hex).is_empty(), "Debug output leaks a secret");
    let files_during = files_text(tmp.path());
    wallet.show_phrase(RevealPhrase::IUnderstandAnyoneWithItCanTakeMyFunds).expect("show");
    wallet.delete(ConfirmDelete::EraseKeyFromThisComputer).expect("delete");
    let logs = ctx.logs()[logs_before..].to_string();
    assert!(logs.contains("wallet saved in the OS keyring"), "the capture works");
    assert!(logs.contains("zbus"), "dependencies' TRACE logs (the D-Bus traffic) were captured too");
    if let Ok(path) = std::env::var("WALLET_TEST_DUMP_LOGS") {
        std::fs::write(path, &logs).expect("dump logs");
    }
    let found = leaks(&logs, &phrase, &key_hex);
    assert!(found.is_empty(), "logs leak: {found:?}");
    let found = leaks(&files_during, &phrase, &key_hex);
    assert!(found.is_empty(), "files leak: {found:?}");

    // The CLI, with its own logging at TRACE: create prints the phrase on stdout (that is
    // its job) and nowhere else; no other command prints it at all.
    let d = tempfile::tempdir().expect("tempdir");
    let created = node(d.path(), &["wallet", "create", "--json"], "", &[]);
    let phrase = ok(&created)["phrase"].as_str().expect("phrase").to_string();
    let key_hex = key_hex_of(&phrase);
    let found = leaks(&stderr(&created), &phrase, &key_hex);
    assert!(found.is_empty(), "create's stderr leaks: {found:?}");
    let words: Vec<&str> = phrase.split(' ').collect();
    let answers = format!("{}\n{}\n{}\n", words[2], words[6], words[10]);
    for (args, stdin) in [
        (&["wallet", "address", "--json"][..], ""),
        (&["wallet", "confirm-backup", "--positions", "3,7,11"], answers.as_str()),
        (&["wallet", "address"], ""),
    ] {
        let out = node(d.path(), args, stdin, &[]);
        assert!(out.status.success(), "{args:?}: {}", last_line(&stderr(&out)));
        let found = leaks(&format!("{}\n{}", stdout(&out), stderr(&out)), &phrase, &key_hex);
        assert!(found.is_empty(), "{args:?} leaks: {found:?}");
    }
    let shown = node(d.path(), &["wallet", "show-phrase", "--i-understand"], "", &[]);
    assert!(leaks(&stderr(&shown), &phrase, &key_hex).is_empty(), "show-phrase's stderr leaks");
    let found = leaks(&files_text(d.path()), &phrase, &key_hex);
    assert!(found.is_empty(), "CLI data files leak: {found:?}");
    let deleted = node(d.path(), &["wallet", "delete", "--i-understand"], "", &[]);
    assert!(deleted.status.success());
    assert!(leaks(&format!("{}{}", stdout(&deleted), stderr(&deleted)), &phrase, &key_hex).is_empty());
}
