//! Benchmark: how fast the node gives the GPU back when the owner returns.
//!
//! Starts Xvfb, runs the node in idle mode (X11 idle source, lavapipe or the machine's
//! GPU, local 1024³ jobs) and, over N trials, waits until it computes, waits a random
//! 50–300 ms so the input lands at a random point of a slice, moves the mouse with
//! xdotool and records (a) the node's own figure: from the input, as the X server dates
//! it, to the last GPU slice finished, and (b) the outside view: from just before
//! xdotool starts to the `yielded` event arriving. Prints p50/p90/p99/max of both.
//!
//! With `--embed`, the node runs all-MiniLM-L6-v2 embeddings batches (32 × 128 tokens,
//! the model from `scripts/setup`) instead of matmul jobs, and each input lands while a
//! batch is on the GPU (after its first progress event of the trial).
//!
//! `cargo run --example yield_latency -- [trials] [--embed]` (default 100)

#[path = "../tests/util/xvfb.rs"]
mod xvfb;

use std::time::{Duration, Instant};

use idlewatt::compute::AdapterPolicy;
use idlewatt::config::Settings;
use idlewatt::idle::{IdleSource, x11::X11Idle};
use idlewatt::node::{
    EmbedWork, EventKind, Job, JobSource, JobSourceError, LocalJobs, Node, NodeConfig, NodeState, RunWhen,
};
use idlewatt::paths::DataDirs;

/// The same embeddings batch over and over (results dropped: this measures yielding).
struct Batches {
    work: EmbedWork,
    next: u64,
}

impl JobSource for Batches {
    fn next_job(&mut self) -> Result<Job, JobSourceError> {
        self.next += 1;
        Ok(Job {
            id: format!("batch-{}", self.next),
            dims: idlewatt::compute::MatmulDims { m: self.work.sequences.len() as u32, n: 384, k: 128 },
            seed: 0,
            client: None,
            embed: Some(self.work.clone()),
        })
    }

    fn submit(&mut self, _job: &Job, _c: Vec<f32>) -> Result<(), JobSourceError> {
        Ok(())
    }
}

fn embed_source() -> anyhow::Result<Box<dyn JobSource>> {
    let model_dir = idlewatt_models::testing::minilm_dir().map_err(anyhow::Error::msg)?;
    let sequences = (0..32u32)
        .map(|s| {
            let body = (0..126u32).map(|i| 1000 + (i * 37 + s * 101) % 20000);
            std::iter::once(101).chain(body).chain(std::iter::once(102)).collect()
        })
        .collect();
    Ok(Box::new(Batches { work: EmbedWork { model_dir, sequences, flops: 0 }, next: 0 }))
}

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
    let embed = std::env::args().any(|a| a == "--embed");
    let trials: usize = std::env::args().skip(1).find_map(|s| s.parse().ok()).unwrap_or(100);
    let x = xvfb::Xvfb::start();
    let dir = tempfile::tempdir()?;
    let mut config = NodeConfig::new(DataDirs::at(dir.path())?, Settings::default());
    config.when = RunWhen::Idle;
    config.idle_after = Duration::from_millis(300);
    config.tick = Duration::from_millis(50);
    config.adapter = AdapterPolicy { allow_software: true };
    let idle = X11Idle::connect(Some(&x.display)).map(|s| Box::new(s) as Box<dyn IdleSource>);
    let source = if embed { embed_source()? } else { Box::new(LocalJobs::new(1024)) };
    let node = Node::new(config, idle, source);
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
        // An embeddings batch: wait until it is on the GPU (the model is uploaded
        // each time the node starts computing).
        if embed {
            loop {
                let e = rx.recv().await?;
                if matches!(e.kind, EventKind::Progress { .. }) {
                    break;
                }
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
    let work =
        if embed { "all-MiniLM-L6-v2 embeddings batches of 32 × 128 tokens" } else { "local 1024³ matmul jobs" };
    println!("yield latency over {trials} trials, GPU: {gpu}, {work}, X11 idle source on Xvfb");
    summary("input → last GPU slice done (node's figure)", inside);
    summary("xdotool start → yielded event (outside view)", outside);
    Ok(())
}
