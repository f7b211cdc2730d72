//! The desktop app's core ([`idlewatt::app::AppCore`]) headless, against real parts: the
//! GPU (lavapipe here), a private gnome-keyring on its own D-Bus (`util::keyring`), and
//! the real coordinator started in-process on 127.0.0.1:0 as the app's local network.
//! `harness = false` for the same reason as tests/wallet.rs: the keyring's bus address
//! must be in the environment before any thread exists. Tests run in sequence; the last
//! one locks the keyring for good.
#![allow(clippy::unwrap_used)]

mod util;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use idlewatt::app::{AppCore, AppEvent, AppState, ErrorKind, JobOrigin, Launcher, LocalNetwork, NoticeKind, Overrides};
use idlewatt::config::{RunMode, Settings};
use idlewatt::node::{EventKind, Reason};
use idlewatt::paths::DataDirs;
use idlewatt::wallet::Wallet;
use tokio::sync::broadcast;

type Test = (&'static str, fn(&Ctx));

const TESTS: &[Test] = &[
    ("onboarding_creates_a_wallet_and_earning_starts", onboarding_creates_a_wallet_and_earning_starts),
    ("pause_pause_for_and_resume_follow_the_node", pause_pause_for_and_resume_follow_the_node),
    ("bad_settings_are_refused_by_key_and_nothing_is_saved", bad_settings_are_refused_by_key_and_nothing_is_saved),
    ("restart_keeps_settings_wallet_and_earnings", restart_keeps_settings_wallet_and_earnings),
    ("earnings_today_count_every_job_past_the_latest_20", earnings_today_count_every_job_past_the_latest_20),
    ("hardware_and_benchmark_on_the_real_gpu", hardware_and_benchmark_on_the_real_gpu),
    (
        "withdrawals_on_the_local_devnet_complete_and_are_listed",
        withdrawals_on_the_local_devnet_complete_and_are_listed,
    ),
    (
        "damaged_settings_stop_the_node_until_the_owner_saves_them",
        damaged_settings_stop_the_node_until_the_owner_saves_them,
    ),
    // Last: it leaves the keyring locked.
    ("a_locked_keyring_is_reported_and_the_app_keeps_running", a_locked_keyring_is_reported_and_the_app_keeps_running),
];

struct Ctx {
    keyring: util::keyring::KeyringSession,
    runtime: tokio::runtime::Runtime,
    /// One data folder shared by the tests that follow each other (onboard → restart).
    data: tempfile::TempDir,
}

#[derive(Debug)]
struct Embedded(idlewatt_coordinator::Handle);

impl LocalNetwork for Embedded {
    fn url(&self) -> String {
        self.0.url()
    }
    fn stop(self: Box<Self>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            // Every scenario ends with the money invariant of the network it earned on.
            if !std::thread::panicking() {
                util::coordinator::assert_books(&self.0.url()).await;
            }
            self.0.shutdown().await.expect("coordinator stops cleanly");
        })
    }
}

/// The real coordinator, its database in the data folder, as the app embeds it.
fn launcher() -> Launcher {
    Arc::new(|data: DataDirs| {
        Box::pin(async move {
            let config = idlewatt_coordinator::Config {
                database: data.join("network.sqlite").to_string_lossy().into_owned(),
                bootstrap_budget: idlewatt_protocol::TokenAmount::tokens(1_000),
                ..idlewatt_coordinator::Config::default()
            };
            let handle = idlewatt_coordinator::start(config).await.map_err(|e| e.to_string())?;
            Ok(Box::new(Embedded(handle)) as Box<dyn LocalNetwork>)
        })
    })
}

/// Jobs of ≤ 512³ (a few tenths of a second on lavapipe: short, yet slow enough to stay
/// under the coordinator's request rate limit).
fn overrides() -> Overrides {
    Overrides { idle_after: Some(Duration::from_secs(1)), max_job_dim: 512, ..Overrides::default() }
}

fn core_at(dir: &std::path::Path) -> AppCore {
    let data = DataDirs::at(dir).unwrap();
    AppCore::new(data.clone(), Wallet::new(&data), launcher(), overrides())
}

