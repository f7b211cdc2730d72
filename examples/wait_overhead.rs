//! Benchmark: what `idlewatt-node run` costs while it waits for the owner to leave.
//!
//! Starts Xvfb, starts the real binary (`idlewatt-node run --idle-after 1h`, so it
//! waits the whole time with X11 idle detection working), and samples its CPU time and
//! resident memory from /proc for the given number of seconds. Prints CPU % of one core
//! and RSS (mean and max).
//!
//! `cargo build --bin idlewatt-node && cargo run --example wait_overhead -- [seconds]`
//! (default 60)

#[path = "../tests/util/xvfb.rs"]
#[allow(dead_code)]
mod xvfb;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// CPU time of all the process's threads, ns (first field of each thread's schedstat:
/// nanosecond resolution, unlike the 10 ms ticks of /proc/PID/stat).
fn cpu_ns(pid: u32) -> anyhow::Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat"))?;
        total += stat.split_whitespace().next().context("schedstat")?.parse::<u64>()?;
    }
    Ok(total)
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("VmRSS")?;
    Ok(line.split_whitespace().nth(1).context("VmRSS value")?.parse()?)
}

fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(60);
    let exe = std::env::current_exe()?;
    let bin = exe.parent().and_then(|p| p.parent()).context("target dir")?.join("idlewatt-node");
    anyhow::ensure!(bin.exists(), "{} not built: run `cargo build --bin idlewatt-node` first", bin.display());
    let x = xvfb::Xvfb::start();
    let data = tempfile::tempdir()?;
    let mut child = Command::new(&bin)
        .args(["run", "--idle-after", "1h", "--json"])
        .env("DISPLAY", &x.display)
        .env("IDLEWATT_DATA_DIR", data.path())
        .stdout(Stdio::null())
        .spawn()?;
    let pid = child.id();
    // Let it start up, then measure.
    std::thread::sleep(Duration::from_secs(2));
    let start_ns = cpu_ns(pid)?;
    let started = Instant::now();
    let mut rss = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        rss.push(rss_kib(pid)?);
        std::thread::sleep(Duration::from_secs(1));
    }
    let cpu_s = cpu_ns(pid)?.saturating_sub(start_ns) as f64 / 1e9;
    let wall = started.elapsed().as_secs_f64();
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = child.wait();
    let mean = rss.iter().sum::<u64>() as f64 / rss.len().max(1) as f64 / 1024.0;
    let max = rss.iter().copied().max().unwrap_or(0) as f64 / 1024.0;
    println!("idlewatt-node run, waiting for the owner to leave, {wall:.0} s:");
    println!(
        "  CPU  {:.4} % of one core ({:.1} ms CPU time, all threads, from schedstat)",
        100.0 * cpu_s / wall,
        cpu_s * 1e3
    );
    println!("  RSS  mean {mean:.1} MiB, max {max:.1} MiB");
    Ok(())
}
