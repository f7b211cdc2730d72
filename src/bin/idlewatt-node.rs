//! `idlewatt-node`: the headless Idlewatt node for servers, CI and the curious.
//! A thin command line over the core library; every subcommand is a few lines.
//!
//! Exit codes: 0 success, 1 failure, 2 bad arguments, 3 no usable GPU, 4 no usable OS
//! keyring (missing, locked or access denied).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use idlewatt::bench;
use idlewatt::compute::{AdapterPolicy, ComputeError, Engine, HardwareProfile};
use idlewatt::config::Settings;
use idlewatt::node::{Event, EventKind, LocalJobs, Node, NodeConfig, RunWhen};
use idlewatt::paths::DataDirs;
use idlewatt::wallet::WalletError;
use idlewatt_protocol::TokenAmount;

// The `wallet` subcommands (shared with `idlewatt-client`; in folders cargo does not
// treat as other binaries).
#[path = "shared/wallet_cli.rs"]
mod wallet_cli;
// The `withdraw` and `withdrawals` subcommands.
#[path = "idlewatt-node/withdraw_cli.rs"]
mod withdraw_cli;

#[derive(Parser, Debug)]
#[command(name = "idlewatt-node", version, about = "Lend your idle GPU to the Idlewatt network, headless.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show the GPU and host this node would compute on.
    Info {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Measure the matmul kernels against a CPU SGEMM and check their results. The first
    /// run tunes the kernels for this GPU and driver (a few hundred ms) and caches the
    /// choice in the data folder.
    Bench {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Square matrix sizes to run, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "256,512,1024",
              value_parser = clap::value_parser!(u32).range(1..=16384))]
        sizes: Vec<u32>,
        /// Precisions to measure, comma separated: f32, f16 (f16 needs a GPU with
        /// SHADER_F16), or `all` for every precision this GPU has.
        #[arg(long, value_delimiter = ',', default_value = "f32")]
        precision: Vec<String>,
        /// Tune again even if a tuning for this GPU and driver is cached.
        #[arg(long)]
        retune: bool,
        /// Use the default kernels: no tuning, no cache.
        #[arg(long, conflicts_with = "retune")]
        no_tune: bool,
        /// Also time the first (classic) f32 kernel on the same inputs (before/after).
        #[arg(long)]
        baseline: bool,
        /// Run each product this many times back to back on the same buffers; the
        /// figure is the best run (for power sampling: see scripts/gpu-bench).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        repeat: u32,
        /// Allow a software (CPU) adapter such as lavapipe; meant for tests.
        #[arg(long)]
        allow_software: bool,
    },
    /// Run the node: compute while you are away, give the GPU back when you return.
    Run {
        /// Print one JSON event per line instead of text.
        #[arg(long)]
        json: bool,
        /// `idle`: only while you are away. `always`: whenever limits allow (servers).
        /// Default: the setting (idle).
        #[arg(long, value_name = "idle|always")]
        when: Option<RunWhen>,
        /// How long without keyboard/mouse input counts as away (e.g. 90s, 5m, 1h).
        /// Default: the setting (5m).
        #[arg(long, value_parser = parse_duration)]
        idle_after: Option<std::time::Duration>,
        /// GPU power cap in watts for this run. Default: the setting (80 % of rated power).
        #[arg(long)]
        max_watts: Option<f64>,
        /// GPU temperature limit in °C for this run. Default: the setting (80 °C).
        #[arg(long)]
        max_temp: Option<f64>,
        /// Allow a software (CPU) adapter such as lavapipe; meant for tests.
        #[arg(long)]
        allow_software: bool,
        /// Size of the local benchmark jobs (until a network is configured).
        #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=16384))]
        job_size: u32,
    },
    /// Your wallet: the key that identifies this node and receives its earnings.
    Wallet {
        #[command(subcommand)]
        command: wallet_cli::WalletCommand,
    },
    /// Show a node's earnings: verified, pending and withdrawable tokens, recent jobs.
    Balance {
        /// Print the coordinator's JSON answer instead of text.
        #[arg(long)]
        json: bool,
        /// Whose balance (0x…). Default: this node's wallet.
        #[arg(long, value_parser = parse_address)]
        address: Option<idlewatt_protocol::Address>,
        /// Coordinator URL (http://host:port). Default: the local network in the data folder.
        #[arg(long)]
        coordinator: Option<String>,
    },
    /// Withdraw earnings to an address on chain (the network pays the gas).
    Withdraw {
        /// Where to pay (0x…; mixed case must be a valid EIP-55 checksum).
        #[arg(long)]
        to: String,
        /// How many tokens, e.g. 1.5.
        #[arg(long)]
        amount: String,
        /// Print JSON (the final state of the withdrawal) instead of text.
        #[arg(long)]
        json: bool,
        /// Coordinator URL (http://host:port). Default: the setting, else the local network.
        #[arg(long)]
        coordinator: Option<String>,
        /// Seconds to follow the withdrawal until it is confirmed or failed (0: do not wait).
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
    /// List this wallet's withdrawals: status, transaction hash, block.
    Withdrawals {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Whose withdrawals (0x…). Default: this node's wallet.
        #[arg(long, value_parser = parse_address)]
        address: Option<idlewatt_protocol::Address>,
        /// Coordinator URL (http://host:port). Default: the setting, else the local network.
        #[arg(long)]
        coordinator: Option<String>,
    },
}

