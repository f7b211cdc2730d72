//! Per-adapter tuning: every candidate kernel that fits the adapter is first checked
//! against the CPU reference (a kernel that computes wrong answers is never chosen,
//! however fast), then timed on the device for a share of a few hundred ms; the
//! fastest becomes its precision's kernel. The result is cached in the data folder
//! under a key of adapter, driver, wgpu version and the kernels' own source, so a
//! driver update or a kernel change retunes and nothing else does.

use std::path::Path;
use std::time::{Duration, Instant};

use idlewatt_protocol::{Precision, inputs};
use serde::{Deserialize, Serialize};

use super::{CancelToken, ComputeError, Engine, KernelChoice, MatmulDims, kernels, reference};

/// The cache file in the data folder.
pub const TUNING_FILE: &str = "kernel-tuning.json";

/// The wgpu version this binary was built with (from Cargo.lock, by `build.rs`).
pub const WGPU_VERSION: &str = match option_env!("IDLEWATT_WGPU_VERSION") {
    Some(v) => v,
    None => "unknown",
};

/// Default time the tuner spends timing, all candidates together.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(600);

/// What a tuning result is valid for: any change retunes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TuningKey {
    /// Adapter name.
    pub adapter: String,
    /// PCI vendor and device ids.
    pub vendor_id: u32,
    /// PCI device id.
    pub device_id: u32,
    /// Back-end ("vulkan", …).
    pub backend: String,
    /// Driver name.
    pub driver: String,
    /// Driver version string.
    pub driver_info: String,
    /// wgpu version.
    pub wgpu: String,
    /// FNV-1a of the kernel templates: a kernel change retunes.
    pub kernels: String,
}

/// One candidate's outcome.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CandidateResult {
    /// The kernel.
    pub kernel: KernelChoice,
    /// Its label ("f32 128x128x8/8x8").
    pub label: String,
    /// Best measured throughput, GFLOP/s; `None` if it failed.
    pub gflops: Option<f64>,
    /// Why it was rejected (wrong answer, compile error).
    pub error: Option<String>,
}

/// The tuning of one precision.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PrecisionTuning {
    /// The precision.
    pub precision: Precision,
    /// The winner.
    pub kernel: KernelChoice,
    /// Its label.
    pub label: String,
    /// Its throughput at the tuning size, GFLOP/s.
    pub gflops: f64,
    /// Every candidate timed.
    pub candidates: Vec<CandidateResult>,
}

/// A whole tuning, as cached.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tuning {
    /// What it is valid for.
    pub key: TuningKey,
    /// Square size the candidates were timed at.
    pub size: u32,
    /// One entry per precision that has a correct kernel.
    pub results: Vec<PrecisionTuning>,
}

impl Tuning {
    /// The precisions with a tuned, checked kernel.
    pub fn precisions(&self) -> Vec<Precision> {
        self.results.iter().map(|r| r.precision).collect()
    }

    /// Reads a cached tuning; `None` when absent or unreadable (a retune fixes both).
    pub fn load(path: &Path) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(%e, path = %path.display(), "unreadable kernel tuning cache: retuning");
                None
            }
        }
    }

    /// Writes the cache atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension(format!("json.{}", std::process::id()));
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, path)
    }
}

/// The precisions the node benchmarked, from the cache in the data folder: what it
/// tells the coordinator. `[F32]` when it never tuned (every adapter has f32).
pub fn benchmarked_precisions(cache: &Path) -> Vec<Precision> {
    Tuning::load(cache).map(|t| t.precisions()).filter(|p| !p.is_empty()).unwrap_or_else(|| vec![Precision::F32])
}