/// Waits for an event matching `pred` (or the deadline).
async fn wait_for(rx: &mut broadcast::Receiver<AppEvent>, secs: u64, pred: impl Fn(&AppEvent) -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Err(_) => return false,
            Ok(Ok(e)) if pred(&e) => return true,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(broadcast::error::RecvError::Closed)) => return false,
        }
    }
}

/// Polls `status()` until `pred` holds (or the deadline).
async fn status_becomes(core: &AppCore, secs: u64, pred: impl Fn(AppState) -> bool) -> AppState {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = core.status().state;
        if pred(s) || Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn onboarding_creates_a_wallet_and_earning_starts(ctx: &Ctx) {
    ctx.runtime.block_on(async {
        let core = core_at(ctx.data.path());
        let mut events = core.subscribe();
        assert_eq!(core.status().state, AppState::Setup);
        assert!(!core.status().onboarded);
        let e = core.finish_onboarding().await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoWallet, "{e:?}");

        // Servers-style settings: compute whenever allowed, on lavapipe.
        let settings = Settings { run_mode: RunMode::Always, allow_software_adapter: true, ..core.settings() };
        core.save_settings(settings).await.unwrap();

        let created = core.wallet_create(12).await.unwrap();
        assert_eq!(created.phrase.len(), 12);
        assert!(created.address.starts_with("0x") && created.address.len() == 42);
        assert!(core.wallet_create(12).await.is_err(), "an existing wallet is never replaced by create");
        let positions = core.wallet_backup_challenge().await.unwrap();
        assert_eq!(positions.len(), 3);
        let wrong = vec!["zoo".to_owned(); 3];
        let e = core.wallet_confirm_backup(wrong).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Wallet, "{e:?}");
        assert!(!e.message.contains(&created.phrase[0]), "no word of the phrase in an error");
        let positions = core.wallet_backup_challenge().await.unwrap();
        let answers = positions.iter().map(|&p| created.phrase[p as usize - 1].clone()).collect();
        let info = core.wallet_confirm_backup(answers).await.unwrap();
        assert!(info.backed_up);
        assert_eq!(info.address, created.address);

        let status = core.finish_onboarding().await.unwrap();
        assert!(status.onboarded && status.network.embedded);
        assert!(status.network.url.as_deref().is_some_and(|u| u.starts_with("http://127.0.0.1:")), "{status:?}");

        let computing = wait_for(
            &mut events,
            60,
            |e| matches!(e, AppEvent::Node(n) if matches!(n.kind, EventKind::JobDone { .. })),
        )
        .await;
        assert!(computing, "a job finished on the local network within 60 s");
        assert!(
            wait_for(&mut events, 30, |e| matches!(e, AppEvent::Balance(b) if b.total_earned != "0")).await,
            "balance_changed with earnings"
        );
        let balance = core.balance().await.unwrap();
        assert!(balance.devnet && balance.jobs_verified >= 1, "{balance:?}");
        assert_ne!(balance.today_earned, "0", "{balance:?}");
        // Where the money came from (issue 14): on the local network client work is paid
        // by its demo client and the rest by the devnet's calibration budget; each job
        // says which. The demo client's first job follows within a minute or so.
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut jobs = balance.recent_jobs.clone();
        while !jobs.iter().any(|j| j.origin == JobOrigin::DemoClient) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_secs(1)).await;
            jobs = core.balance().await.unwrap().recent_jobs;
        }
        assert!(jobs.iter().any(|j| j.origin == JobOrigin::DemoClient), "no job paid by the demo client: {jobs:?}");
        assert!(jobs.iter().all(|j| j.origin != JobOrigin::ClientPaid), "only the demo client pays here: {jobs:?}");
        let market = core.market().await.unwrap();
        assert!(market.embedded && market.demo_client && market.message.is_none(), "{market:?}");
        assert!(market.paid_jobs_waiting.is_some() && market.calibration_budget, "{market:?}");
        let prices = market.prices.expect("the local network publishes its price list");
        assert_eq!((prices.matmul_per_tflop.as_str(), prices.fee_bps), ("1", 500), "{prices:?}");
        assert!(!core.recent_samples().is_empty(), "samples are kept for the chart");
        // Energy is integrated once a second while computing.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut energy = core.energy(7).await.unwrap();
        while energy.today.wh <= 0.0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(500)).await;
            energy = core.energy(7).await.unwrap();
        }
        assert_eq!(energy.days.len(), 7);
        assert_eq!(energy.today.date, chrono::Local::now().format("%Y-%m-%d").to_string());
        assert!(energy.today.wh > 0.0 && energy.jobs_done >= 1, "{energy:?}");
        assert_ne!(energy.today.earned, "0");
        core.shutdown().await;
    });
}