fn parse_address(s: &str) -> Result<idlewatt_protocol::Address, String> {
    s.trim().parse().map_err(|e| format!("{s:?} is not an address like 0x1234…abcd: {e}"))
}

/// "90", "90s", "5m", "1h", "250ms".
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{s:?} is not a duration like 90s, 5m or 1h"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: use ms, s, m or h")),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| format!("{s:?} is out of range"))
}

/// Errors that mean "this machine has no GPU we will use" (exit code 3).
fn is_no_gpu(err: &anyhow::Error) -> bool {
    err.downcast_ref::<ComputeError>().is_some_and(|e| {
        matches!(e, ComputeError::NoAdapter | ComputeError::SoftwareRefused { .. } | ComputeError::RequestDevice { .. })
    })
}

fn main() -> ExitCode {
    // wgpu's GL back-end logs an error for every EGL display it probes and does not
    // find; that is normal on a headless machine, not news.
    let filter = tracing_subscriber::EnvFilter::try_from_env("IDLEWATT_LOG")
        .unwrap_or_else(|_| "warn,wgpu_hal::gles=off".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("idlewatt-node: {}", format!("{err:#}").replace('\n', " "));
            let no_keyring = err.downcast_ref::<WalletError>().is_some_and(WalletError::is_keyring_unavailable);
            ExitCode::from(if is_no_gpu(&err) {
                3
            } else if no_keyring {
                4
            } else {
                1
            })
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Info { json } => info(json),
        Command::Bench { json, sizes, precision, retune, no_tune, baseline, repeat, allow_software } => {
            let tune = if no_tune {
                Tune::No
            } else if retune {
                Tune::Again
            } else {
                Tune::Cached
            };
            bench(json, &sizes, &precision, tune, (baseline, repeat), allow_software)
        }
        Command::Run { json, when, idle_after, max_watts, max_temp, allow_software, job_size } => {
            let data = DataDirs::from_env()?;
            let mut settings = Settings::load(&data)?;
            settings.max_watts = max_watts.or(settings.max_watts);
            settings.max_temp_c = max_temp.unwrap_or(settings.max_temp_c);
            settings.validate()?;
            let mut config = NodeConfig::new(data, settings);
            if let Some(when) = when {
                config.when = when;
            }
            config.idle_after = idle_after.unwrap_or(config.idle_after);
            config.adapter =
                AdapterPolicy { allow_software: allow_software || config.adapter.allow_software }.with_env();
            run_node(config, json, job_size)
        }
        Command::Wallet { command } => {
            wallet_cli::run(&idlewatt::wallet::Wallet::new(&DataDirs::from_env()?), "idlewatt-node", command)
        }
        Command::Balance { json, address, coordinator } => balance(json, address, coordinator),
        Command::Withdraw { to, amount, json, coordinator, wait } => {
            withdraw_cli::withdraw(&to, &amount, json, coordinator, std::time::Duration::from_secs(wait))
        }
        Command::Withdrawals { json, address, coordinator } => withdraw_cli::list(json, address, coordinator),
    }
}

