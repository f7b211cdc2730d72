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

// The `wallet` subcommands (in a folder cargo does not treat as another binary).
#[path = "idlewatt-node/wallet_cli.rs"]
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
    /// Measure the matmul kernel against a CPU SGEMM and check its results.
    Bench {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Square matrix sizes to run, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "256,512,1024",
              value_parser = clap::value_parser!(u32).range(1..=16384))]
        sizes: Vec<u32>,
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
        #[arg(long, value_enum)]
        when: Option<When>,
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

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum When {
    Idle,
    Always,
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
        Command::Bench { json, sizes, allow_software } => bench(json, &sizes, allow_software),
        Command::Run { json, when, idle_after, max_watts, max_temp, allow_software, job_size } => {
            let data = DataDirs::from_env()?;
            let mut settings = Settings::load(&data)?;
            settings.max_watts = max_watts.or(settings.max_watts);
            settings.max_temp_c = max_temp.unwrap_or(settings.max_temp_c);
            settings.validate()?;
            let mut config = NodeConfig::new(data, settings);
            if let Some(when) = when {
                config.when = match when {
                    When::Idle => RunWhen::Idle,
                    When::Always => RunWhen::Always,
                };
            }
            config.idle_after = idle_after.unwrap_or(config.idle_after);
            config.adapter =
                AdapterPolicy { allow_software: allow_software || config.adapter.allow_software }.with_env();
            run_node(config, json, job_size)
        }
        Command::Wallet { command } => wallet_cli::run(command),
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
    let address = match address {
        Some(a) => a,
        None => idlewatt::wallet::Wallet::new(&DataDirs::from_env()?)
            .info()?
            .map(|w| w.address)
            .context("no wallet yet: create one with `idlewatt-node wallet create`, or pass --address 0x…")?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let account = runtime.block_on(async {
        match coordinator {
            Some(url) => {
                let client = CoordinatorClient::read_only(&url)?;
                client.balance(address).await.with_context(|| format!("asking {url} for the balance"))
            }
            #[cfg(feature = "embedded-network")]
            None => {
                let network = embedded::start(&DataDirs::from_env()?).await?;
                let answer = CoordinatorClient::read_only(&network.url())?.balance(address).await;
                network.shutdown().await.context("stopping the local network")?;
                answer.context("asking the local network for the balance")
            }
            #[cfg(not(feature = "embedded-network"))]
            None => anyhow::bail!("this build has no local network: pass --coordinator URL"),
        }
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&account)?);
        return Ok(());
    }
    println!("account       {}", account.address);
    println!("verified      {} tokens", account.verified.to_token_string());
    println!("pending       {} tokens", account.pending.to_token_string());
    println!("withdrawable  {} tokens", account.withdrawable.to_token_string());
    if account.recent_jobs.is_empty() {
        println!("no jobs yet");
    } else {
        println!("recent jobs:");
    }
    for job in &account.recent_jobs {
        let (m, n, k) = job.job.dims();
        let origin = match job.job.origin() {
            idlewatt_protocol::wire::WorkOrigin::Client => "client",
            idlewatt_protocol::wire::WorkOrigin::Calibration => "calibration",
        };
        println!(
            "  {}  matmul {m}x{n}x{k} ({origin})  {:<8}  {} tokens",
            job.lease_id,
            format!("{:?}", job.state).to_lowercase(),
            job.reward.to_token_string()
        );
    }
    Ok(())
}

/// The local network (DESIGN §6): a coordinator in this process on 127.0.0.1 (any free
/// port), with its SQLite database in the data folder, so the node works with no
/// network configured. Only the binary embeds it; the library talks HTTP to any
/// coordinator.
#[cfg(feature = "embedded-network")]
pub(crate) mod embedded {
    use anyhow::Context;
    use idlewatt::paths::DataDirs;

    /// The models the local network serves: all-MiniLM-L6-v2 when `scripts/setup` put
    /// it in `$IDLEWATT_MODELS` (default `~/.cache/idlewatt-models`).
    fn local_models() -> Vec<idlewatt_coordinator::embed::registry::ModelSpec> {
        let root = std::env::var_os("IDLEWATT_MODELS")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache/idlewatt-models")));
        let Some(dir) = root.map(|r| r.join("all-MiniLM-L6-v2")) else { return Vec::new() };
        if dir.join("tokenizer.json").is_file() && dir.join("model.safetensors").is_file() {
            vec![idlewatt_coordinator::embed::registry::ModelSpec { name: "all-MiniLM-L6-v2".into(), dir }]
        } else {
            Vec::new()
        }
    }

