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
use idlewatt::wallet::WalletError;

// The `wallet` subcommands (in a folder cargo does not treat as another binary).
#[path = "idlewatt-node/wallet_cli.rs"]
mod wallet_cli;

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
    /// Your wallet: the key that identifies this node and receives its earnings.
    Wallet {
        #[command(subcommand)]
        command: wallet_cli::WalletCommand,
    },
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
        Command::Wallet { command } => wallet_cli::run(command),
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
