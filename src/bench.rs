//! The matmul benchmark behind `idlewatt-node bench`: for each size it runs the GPU
//! kernel through the real slicing engine, checks the result against a CPU SGEMM
//! computed in the same run, and reports both throughputs, so a figure is always next
//! to its baseline and its error. Inputs come from the protocol's seeded generator, the
//! same one network jobs use.

use std::time::{Duration, Instant};

use idlewatt_protocol::inputs::seeded_matrix;
use serde::{Deserialize, Serialize};

use crate::compute::{CancelToken, ComputeError, Engine, HardwareProfile, MatmulDims, reference};

/// One size's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BenchRow {
    /// m = n = k.
    pub size: u32,
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

/// Runs the benchmark at `sizes` (square problems), reporting progress.
pub fn run(
    engine: &Engine,
    sizes: &[u32],
    progress: &mut dyn FnMut(BenchProgress),
) -> Result<BenchReport, ComputeError> {
    let span = tracing::info_span!("bench", ?sizes);
    let _enter = span.enter();
    let never = CancelToken::new();
    // Warm up: compile-on-first-use drivers and the slice-rate estimate.
    let warm = MatmulDims::square(128);
    let (wa, wb) = (seeded_matrix(1, 128 * 128), seeded_matrix(2, 128 * 128));
    engine.matmul(&wa, &wb, warm, &never, &mut |_| {})?;

    let total: f64 = sizes.iter().map(|&s| MatmulDims::square(s).flops()).sum();
    let mut done_before = 0.0;
    let mut results = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let dims = MatmulDims::square(size);
        let len = size as usize * size as usize;
        let a = seeded_matrix(u64::from(size) * 2, len);
        let b = seeded_matrix(u64::from(size) * 2 + 1, len);

        let started = Instant::now();
        let mut run = engine.start_matmul(&a, &b, dims)?;
        let mut report = |r: &crate::compute::SliceReport| {
            progress(BenchProgress { size, fraction_done: (done_before + r.fraction_done * dims.flops()) / total });
        };
        let loop_started = Instant::now();
        run.run(&never, &mut report)?;
        let gpu_time = loop_started.elapsed();
        let c_gpu = run.read_output()?;
        let end_to_end = started.elapsed();
        let slices = run.slice_times().to_vec();
        drop(run);

        let cpu_started = Instant::now();
        let c_cpu = reference::sgemm(&a, &b, size as usize, size as usize, size as usize);
        let cpu_time = cpu_started.elapsed();

        let gpu_gflops = dims.flops() / gpu_time.as_secs_f64() / 1e9;
        let cpu_gflops = dims.flops() / cpu_time.as_secs_f64() / 1e9;
        let row = BenchRow {
            size,
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
        };
        tracing::info!(?row, "bench size done");
        results.push(row);
        done_before += dims.flops();
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(BenchReport {
        hardware: engine.hardware_profile(),
        cpu_baseline: format!("matrixmultiply {} sgemm, {threads} threads", "0.3"),
        slice_target_ms: ms(engine.slice_target()),
        results,
    })
}