/// FNV-1a (64-bit) of every kernel template: stable across builds and Rust versions.
fn kernels_fingerprint() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, src) in kernels::SOURCES {
        for byte in name.bytes().chain(src.bytes()) {
            h = (h ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Inputs of `precision` (f16 jobs: values exactly representable in f16).
fn inputs_for(precision: Precision, seed: u64, d: MatmulDims) -> (Vec<f32>, Vec<f32>) {
    match precision {
        Precision::F32 => inputs::matmul_inputs(seed, d.m, d.n, d.k),
        Precision::F16 => inputs::matmul_inputs_f16(seed, d.m, d.n, d.k),
    }
}

/// The largest normwise relative error a correct kernel of `precision` may show on the
/// tuner's check (inputs in [-1, 1), k ≤ 200, f32 accumulation in both cases).
fn tolerance(precision: Precision) -> f64 {
    match precision {
        Precision::F32 => 1e-5,
        Precision::F16 => 1e-4,
    }
}

impl Engine {
    /// What a tuning must match to be used on this engine.
    pub fn tuning_key(&self) -> TuningKey {
        let g = self.profile();
        TuningKey {
            adapter: g.name.clone(),
            vendor_id: g.vendor_id,
            device_id: g.device_id,
            backend: g.backend.clone(),
            driver: g.driver.clone(),
            driver_info: g.driver_info.clone(),
            wgpu: WGPU_VERSION.to_owned(),
            kernels: kernels_fingerprint(),
        }
    }

    /// Uses a cached tuning if it was made for this adapter, driver, wgpu and kernels;
    /// `false` (nothing changed) otherwise.
    pub fn apply_tuning(&self, tuning: &Tuning) -> bool {
        if tuning.key != self.tuning_key() {
            return false;
        }
        let mut fastest: f64 = 0.0;
        for r in &tuning.results {
            if let Err(e) = self.set_kernel(r.kernel) {
                tracing::warn!(%e, "cached kernel no longer compiles: retuning");
                return false;
            }
            fastest = fastest.max(r.gflops * 1e9);
        }
        if fastest > 0.0 {
            *self.last_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fastest);
        }
        true
    }

    /// Checks every candidate against the CPU, times the correct ones for a share of
    /// `budget`, and makes the fastest of each precision the engine's kernel.
    pub fn tune(&self, budget: Duration) -> Result<Tuning, ComputeError> {
        self.tune_unless(budget, &CancelToken::new())
    }

    /// Like [`tune`](Self::tune), but gives up with [`ComputeError::Cancelled`]
    /// between candidates once `cancel` is set (the node's owner came back): nothing
    /// is chosen or cached then, and the next session tunes afresh.
    pub fn tune_unless(&self, budget: Duration, cancel: &CancelToken) -> Result<Tuning, ComputeError> {
        let span = tracing::info_span!("tune", adapter = %self.profile().name);
        let _enter = span.enter();
        let size: u32 = if self.profile().software { 256 } else { 2048 };
        let check = MatmulDims { m: 161, n: 136, k: 72 };
        let never = CancelToken::new();
        let all: Vec<(Precision, Vec<KernelChoice>)> = self
            .precisions()
            .into_iter()
            .map(|p| (p, self.caps().paths_for(p).into_iter().flat_map(|path| self.caps().candidates(path)).collect()))
            .collect();
        let count = all.iter().map(|(_, c)| c.len()).sum::<usize>().max(1);
        let share = budget / count as u32;
        let mut results = Vec::new();
        for (precision, candidates) in all {
            let (ca, cb) = inputs_for(precision, 7, check);
            let want = reference::matmul(&ca, &cb, check.m as usize, check.n as usize, check.k as usize);
            let dims = MatmulDims::square(size);
            let (a, b) = inputs_for(precision, 11, dims);
            let mut timed = Vec::new();
            for kernel in candidates {
                if cancel.is_cancelled() {
                    return Err(ComputeError::Cancelled);
                }
                let outcome = (|| -> Result<f64, ComputeError> {
                    let mut run = self.start_matmul_with(&ca, &cb, check, kernel)?;
                    run.run(&never, &mut |_| {})?;
                    let err = reference::max_relative_error(&run.read_output()?, &want);
                    if err.is_nan() || err > tolerance(precision) {
                        return Err(ComputeError::Gpu(format!("wrong answer: relative error {err:.1e}")));
                    }
                    drop(run);
                    let started = Instant::now();
                    let mut best = f64::INFINITY;
                    loop {
                        let mut run = self.start_matmul_with(&a, &b, dims, kernel)?;
                        let t0 = Instant::now();
                        run.run(&never, &mut |_| {})?;
                        best = best.min(t0.elapsed().as_secs_f64());
                        if started.elapsed() >= share {
                            break;
                        }
                    }
                    Ok(dims.flops() / best / 1e9)
                })();
                let label = kernel.label();
                match outcome {
                    Ok(gflops) => {
                        tracing::info!(%label, gflops, "candidate timed");
                        timed.push(CandidateResult { kernel, label, gflops: Some(gflops), error: None });
                    }
                    Err(e) if e.needs_rebuild() => return Err(e),
                    Err(e) => {
                        tracing::warn!(%label, %e, "candidate rejected");
                        timed.push(CandidateResult { kernel, label, gflops: None, error: Some(e.to_string()) });
                    }
                }
            }
            let best = timed.iter().filter_map(|c| c.gflops.map(|g| (c.kernel, g))).max_by(|x, y| x.1.total_cmp(&y.1));
            if let Some((kernel, gflops)) = best {
                self.set_kernel(kernel)?;
                results.push(PrecisionTuning { precision, kernel, label: kernel.label(), gflops, candidates: timed });
            }
        }
        let fastest = results.iter().map(|r| r.gflops).fold(0.0, f64::max);
        if fastest > 0.0 {
            *self.last_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fastest * 1e9);
        }
        Ok(Tuning { key: self.tuning_key(), size, results })
    }

    /// The cached tuning when it matches this engine (applied), else a fresh one
    /// (applied and saved; a cache that cannot be written is only a warning).
    /// `retune` ignores the cache. Returns the tuning and whether it was made now.
    pub fn tuned(&self, cache: &Path, budget: Duration, retune: bool) -> Result<(Tuning, bool), ComputeError> {
        self.tuned_unless(cache, budget, retune, &CancelToken::new())
    }

    /// Like [`tuned`](Self::tuned), but a tuning interrupted by `cancel` is neither
    /// applied nor cached ([`ComputeError::Cancelled`]).
    pub fn tuned_unless(
        &self,
        cache: &Path,
        budget: Duration,
        retune: bool,
        cancel: &CancelToken,
    ) -> Result<(Tuning, bool), ComputeError> {
        if !retune && let Some(cached) = Tuning::load(cache) {
            if self.apply_tuning(&cached) {
                return Ok((cached, false));
            }
            tracing::info!("kernel tuning was made for another adapter, driver or build: retuning");
        }
        let fresh = self.tune_unless(budget, cancel)?;
        if let Err(e) = fresh.save(cache) {
            tracing::warn!(%e, path = %cache.display(), "could not cache the kernel tuning");
        }
        Ok((fresh, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_wgpu_version_is_known() {
        assert_eq!(kernels_fingerprint(), kernels_fingerprint());
        assert_eq!(kernels_fingerprint().len(), 16);
        assert!(!WGPU_VERSION.is_empty());
    }

    #[test]
    fn missing_or_broken_cache_means_f32_only() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join(TUNING_FILE);
        assert_eq!(benchmarked_precisions(&path), vec![Precision::F32]);
        std::fs::write(&path, b"{ not json").unwrap_or_else(|e| panic!("{e}"));
        assert!(Tuning::load(&path).is_none());
        assert_eq!(benchmarked_precisions(&path), vec![Precision::F32]);
    }
}
