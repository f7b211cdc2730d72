//! The matmul benchmark behind `idlewatt-node bench`: for each precision and size it
//! runs the engine's kernel for that precision (the tuned one, see
//! `compute::tuning`) through the real slicing engine, checks the result against a CPU
//! SGEMM computed in the same run, and reports both throughputs, so a figure is always
//! next to its baseline and its error; for f32 it also times the first kernel
//! (`classic`) on the same inputs, the before/after of the kernel work. Inputs come
//! from the protocol's seeded generators, the same ones network jobs use.

use std::time::{Duration, Instant};

use idlewatt_protocol::Precision;
use idlewatt_protocol::inputs::{matmul_inputs_f16, seeded_matrix};
use serde::{Deserialize, Serialize};

use crate::compute::{
    CancelToken, ComputeError, Engine, HardwareProfile, KernelChoice, KernelPath, MatmulDims, reference,
};

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// Square sizes.
    pub sizes: Vec<u32>,
    /// Precisions (each must be one the engine has).
    pub precisions: Vec<Precision>,
    /// Also time the first (classic) f32 kernel on the same inputs.
    pub baseline: bool,
    /// Times to run each product back to back on the resident buffers (≥ 1): the
    /// figure is the best run; the window covers all of them (for power sampling).
    pub repeat: u32,
}

/// One size's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BenchRow {
    /// m = n = k.
    pub size: u32,
    /// The job precision.
    pub precision: Precision,
    /// The kernel path: `f32`, `f16` or `f16-coopmat`.
    pub path: KernelPath,
    /// The kernel's tile shape ("128x128x8/8x8").
    pub shape: String,
    /// The kernel's full label ("f32 128x128x8/8x8").
    pub kernel: String,
    /// 2·size³ / time of the slice loop (dispatch + wait), GFLOP/s.
    pub gpu_gflops: f64,
    /// Time of the slice loop, ms.
    pub gpu_ms: f64,
    /// Upload + slices + read-back, ms.
    pub gpu_end_to_end_ms: f64,
    /// CPU SGEMM (`matrixmultiply`, all cores) GFLOP/s in the same run.
    pub cpu_gflops: f64,
    /// CPU SGEMM time, ms.
    pub cpu_ms: f64,
    /// `gpu_gflops / cpu_gflops`.
    pub gpu_vs_cpu: f64,
    /// `max |C_gpu − C_cpu| / max |C_cpu|`.
    pub max_relative_error: f64,
    /// Dispatches the job was cut into.
    pub slices: usize,
    /// Median slice wall time, ms.
    pub median_slice_ms: f64,
    /// Longest slice wall time, ms.
    pub max_slice_ms: f64,
    /// The classic kernel on the same inputs in the same run, GFLOP/s (f32 rows when
    /// asked for).
    pub classic_gflops: Option<f64>,
    /// Runs of the product (`--repeat`).
    pub repeats: u32,
    /// Unix time (ms) the first timed run started and the last one ended: the window
    /// in which an outside power sampler sees only this kernel working.
    pub window_start_unix_ms: f64,
    /// See [`window_start_unix_ms`](Self::window_start_unix_ms).
    pub window_end_unix_ms: f64,
}

/// The whole benchmark.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BenchReport {
    /// The machine it ran on.
    pub hardware: HardwareProfile,
    /// What the CPU baseline is.
    pub cpu_baseline: String,
    /// The slice time the engine aimed for, ms.
    pub slice_target_ms: f64,
    /// The paths this adapter has.
    pub paths: Vec<KernelPath>,
    /// The precisions measured.
    pub precisions: Vec<Precision>,
    /// The kernel tuning in force (cached or made by this run), when one was asked for.
    pub tuning: Option<crate::compute::tuning::Tuning>,
    /// Whether this run made the tuning (first run, new driver) rather than reading it.
    pub tuned_now: bool,
    /// One row per size, in the order asked.
    pub results: Vec<BenchRow>,
}

/// Progress of the benchmark, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct BenchProgress {
    /// Size being measured.
    pub size: u32,
    /// Fraction of the whole benchmark's GPU FLOPs done, 0–1.
    pub fraction_done: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort_unstable();
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

/// Runs the f32 benchmark at `sizes` (square problems), reporting progress.
pub fn run(
    engine: &Engine,
    sizes: &[u32],
    progress: &mut dyn FnMut(BenchProgress),
) -> Result<BenchReport, ComputeError> {
    let options = BenchOptions { sizes: sizes.to_vec(), precisions: vec![Precision::F32], baseline: false, repeat: 1 };
    run_with(engine, &options, progress)
}

/// Inputs of one benchmark size (f16: values exact in f16).
fn bench_inputs(precision: Precision, size: u32) -> (Vec<f32>, Vec<f32>) {
    let len = size as usize * size as usize;
    match precision {
        Precision::F32 => (seeded_matrix(u64::from(size) * 2, len), seeded_matrix(u64::from(size) * 2 + 1, len)),
        Precision::F16 => matmul_inputs_f16(u64::from(size) * 2, size, size, size),
    }
}