fn pause_pause_for_and_resume_follow_the_node(ctx: &Ctx) {
    ctx.runtime.block_on(async {
        let core = core_at(ctx.data.path());
        core.start().await;
        let active = |s| matches!(s, AppState::Computing | AppState::Waiting | AppState::Throttled);
        assert!(active(status_becomes(&core, 30, active).await));
        let s = core.pause(None).await;
        assert_eq!(s.paused_until_ms, None);
        assert_eq!(status_becomes(&core, 10, |s| s == AppState::Paused).await, AppState::Paused);
        assert_eq!(
            core.status().reason.map(|r| serde_json::to_value(r).unwrap()["kind"].clone()),
            Some("user_paused".into())
        );
        let s = core.pause(Some(60)).await;
        let until = s.paused_until_ms.expect("a timed pause has an end");
        let in_an_hour = chrono::Utc::now().timestamp_millis() + 3_600_000;
        assert!((until - in_an_hour).abs() < 10_000, "{until} vs {in_an_hour}");
        let s = core.resume().await;
        assert_eq!(s.paused_until_ms, None);
        assert!(active(status_becomes(&core, 10, active).await), "running again after resume");
        core.shutdown().await;
        // Issue 12 (a closed state): a late call after shutdown — a balance refresh, the
        // network panel — starts nothing again, and a late start is a no-op.
        let late = core.network().await.expect_err("the network is not restarted after shutdown");
        assert!(late.message.contains("closing"), "{late:?}");
        core.start().await;
        assert!(core.network().await.is_err(), "still closed after a late start");
    });
}

fn bad_settings_are_refused_by_key_and_nothing_is_saved(ctx: &Ctx) {
    ctx.runtime.block_on(async {
        let core = core_at(ctx.data.path());
        let path = Settings::path(core.data());
        let before = std::fs::read_to_string(&path).unwrap();
        for (bad, key) in [
            (Settings { max_temp_c: 120.0, ..core.settings() }, "max_temp_c"),
            (Settings { idle_after_min: 0, ..core.settings() }, "idle_after_min"),
            (Settings { currency: "euro".into(), ..core.settings() }, "currency"),
            (Settings { coordinator_url: Some("ftp://x".into()), ..core.settings() }, "coordinator_url"),
        ] {
            let e = core.save_settings(bad).await.unwrap_err();
            assert_eq!((e.kind, e.key.as_deref()), (ErrorKind::InvalidSetting, Some(key)), "{e:?}");
            assert!(e.message.ends_with('.') && e.message.len() > 10, "{e:?}");
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "a refused value is not saved");
        assert_eq!(core.settings().max_temp_c, 80.0);
    });
}

fn restart_keeps_settings_wallet_and_earnings(ctx: &Ctx) {
    ctx.runtime.block_on(async {
        let core = core_at(ctx.data.path());
        core.start().await;
        let address = core.wallet_info().await.unwrap().expect("wallet").address;
        let earned = core.balance().await.unwrap().total_earned;
        let settings = Settings { max_temp_c: 70.0, language: Some(idlewatt::config::Language::De), ..core.settings() };
        core.save_settings(settings.clone()).await.unwrap();
        // A setting change restarts the node, which computes again.
        let mut events = core.subscribe();
        assert!(
            wait_for(
                &mut events,
                60,
                |e| matches!(e, AppEvent::Node(n) if matches!(n.kind, EventKind::JobDone { .. }))
            )
            .await
        );
        core.shutdown().await;
        drop(core);
        let again = core_at(ctx.data.path());
        assert!(again.onboarded());
        assert_eq!(again.settings(), settings);
        assert_eq!(again.wallet_info().await.unwrap().map(|w| w.address), Some(address));
        again.start().await;
        let now = again.balance().await.unwrap().total_earned;
        let as_f = |s: &str| s.parse::<f64>().unwrap();
        assert!(as_f(&now) >= as_f(&earned), "{now} < {earned}: earnings lost");
        again.shutdown().await;
    });
}

