//! Benchmark: sentence embeddings of all-MiniLM-L6-v2 on this machine's GPU (lavapipe
//! here), at batch 32 × 128 tokens by default. Prints sentences/s and tokens/s, the
//! submissions a batch was cut into and their longest wall time (the owner's worst
//! wait), the yield latency (cancel → the run returns), and the CPU reference's time
//! for the same sequences (what the coordinator pays to recompute a sample).
//!
//! `cargo run --example embed_bench -- [--batch 32] [--tokens 128]
//!  [--batches 3] [--model DIR] [--cpu-sample 2] [--yield-trials 10]`
//! (software adapters are allowed: this is a benchmark, not a node). The model folder
//! defaults to the one `scripts/setup` unpacks.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use idlewatt::compute::{AdapterPolicy, CancelToken, Engine};
use idlewatt::embed::{EmbedModel, RunState};
use idlewatt_models::{CpuModel, Weights, cpu, testing::minilm_dir};

struct Args {
    batch: usize,
    tokens: usize,
    batches: usize,
    model: Option<std::path::PathBuf>,
    cpu_sample: usize,
    yield_trials: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args { batch: 32, tokens: 128, batches: 3, model: None, cpu_sample: 2, yield_trials: 10 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--batch" => a.batch = value()?.parse()?,
            "--tokens" => a.tokens = value()?.parse()?,
            "--batches" => a.batches = value()?.parse()?,
            "--model" => a.model = Some(value()?.into()),
            "--cpu-sample" => a.cpu_sample = value()?.parse()?,
            "--yield-trials" => a.yield_trials = value()?.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    if a.batch == 0 || a.tokens < 2 || a.batches == 0 {
        bail!("--batch, --batches must be ≥ 1 and --tokens ≥ 2");
    }
    Ok(a)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let dir = match a.model {
        Some(dir) => dir,
        None => minilm_dir().map_err(anyhow::Error::msg)?,
    };
    let weights = Weights::load_dir(&dir).with_context(|| format!("loading {}", dir.display()))?;
    let c = weights.config.clone();
    if a.tokens > c.max_seq_length {
        bail!("--tokens {} exceeds the model's max_seq_length {}", a.tokens, c.max_seq_length);
    }
    // [CLS] w1 … wn [SEP] with ids spread over the vocabulary's word pieces.
    let batch: Vec<Vec<u32>> = (0..a.batch)
        .map(|s| {
            let mut ids = vec![101u32];
            ids.extend((0..a.tokens - 2).map(|i| 1000 + ((s * 7919 + i * 104_729) % 28_000) as u32));
            ids.push(102);
            ids
        })
        .collect();

    let engine = Engine::new(AdapterPolicy { allow_software: true }.with_env())?;
    let profile = engine.profile().clone();
    let started = Instant::now();
    let model = EmbedModel::upload(&engine, &weights)?;
    let upload = started.elapsed();
    let never = CancelToken::new();

    // One batch to warm up (pipeline compilation, the rate estimate), then the timed ones.
    model.embed(&engine, &batch, &never, &mut |_| {})?;
    let mut submits: Vec<Duration> = Vec::new();
    let mut dispatches = 0usize;
    let mut gpu_vectors = Vec::new();
    let started = Instant::now();
    for _ in 0..a.batches {
        let mut run = model.start(&engine, &batch)?;
        if run.run(&never, &mut |r| dispatches += r.dispatches)? != RunState::Done {
            bail!("the batch did not finish");
        }
        submits.extend_from_slice(run.submit_times());
        gpu_vectors = run.read_output()?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    submits.sort();
    let per_batch = elapsed / a.batches as f64;
    let sentences = (a.batch * a.batches) as f64 / elapsed;

    println!("adapter: {} ({}, {})", profile.name, profile.backend, profile.device_type);
    println!(
        "model: {} layers × {} hidden, {:.1} MiB on the GPU, uploaded in {:.0} ms",
        c.num_layers,
        c.hidden_size,
        model.vram_bytes() as f64 / 1048576.0,
        upload.as_secs_f64() * 1e3
    );
    println!(
        "| batch × tokens | sentences/s | tokens/s | ms/batch | submissions/batch | dispatches/batch | submission p50 | submission max |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} × {} | {:.1} | {:.0} | {:.1} | {} | {} | {:.2} ms | {:.2} ms |",
        a.batch,
        a.tokens,
        sentences,
        sentences * a.tokens as f64,
        per_batch * 1e3,
        submits.len() / a.batches,
        dispatches / a.batches,
        percentile(&submits, 0.5).as_secs_f64() * 1e3,
        percentile(&submits, 1.0).as_secs_f64() * 1e3,
    );

    if a.yield_trials > 0 {
        // Yield latency: cancel a running batch at staggered moments and time how long
        // the run takes to return (what the owner waits for before the GPU is theirs).
        let mut waits: Vec<Duration> = Vec::new();
        for trial in 0..a.yield_trials {
            let cancel = CancelToken::new();
            let delay = Duration::from_secs_f64(per_batch * (0.05 + 0.9 * trial as f64 / a.yield_trials as f64));
            let returned = std::thread::scope(|scope| {
                let worker = scope.spawn(|| -> anyhow::Result<Instant> {
                    let mut run = model.start(&engine, &batch)?;
                    run.run(&cancel, &mut |_| {})?;
                    Ok(Instant::now())
                });
                std::thread::sleep(delay);
                let asked = Instant::now();
                cancel.cancel();
                let done = worker.join().map_err(|_| anyhow::anyhow!("the batch thread panicked"))??;
                anyhow::Ok(done.saturating_duration_since(asked))
            })?;
            waits.push(returned);
        }
        waits.sort();
        println!(
            "yield (cancel → run returns) over {} trials: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            waits.len(),
            percentile(&waits, 0.5).as_secs_f64() * 1e3,
            percentile(&waits, 0.99).as_secs_f64() * 1e3,
            percentile(&waits, 1.0).as_secs_f64() * 1e3
        );
    }

    if a.cpu_sample > 0 {
        let sample: Vec<Vec<u32>> = batch.iter().take(a.cpu_sample).cloned().collect();
        let model = CpuModel::new(weights).with_threads(1);
        let started = Instant::now();
        let cpu_vectors = cpu::encode(&model, &sample)?;
        let cpu_s = started.elapsed().as_secs_f64();
        let worst = cpu_vectors
            .iter()
            .zip(&gpu_vectors)
            .map(|(c, g)| {
                let dot: f64 = c.iter().zip(g).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
                dot / (norm(c) * norm(g))
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "CPU reference (1 thread): {:.0} ms per sequence of {} tokens = {:.1} % of the GPU batch time per \
             sequence recomputed; min cosine GPU vs CPU {worst:.7}",
            cpu_s * 1e3 / sample.len() as f64,
            a.tokens,
            100.0 * cpu_s / sample.len() as f64 / per_batch
        );
    }
    Ok(())
}

fn norm(v: &[f32]) -> f64 {
    v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt()
}