    /// The database file of the local network, in the data folder.
    pub const DATABASE_FILE: &str = "network.sqlite";

    /// Starts the local network; `handle.url()` is where to point the client. With no
    /// chain it is a devnet (withdrawals settled in its ledger only); the chain of
    /// `IDLEWATT_CHAIN_RPC_URL` etc. (what `scripts/devchain` prints) makes it pay out
    /// for real.
    pub async fn start(data: &DataDirs) -> anyhow::Result<idlewatt_coordinator::Handle> {
        let database = data.join(DATABASE_FILE);
        let chain = idlewatt_coordinator::ChainConfig::from_env().map_err(anyhow::Error::msg)?;
        let config = idlewatt_coordinator::Config {
            database: database.to_string_lossy().into_owned(),
            // Calibration work paid from a small devnet budget until clients come.
            bootstrap_budget: if chain.is_none() {
                idlewatt_coordinator::DEVNET_BOOTSTRAP_BUDGET
            } else {
                idlewatt_coordinator::Config::default().bootstrap_budget
            },
            chain,
            models: local_models(),
            ..idlewatt_coordinator::Config::default()
        };
        idlewatt_coordinator::start(config)
            .await
            .with_context(|| format!("starting the local network ({})", database.display()))
    }
}

/// Where jobs come from: with a wallet, the configured coordinator or (by default) the
/// local network started in-process; without one, local benchmark jobs that earn nothing,
/// said plainly. Returns the embedded coordinator's handle to keep it running.
async fn job_source(
    config: &NodeConfig,
    job_size: u32,
) -> anyhow::Result<(Box<dyn idlewatt::node::JobSource>, Option<Box<dyn std::any::Any>>)> {
    let wallet = idlewatt::wallet::Wallet::new(&config.data);
    match wallet.info() {
        Ok(Some(_)) => {}
        Ok(None) | Err(_) => {
            eprintln!(
                "idlewatt-node: no wallet yet, so nothing can be earned: computing local benchmark jobs. Create one with `idlewatt-node wallet create`."
            );
            return Ok((Box::new(LocalJobs::new(job_size)), None));
        }
    };
    let (url, handle): (String, Option<Box<dyn std::any::Any>>) = match &config.settings.coordinator_url {
        Some(url) => (url.clone(), None),
        #[cfg(feature = "embedded-network")]
        None => {
            let network = embedded::start(&config.data).await?;
            (network.url(), Some(Box::new(network)))
        }
        #[cfg(not(feature = "embedded-network"))]
        None => anyhow::bail!("no coordinator configured and this build has no embedded local network"),
    };
    let jobs = idlewatt::network::jobs_for_wallet(&url, &wallet, &config.data, job_size)?;
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
        R::JobSourceUnavailable { message } => message.clone(),
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

fn bench(json: bool, sizes: &[u32], allow_software: bool) -> anyhow::Result<()> {
    let engine = Engine::new(AdapterPolicy { allow_software }.with_env())?;
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
    let report = bench::run(&engine, sizes, &mut |p| {
        bar.set_message(format!("matmul {}³", p.size));
        bar.set_position((p.fraction_done * 1000.0) as u64);
    })?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let g = &report.hardware.gpu;
    println!("GPU: {} ({}, {})   CPU baseline: {}", g.name, g.device_type, g.backend, report.cpu_baseline);
    println!(
        "{:>6} {:>11} {:>11} {:>9} {:>11} {:>8} {:>13} {:>10}",
        "size", "GPU GFLOP/s", "CPU GFLOP/s", "GPU/CPU", "max rel err", "slices", "median slice", "max slice"
    );
    for r in &report.results {
        println!(
            "{:>6} {:>11.2} {:>11.2} {:>8.2}x {:>11.1e} {:>8} {:>10.2} ms {:>7.2} ms",
            r.size,
            r.gpu_gflops,
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