fn earnings_today_count_every_job_past_the_latest_20(ctx: &Ctx) {
    ctx.runtime.block_on(async {
        let core = core_at(ctx.data.path());
        core.start().await;
        // The coordinator lists only the latest 20 jobs; the app must count them all.
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut balance = core.balance().await.unwrap();
        while balance.jobs_verified <= 25 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_secs(1)).await;
            balance = core.balance().await.unwrap();
        }
        // Paused (not shut down: a closed app starts no network again to answer), so
        // the counts below are stable.
        core.pause(None).await;
        assert_eq!(status_becomes(&core, 10, |s| s == AppState::Paused).await, AppState::Paused);
        let balance = core.balance().await.unwrap();
        assert!(balance.jobs_verified > 25, "{balance:?}");
        assert_eq!(balance.today_earned, balance.total_earned, "every job of this test ran today: {balance:?}");
        let energy = core.energy(2).await.unwrap();
        assert_eq!(energy.today.earned, balance.total_earned);
        assert_eq!(energy.jobs_done, balance.jobs_verified + balance.jobs_rejected);
        core.shutdown().await;
    });
}

fn hardware_and_benchmark_on_the_real_gpu(ctx: &Ctx) {
    ctx.runtime.block_on(async {
        let core = core_at(ctx.data.path());
        let hw = core.hardware().await.unwrap();
        let gpu = hw.gpu.expect("a GPU (lavapipe)");
        assert!(gpu.software && gpu.name.contains("llvmpipe"), "{gpu:?}");
        assert!(hw.usable, "software allowed in the settings");
        assert!(hw.host.cores >= 1 && hw.host.ram_bytes > 0);
        let power = hw.sensors.iter().find(|s| s.name == "GPU power").expect("GPU power sensor");
        assert!(!power.measured && power.what.starts_with("estimated"), "{power:?}");
        let mut events = core.subscribe();
        let bench = core.run_benchmark().await.unwrap();
        assert!(bench.gflops > 0.0 && bench.max_rel_err < 1e-3, "{bench:?}");
        assert!(bench.est_tokens_per_hour.as_deref().is_some_and(|t| t != "0"), "{bench:?}");
        let mut fractions = Vec::new();
        while let Ok(e) = events.try_recv() {
            if let AppEvent::BenchProgress(f) = e {
                fractions.push(f);
            }
        }
        assert!(fractions.len() >= 2 && fractions.last() == Some(&1.0), "{fractions:?}");
        let network = core.network().await.unwrap();
        assert!(network.reachable && network.embedded, "{network:?}");
        core.shutdown().await;
    });
}

fn withdrawals_on_the_local_devnet_complete_and_are_listed(ctx: &Ctx) {
    ctx.runtime.block_on(async {
        let core = core_at(ctx.data.path());
        let mut events = core.subscribe();
        let before = core.balance().await.unwrap();
        let withdrawable: f64 = before.withdrawable.parse().unwrap();
        assert!(withdrawable > 0.0, "{before:?}");
        let to = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        // What the owner typed is checked before anything is signed.
        let e = core.withdraw("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "0.001").await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "a wrong checksum: {e:?}");
        let e = core.withdraw(to, "0").await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{e:?}");
        let e = core.withdraw(to, "1000000").await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Chain, "more than the balance: {e:?}");
        assert!(e.message.ends_with('.'), "{e:?}");

        let amount = format!("{:.6}", withdrawable / 2.0);
        let w = core.withdraw(to, &amount).await.unwrap();
        assert_eq!((w.to.as_str(), w.devnet), (to, true), "{w:?}");
        assert_eq!(w.amount.parse::<f64>().unwrap(), amount.parse::<f64>().unwrap());
        let confirmed = wait_for(&mut events, 30, |e| {
            matches!(e, AppEvent::Withdrawal(x) if x.id == w.id && x.status == idlewatt::app::WithdrawalStatus::Confirmed)
        })
        .await;
        assert!(confirmed || w.status == idlewatt::app::WithdrawalStatus::Confirmed, "confirmed on the devnet");
        let list = core.withdrawals().await.unwrap();
        assert_eq!(list.first().map(|x| (x.id.clone(), x.status)), Some((w.id.clone(), idlewatt::app::WithdrawalStatus::Confirmed)));
        let after: f64 = core.balance().await.unwrap().withdrawable.parse().unwrap();
        assert!((withdrawable - after - amount.parse::<f64>().unwrap()).abs() < 1e-9, "{withdrawable} - {amount} != {after}");
        core.shutdown().await;
    });
}