/// `balance`: asks the coordinator (or the embedded local network) for an account.
fn balance(json: bool, address: Option<idlewatt_protocol::Address>, coordinator: Option<String>) -> anyhow::Result<()> {
    use idlewatt::network::CoordinatorClient;
    let wallet = idlewatt::wallet::Wallet::new(&DataDirs::from_env()?);
    let address = match address {
        Some(a) => a,
        None => wallet
            .info()?
            .map(|w| w.address)
            .context("no wallet yet: create one with `idlewatt-node wallet create`, or pass --address 0x…")?,
    };
    // The job history is shown to the account's owner only: sign as the wallet when it
    // is this account's (the balances alone are public).
    let signer = wallet.signer().ok().filter(|s| s.address() == address).map(std::sync::Arc::new);
    let owner = signer.is_some();
    let client_for = |url: &str| match &signer {
        Some(s) => CoordinatorClient::new(url, s.clone()),
        None => CoordinatorClient::read_only(url),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = coordinator.is_none();
    let account = runtime.block_on(async {
        // One resolution for every command: --coordinator, else the setting, else the
        // local network.
        let (url, network) = local_network::open(coordinator, &DataDirs::from_env()?).await?;
        let answer = match client_for(&url) {
            Ok(client) => client.balance(address).await.map_err(anyhow::Error::from),
            Err(e) => Err(e.into()),
        };
        let local = network.is_some();
        local_network::close(network).await?;
        if local {
            answer.context("asking the local network for the balance")
        } else {
            answer.with_context(|| format!("asking {url} for the balance"))
        }
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&account)?);
        return Ok(());
    }
    println!("account       {}", account.address);
    if local && idlewatt::client::demo::enabled() {
        println!(
            "network       the local network on this computer: its jobs come from a built-in demo client (devnet tokens, not real money)"
        );
    }
    println!("verified      {} tokens", account.verified.to_token_string());
    println!("pending       {} tokens", account.pending.to_token_string());
    println!("withdrawable  {} tokens", account.withdrawable.to_token_string());
    if account.recent_jobs.is_empty() && !owner {
        println!("recent jobs are shown to the account's owner only (this machine has not its wallet)");
    } else if account.recent_jobs.is_empty() {
        println!("no jobs yet");
    } else {
        println!("recent jobs:");
    }
    // Client work paid by the local network's demo client is labelled as such: its
    // tokens come from the devnet faucet, not from a real client.
    let demo = idlewatt::client::demo::addresses(&DataDirs::from_env()?);
    let mut from_demo = TokenAmount::ZERO;
    for job in &account.recent_jobs {
        let (m, n, k) = job.job.dims();
        let what = match &job.job {
            idlewatt_protocol::wire::JobSpec::Embeddings(_) => format!("embeddings {m} texts"),
            _ => format!("matmul {m}x{n}x{k}"),
        };
        let origin = idlewatt::client::demo::origin_label(job, &demo);
        if origin == idlewatt::client::demo::PAID_BY_DEMO && job.state == idlewatt_protocol::wire::JobState::Verified {
            from_demo = from_demo.checked_add(job.reward).unwrap_or(from_demo);
        }
        println!(
            "  {}  {what} ({origin})  {:<8}  {} tokens",
            job.lease_id,
            format!("{:?}", job.state).to_lowercase(),
            job.reward.to_token_string()
        );
    }
    if from_demo > TokenAmount::ZERO {
        println!(
            "{} tokens of these came from the built-in demo client on this local network (devnet faucet tokens, not real money)",
            from_demo.to_token_string()
        );
    }
    Ok(())
}

