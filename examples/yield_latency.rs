//! Benchmark: how fast the node gives the GPU back when the owner returns.
//!
//! Starts Xvfb, runs the node in idle mode (X11 idle source, lavapipe or the machine's
//! GPU, local 1024³ jobs) and, over N trials, waits until it computes, waits a random
//! 50–300 ms so the input lands at a random point of a slice, moves the mouse with
//! xdotool and records (a) the node's own figure: from the input, as the X server dates
//! it, to the last GPU slice finished, and (b) the outside view: from just before
//! xdotool starts to the `yielded` event arriving. Prints p50/p90/p99/max of both.
//!
//! `cargo run --example yield_latency -- [trials]` (default 100)

#[path = "../tests/util/xvfb.rs"]
mod xvfb;

use std::time::{Duration, Instant};

use idlewatt::compute::AdapterPolicy;
use idlewatt::config::Settings;
use idlewatt::idle::{IdleSource, x11::X11Idle};
use idlewatt::node::{EventKind, LocalJobs, Node, NodeConfig, NodeState, RunWhen};
use idlewatt::paths::DataDirs;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn summary(name: &str, mut xs: Vec<f64>) {
    xs.sort_by(f64::total_cmp);
    println!(
        "{name:<44} n={:<4} p50 {:>6.1} ms  p90 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms",
        xs.len(),
        percentile(&xs, 0.5),
        percentile(&xs, 0.9),
        percentile(&xs, 0.99),
        xs.last().copied().unwrap_or(f64::NAN)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let trials: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let x = xvfb::Xvfb::start();
    let dir = tempfile::tempdir()?;
    let mut config = NodeConfig::new(DataDirs::at(dir.path())?, Settings::default());
    config.when = RunWhen::Idle;
    config.idle_after = Duration::from_millis(300);
    config.tick = Duration::from_millis(50);
    config.adapter = AdapterPolicy { allow_software: true };
    let idle = X11Idle::connect(Some(&x.display)).map(|s| Box::new(s) as Box<dyn IdleSource>);
    let node = Node::new(config, idle, Box::new(LocalJobs::new(1024)));
    let mut rx = node.subscribe();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async {
        let _ = stopped.await;
    }));

    let mut inside = Vec::new();
    let mut outside = Vec::new();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut gpu = String::new();
    for trial in 0..trials {
        // Wait until computing (the owner has been away 300 ms).
        loop {
            let e = rx.recv().await?;
            if matches!(e.kind, EventKind::State { state: NodeState::Computing, .. }) {
                break;
            }
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(50 + seed % 250)).await;
        let t0 = Instant::now();
        x.touch_mouse();
        loop {
            let e = rx.recv().await?;
            if let EventKind::Yielded { latency_ms, .. } = e.kind {
                outside.push(t0.elapsed().as_secs_f64() * 1e3);
                if let Some(ms) = latency_ms {
                    inside.push(ms);
                }
                break;
            }
        }
        if trial == 0 {
            gpu = idlewatt::compute::Engine::new(AdapterPolicy { allow_software: true })
                .map(|e| e.profile().name.clone())
                .unwrap_or_default();
        }
        eprint!("\rtrial {}/{trials}", trial + 1);
    }
    eprintln!();
    let _ = stop.send(());
    task.await??;
    println!("yield latency over {trials} trials, GPU: {gpu}, local 1024³ matmul jobs, X11 idle source on Xvfb");
    summary("input → last GPU slice done (node's figure)", inside);
    summary("xdotool start → yielded event (outside view)", outside);
    Ok(())
}