fn a_locked_keyring_is_reported_and_the_app_keeps_running(ctx: &Ctx) {
    ctx.keyring.lock();
    ctx.runtime.block_on(async {
        let core = core_at(ctx.data.path());
        let mut events = core.subscribe();
        core.start().await;
        let status = core.status();
        assert_eq!(status.state, AppState::Error, "{status:?}");
        let reason = serde_json::to_value(&status.reason).unwrap();
        assert!(reason["message"].as_str().is_some_and(|m| m.contains("keyring")), "{reason}");
        assert!(wait_for(&mut events, 1, |e| matches!(e, AppEvent::Notice(n) if n.kind == NoticeKind::Keyring)).await);
        // Everything else still answers.
        assert!(core.network().await.unwrap().reachable);
        assert_eq!(core.settings().max_temp_c, 70.0);
        core.shutdown().await;
    });
}

/// Issue 12: a damaged `settings.json` is never silently replaced by the defaults: the
/// app shows the defaults for review, the node does not run on them and says why, and
/// saving settings starts it (a copy of the damaged file is kept).
fn damaged_settings_stop_the_node_until_the_owner_saves_them(ctx: &Ctx) {
    ctx.runtime.block_on(async {
        let dir = ctx.data.path();
        let before = Settings::load(&DataDirs::at(dir).unwrap()).unwrap();
        std::fs::write(dir.join("settings.json"), b"{\"max_watts\": 90, oops").unwrap();
        let core = core_at(dir);
        core.start().await;
        let status = core.status();
        assert_eq!(status.state, AppState::Error, "{status:?}");
        let Some(Reason::SettingsDamaged { message }) = &status.reason else { panic!("{status:?}") };
        assert!(message.contains("settings.json"), "{message}");
        assert_eq!(std::fs::read(dir.join("settings.json")).unwrap(), b"{\"max_watts\": 90, oops", "left as it is");
        // The owner reviews and saves: the node runs.
        assert_eq!(core.settings(), Settings::default(), "the defaults are shown for review");
        core.save_settings(before).await.unwrap();
        let active = |s| matches!(s, AppState::Computing | AppState::Waiting | AppState::Throttled);
        assert!(active(status_becomes(&core, 30, active).await));
        let copies = std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("settings.json.corrupt-"))
            .count();
        assert_eq!(copies, 1, "the damaged file is kept as a copy");
        core.shutdown().await;
    });
}

fn main() -> ExitCode {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if std::env::args().any(|a| a == "--list") {
        for (name, _) in TESTS {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let keyring = util::keyring::KeyringSession::start();
    #[allow(unsafe_code)]
    // SAFETY: single-threaded here (the daemons are other processes): nothing reads the
    // environment concurrently.
    unsafe {
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", keyring.bus_address());
        std::env::set_var("IDLEWATT_ALLOW_SOFTWARE", "1");
    }
    util::init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let ctx = Ctx { keyring, runtime, data: tempfile::tempdir().unwrap() };
    let mut failed = Vec::new();
    let selected: Vec<&Test> =
        TESTS.iter().filter(|(n, _)| filter.as_ref().is_none_or(|f| n.contains(f.as_str()))).collect();
    println!("\nrunning {} tests (real gnome-keyring, real coordinator, real GPU)", selected.len());
    for (name, test) in selected {
        let started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(&ctx)));
        println!(
            "test {name} ... {} ({:.1} s)",
            if result.is_ok() { "ok" } else { "FAILED" },
            started.elapsed().as_secs_f64()
        );
        if result.is_err() {
            failed.push(*name);
        }
    }
    drop(ctx);
    if failed.is_empty() {
        println!("\ntest result: ok. {passed} passed", passed = TESTS.len() - failed.len());
        ExitCode::SUCCESS
    } else {
        println!("\ntest result: FAILED. failures: {failed:?}");
        ExitCode::FAILURE
    }
}