// Which coordinator to talk to, and the embedded local network (shared with
// `idlewatt-client`).
#[path = "shared/local_network.rs"]
pub(crate) mod local_network;

/// Where jobs come from: with a wallet, the configured coordinator or (by default) the
/// local network started in-process; without one, local benchmark jobs that earn nothing,
/// said plainly. Returns the embedded coordinator's handle to keep it running.
async fn job_source(
    config: &NodeConfig,
    job_size: u32,
) -> anyhow::Result<(Box<dyn idlewatt::node::JobSource>, Option<Box<dyn std::any::Any>>)> {
    let wallet = idlewatt::wallet::Wallet::new(&config.data);
    // Absent is the only state that computes unpaid benchmark work. A damaged wallet
    // file or a locked keyring is refused with its own reason: computing unpaid work
    // then would throw away the job kept for the network.
    if wallet.info()?.is_none() {
        eprintln!(
            "idlewatt-node: no wallet yet, so nothing can be earned: computing local benchmark jobs. Create one with `idlewatt-node wallet create`."
        );
        return Ok((Box::new(LocalJobs::new(job_size)), None));
    }
    let (url, network) = local_network::open(config.settings.coordinator_url.clone(), &config.data).await?;
    let handle: Option<Box<dyn std::any::Any>> = match network {
        None => None,
        #[cfg(feature = "embedded-network")]
        Some(network) => {
            // Its demo client pays for real jobs from the devnet faucet, so the node earns.
            let demo = idlewatt::client::demo::enabled()
                .then(|| idlewatt::client::demo::DemoClient::start(&url, &config.data, Default::default()))
                .transpose()?;
            Some(Box::new((network, demo)))
        }
        #[cfg(not(feature = "embedded-network"))]
        Some(never) => match never {},
    };
    let quota = config.settings.model_quota_bytes();
    let jobs = idlewatt::network::jobs_for_wallet(&url, &wallet, &config.data, job_size, quota)?;
    Ok((Box::new(jobs), handle))
}