/// What [`timed_runs`] measured.
struct Timed {
    c: Vec<f32>,
    /// Best slice-loop time of the repeats.
    best: Duration,
    /// Upload + first run + read-back.
    end_to_end: Duration,
    slices: Vec<Duration>,
    window: (f64, f64),
}

fn unix_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Uploads once, times the slice loop of `repeat` runs of `kernel`, reads C back.
fn timed_runs(
    engine: &Engine,
    a: &[f32],
    b: &[f32],
    dims: MatmulDims,
    kernel: KernelChoice,
    repeat: u32,
    report: &mut dyn FnMut(&crate::compute::SliceReport),
) -> Result<Timed, ComputeError> {
    let never = CancelToken::new();
    let started = Instant::now();
    let mut run = engine.start_matmul_with(a, b, dims, kernel)?;
    let mut best = Duration::MAX;
    let mut first_end = Duration::ZERO;
    let window_start = unix_ms();
    for i in 0..repeat.max(1) {
        if i > 0 {
            run.restart();
        }
        let loop_started = Instant::now();
        run.run(&never, report)?;
        best = best.min(loop_started.elapsed());
        if i == 0 {
            first_end = started.elapsed();
        }
    }
    let window_end = unix_ms();
    let read_started = Instant::now();
    let c = run.read_output()?;
    Ok(Timed {
        c,
        best,
        end_to_end: first_end + read_started.elapsed(),
        slices: run.slice_times().to_vec(),
        window: (window_start, window_end),
    })
}

/// Runs the benchmark as `options` say, reporting progress.
pub fn run_with(
    engine: &Engine,
    options: &BenchOptions,
    progress: &mut dyn FnMut(BenchProgress),
) -> Result<BenchReport, ComputeError> {
    let sizes = &options.sizes;
    let span = tracing::info_span!("bench", ?sizes, precisions = ?options.precisions);
    let _enter = span.enter();
    let never = CancelToken::new();
    // Warm up: compile-on-first-use drivers and the slice-rate estimate.
    let warm = MatmulDims::square(128);
    let (wa, wb) = (seeded_matrix(1, 128 * 128), seeded_matrix(2, 128 * 128));
    for &precision in &options.precisions {
        let mut run = engine.start_matmul_as(&wa, &wb, warm, precision)?;
        run.run(&never, &mut |_| {})?;
    }

    let total: f64 =
        sizes.iter().map(|&s| MatmulDims::square(s).flops()).sum::<f64>() * options.precisions.len() as f64;
    let mut done_before = 0.0;
    let mut results = Vec::with_capacity(sizes.len() * options.precisions.len());
    for &precision in &options.precisions {
        let kernel = engine.kernel(precision)?;
        for &size in sizes {
            let dims = MatmulDims::square(size);
            let (a, b) = bench_inputs(precision, size);
            let mut report = |r: &crate::compute::SliceReport| {
                progress(BenchProgress { size, fraction_done: (done_before + r.fraction_done * dims.flops()) / total });
            };
            let t = timed_runs(engine, &a, &b, dims, kernel, options.repeat, &mut report)?;
            let (c_gpu, gpu_time, end_to_end, slices) = (t.c, t.best, t.end_to_end, t.slices);
            let classic_gflops = if options.baseline && precision == Precision::F32 {
                let c = timed_runs(engine, &a, &b, dims, KernelChoice::CLASSIC, 1, &mut |_| {})?;
                Some(dims.flops() / c.best.as_secs_f64() / 1e9)
            } else {
                None
            };

            let cpu_started = Instant::now();
            let c_cpu = reference::sgemm(&a, &b, size as usize, size as usize, size as usize);
            let cpu_time = cpu_started.elapsed();

            let gpu_gflops = dims.flops() / gpu_time.as_secs_f64() / 1e9;
            let cpu_gflops = dims.flops() / cpu_time.as_secs_f64() / 1e9;
            let row = BenchRow {
                size,
                precision,
                path: kernel.path,
                shape: kernel.shape.label(),
                kernel: kernel.label(),
                gpu_gflops,
                gpu_ms: ms(gpu_time),
                gpu_end_to_end_ms: ms(end_to_end),
                cpu_gflops,
                cpu_ms: ms(cpu_time),
                gpu_vs_cpu: gpu_gflops / cpu_gflops,
                max_relative_error: reference::max_relative_error(&c_gpu, &c_cpu),
                slices: slices.len(),
                median_slice_ms: ms(median(slices.clone())),
                max_slice_ms: ms(slices.iter().copied().max().unwrap_or_default()),
                classic_gflops,
                repeats: options.repeat.max(1),
                window_start_unix_ms: t.window.0,
                window_end_unix_ms: t.window.1,
            };
            tracing::info!(?row, "bench size done");
            results.push(row);
            done_before += dims.flops();
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(BenchReport {
        hardware: engine.hardware_profile(),
        cpu_baseline: format!("matrixmultiply {} sgemm, {threads} threads", "0.3"),
        slice_target_ms: ms(engine.slice_target()),
        paths: engine.caps().paths(),
        precisions: options.precisions.clone(),
        tuning: None,
        tuned_now: false,
        results,
    })
}