fn run_node(config: NodeConfig, json: bool, job_size: u32) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let idle = idlewatt::idle::detect();
        if let Err(e) = &idle {
            tracing::warn!(%e, "no idle detection");
        }
        let (jobs, _network) = job_source(&config, job_size).await?;
        let node = Node::new(config, idle, jobs);
        let mut events = node.subscribe();
        let printer = tokio::spawn(async move {
            let mut last_sample = 0;
            loop {
                match events.recv().await {
                    Ok(event) => print_event(&event, json, &mut last_sample),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        node.run(shutdown_signal()).await?;
        // The node dropped its sender: the printer drains what is left and ends.
        let _ = printer.await;
        Ok(())
    })
}

/// Ctrl-C, or SIGTERM on Unix (a service manager or `kill`).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending::<()>().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn print_event(event: &Event, json: bool, last_sample_ms: &mut u64) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let line = if json {
        serde_json::to_string(event).unwrap_or_default()
    } else {
        match &event.kind {
            EventKind::Sample(s) => {
                // Text mode: one line every 15 s is plenty for a person.
                if event.ts_ms.saturating_sub(*last_sample_ms) < 15_000 {
                    return;
                }
                *last_sample_ms = event.ts_ms;
                let label =
                    |m: &idlewatt::sensors::Measurement| if m.source.is_measured() { "measured" } else { "estimated" };
                let temp = s
                    .gpu_temp_c
                    .as_ref()
                    .map_or("temperature not measured".to_owned(), |t| format!("{:.0} °C ({})", t.value, label(t)));
                format!(
                    "  GPU {:.0} W ({}), {temp}, duty {:.0} %; today {:.3} kWh ≈ {:.2} {}, {:.0} g CO₂",
                    s.gpu_watts.value,
                    label(&s.gpu_watts),
                    s.duty * 100.0,
                    s.today_wh / 1000.0,
                    s.today_cost,
                    s.currency,
                    s.today_co2_g
                )
            }
            EventKind::State { state, reason } => format!("{state:?}: {}", describe(reason)),
            EventKind::Progress { job_id, fraction } => format!("  {job_id}: {:.0} %", fraction * 100.0),
            EventKind::DownloadProgress { model, done_bytes, total_bytes } => {
                format!("  {model}: {}", idlewatt::node::download_line(*done_bytes, *total_bytes))
            }
            EventKind::JobDone { job_id, flops, gpu_seconds } => {
                format!("  {job_id} done: {:.2} GFLOP in {gpu_seconds:.2} s of GPU time", flops / 1e9)
            }
            EventKind::Yielded { latency_ms, kept_fraction } => match latency_ms {
                Some(ms) => format!(
                    "  GPU given back {ms:.0} ms after your input; {:.0} % of the job kept",
                    kept_fraction * 100.0
                ),
                None => format!("  GPU released; {:.0} % of the job kept", kept_fraction * 100.0),
            },
        }
    };
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn describe(reason: &idlewatt::node::Reason) -> String {
    use idlewatt::node::Reason as R;
    match reason {
        R::Starting => "starting".into(),
        R::OwnerActive { idle_s, idle_after_s } => {
            format!("you are using the computer (idle {idle_s} s of {idle_after_s} s)")
        }
        R::OwnerReturned => "you came back: giving the GPU back".into(),
        R::OwnerAway => "you are away: computing".into(),
        R::AlwaysOn => "computing whenever limits allow".into(),
        R::NoIdleDetection { message } => message.clone(),
        R::FullScreen => "a full-screen app has focus".into(),
        R::GpuBusy { process: Some(name), percent } => format!("{name} is using the GPU ({percent} %)"),
        R::GpuBusy { process: None, percent } => format!("another program is using the GPU ({percent} %)"),
        R::UserPaused => "paused by you".into(),
        R::PowerLimit { max_watts } => format!("keeping under {max_watts:.0} W"),
        R::ThermalLimit { max_celsius } => format!("keeping under {max_celsius:.0} °C"),
        R::OnBattery => "on battery".into(),
        R::OutsideSchedule => "outside your schedule".into(),
        R::GpuUnavailable { message } => format!("GPU unavailable: {message}"),
        R::JobSourceUnavailable { message } | R::SettingsDamaged { message } => message.clone(),
        R::ShuttingDown => "shutting down".into(),
    }
}

fn info(json: bool) -> anyhow::Result<()> {
    // Describe whatever adapter there is, software included; say whether it would be used.
    let engine = Engine::new(AdapterPolicy { allow_software: true })?;
    let profile = engine.hardware_profile();
    let usable = !profile.gpu.software || AdapterPolicy::default().with_env().allow_software;
    if json {
        let mut value = serde_json::to_value(&profile)?;
        value["usable"] = usable.into();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_profile(&profile, usable);
    }
    Ok(())
}

fn print_profile(p: &HardwareProfile, usable: bool) {
    let g = &p.gpu;
    let h = &p.host;
    let mib = |b: u64| format!("{:.0} MiB", b as f64 / 1048576.0);
    println!("GPU        {} ({}, {} GPU, {})", g.name, g.vendor, g.device_type, g.backend);
    println!("Driver     {} {}", g.driver, g.driver_info);
    println!(
        "Buffers    max {} per buffer, {} per storage binding",
        mib(g.limits.max_buffer_size),
        mib(g.limits.max_storage_buffer_binding_size)
    );
    println!(
        "Workgroups {} invocations, {} KiB shared memory, {} per dispatch dimension",
        g.limits.max_compute_invocations_per_workgroup,
        g.limits.max_compute_workgroup_storage_size / 1024,
        g.limits.max_compute_workgroups_per_dimension
    );
    let cores = h.physical_cores.map_or(String::new(), |c| format!("{c} cores, "));
    println!("CPU        {} ({cores}{} threads, {})", h.cpu_model, h.logical_cpus, h.arch);
    println!("Memory     {}", mib(h.total_memory_bytes));
    println!("OS         {} (kernel {})", h.os, h.kernel);
    if !usable {
        println!("\nThis is a software adapter: Idlewatt will not compute on it unless you pass --allow-software.");
    }
}

/// How `bench` picks its kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tune {
    /// The cached tuning when it fits this GPU and driver, else tune now.
    Cached,
    /// Tune now whatever is cached.
    Again,
    /// Default kernels.
    No,
}

/// The precisions `--precision` names, checked against what the GPU has.
fn bench_precisions(
    asked: &[String],
    have: &[idlewatt_protocol::Precision],
) -> anyhow::Result<Vec<idlewatt_protocol::Precision>> {
    if asked.iter().any(|p| p == "all") {
        return Ok(have.to_vec());
    }
    let mut out = Vec::new();
    for p in asked {
        let p: idlewatt_protocol::Precision = p.trim().parse().map_err(anyhow::Error::msg)?;
        anyhow::ensure!(have.contains(&p), "this GPU has no {p} kernel path (it offers {have:?})");
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

fn bench(
    json: bool,
    sizes: &[u32],
    precision: &[String],
    tune: Tune,
    (baseline, repeat): (bool, u32),
    allow_software: bool,
) -> anyhow::Result<()> {
    let engine = Engine::new(AdapterPolicy { allow_software }.with_env())?;
    let precisions = bench_precisions(precision, &engine.precisions())?;
    let tuning = match tune {
        Tune::No => None,
        Tune::Cached | Tune::Again => {
            let cache = DataDirs::from_env()?.join(idlewatt::compute::tuning::TUNING_FILE);
            if !json && tune == Tune::Again {
                eprintln!("tuning the kernels for this GPU…");
            }
            let (t, fresh) = engine.tuned(&cache, idlewatt::compute::tuning::DEFAULT_BUDGET, tune == Tune::Again)?;
            Some((t, fresh))
        }
    };
    let bar = if json || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(1000);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:>14} [{bar:40}] {percent:>3}% ({elapsed})")
                .context("progress bar template")?
                .progress_chars("=> "),
        );
        bar
    };
    let options = bench::BenchOptions { sizes: sizes.to_vec(), precisions, baseline, repeat };
    let mut report = bench::run_with(&engine, &options, &mut |p| {
        bar.set_message(format!("matmul {}³", p.size));
        bar.set_position((p.fraction_done * 1000.0) as u64);
    })?;
    bar.finish_and_clear();
    if let Some((t, fresh)) = tuning {
        report.tuning = Some(t);
        report.tuned_now = fresh;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let g = &report.hardware.gpu;
    println!("GPU: {} ({}, {})   CPU baseline: {}", g.name, g.device_type, g.backend, report.cpu_baseline);
    let paths: Vec<&str> = report.paths.iter().map(|p| p.as_str()).collect();
    match (&report.tuning, report.tuned_now) {
        (Some(_), true) => println!("kernel paths: {}; tuned now for this GPU and driver", paths.join(", ")),
        (Some(_), false) => println!("kernel paths: {}; tuning read from the cache", paths.join(", ")),
        (None, _) => println!("kernel paths: {}; default kernels (not tuned)", paths.join(", ")),
    }
    println!(
        "{:>6} {:<12} {:<16} {:>11} {:>11} {:>11} {:>9} {:>11} {:>8} {:>13} {:>10}",
        "size",
        "path",
        "shape",
        "GPU GFLOP/s",
        "classic",
        "CPU GFLOP/s",
        "GPU/CPU",
        "max rel err",
        "slices",
        "median slice",
        "max slice"
    );
    for r in &report.results {
        let classic = r.classic_gflops.map_or("-".to_owned(), |g| format!("{g:.2}"));
        println!(
            "{:>6} {:<12} {:<16} {:>11.2} {:>11} {:>11.2} {:>8.2}x {:>11.1e} {:>8} {:>10.2} ms {:>7.2} ms",
            r.size,
            r.path.as_str(),
            r.shape,
            r.gpu_gflops,
            classic,
            r.cpu_gflops,
            r.gpu_vs_cpu,
            r.max_relative_error,
            r.slices,
            r.median_slice_ms,
            r.max_slice_ms
        );
    }
    Ok(())
}
