//! Tier two: the matmul kernels on a real device (lavapipe here) against the CPU
//! reference, at sizes that are not multiples of the tile, for every tile candidate
//! and precision the adapter offers; rejection of bad sizes; cancellation between
//! slices; suspend/resume (also across kernels); the tuner's cache; device-loss
//! recovery.

mod util;

use std::time::{Duration, Instant};

use idlewatt::compute::{CancelToken, ComputeError, MatmulDims, RunState, reference};
use idlewatt_protocol::inputs::seeded_matrix;

fn inputs(dims: MatmulDims, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let (m, n, k) = (dims.m as usize, dims.n as usize, dims.k as usize);
    (seeded_matrix(seed, m * k), seeded_matrix(seed + 1, k * n))
}

fn expected(a: &[f32], b: &[f32], d: MatmulDims) -> Vec<f32> {
    reference::matmul(a, b, d.m as usize, d.n as usize, d.k as usize)
}

#[test]
fn matmul_matches_reference_at_awkward_sizes() {
    let engine = util::engine();
    let never = CancelToken::new();
    for (m, n, k) in [(1, 1, 1), (17, 33, 9), (255, 257, 129), (1000, 3, 70), (2, 300, 1500)] {
        let dims = MatmulDims { m, n, k };
        let (a, b) = inputs(dims, u64::from(m * 31 + n));
        let mut slices = 0;
        let c = engine.matmul(&a, &b, dims, &never, &mut |_| slices += 1).expect("matmul runs");
        let err = reference::max_relative_error(&c, &expected(&a, &b, dims));
        assert!(err < 1e-5, "{m}x{n}x{k}: relative error {err}");
        assert!(slices >= 1);
    }
}

#[test]
fn tiny_slice_target_cuts_along_k_and_still_matches() {
    let mut engine = util::engine();
    engine.set_slice_target(Duration::from_millis(1));
    let dims = MatmulDims { m: 130, n: 70, k: 2000 };
    let (a, b) = inputs(dims, 5);
    let mut run = engine.start_matmul(&a, &b, dims).expect("start");
    assert_eq!(run.run(&CancelToken::new(), &mut |_| {}).expect("run"), RunState::Done);
    assert!(run.slice_times().len() > 4, "expected several slices, got {}", run.slice_times().len());
    let err = reference::max_relative_error(&run.read_output().expect("read"), &expected(&a, &b, dims));
    assert!(err < 1e-5, "relative error {err}");
}

#[test]
fn zero_and_oversized_and_mismatched_inputs_are_rejected_before_allocation() {
    let engine = util::engine();
    let never = CancelToken::new();
    let zero = engine.matmul(&[], &[], MatmulDims { m: 0, n: 4, k: 4 }, &never, &mut |_| {});
    assert!(matches!(zero, Err(ComputeError::ZeroSize { .. })), "{zero:?}");

    // A alone would be a pebibyte: beyond every device and host.
    let huge = MatmulDims { m: 1 << 16, n: 1, k: u32::MAX };
    let err = engine.matmul(&[], &[], huge, &never, &mut |_| {}).expect_err("must be rejected");
    let msg = err.to_string();
    assert!(matches!(err, ComputeError::TooLarge { .. }), "{err:?}");
    assert!(msg.contains("matrix A") && msg.contains("max_"), "message names buffer and limit: {msg}");

    let short = engine.matmul(&[1.0; 3], &[1.0; 4], MatmulDims::square(2), &never, &mut |_| {});
    assert!(matches!(short, Err(ComputeError::InputLength { which: "A", got: 3, expected: 4 })), "{short:?}");

    // The engine is still fine afterwards.
    let c = engine.matmul(&[2.0], &[3.0], MatmulDims::square(1), &never, &mut |_| {}).expect("still works");
    assert_eq!(c, vec![6.0]);
}

#[test]
fn cancel_stops_between_slices_promptly_and_leaves_the_engine_reusable() {
    let engine = util::engine();
    let dims = MatmulDims::square(1024); // ~1 s of lavapipe work, many slices
    let (a, b) = inputs(dims, 9);
    let cancel = CancelToken::new();
    let mut run = engine.start_matmul(&a, &b, dims).expect("start");

    let trigger = cancel.clone();
    let cancelled_at = std::sync::Arc::new(std::sync::Mutex::new(None));
    let stamp = cancelled_at.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        *stamp.lock().expect("lock") = Some(Instant::now());
        trigger.cancel();
    });
    let state = run.run(&cancel, &mut |_| {}).expect("run");
    let returned = Instant::now();
    canceller.join().expect("canceller thread");
    assert_eq!(state, RunState::Cancelled);
    let at = cancelled_at.lock().expect("lock").expect("cancel time recorded");
    let latency = returned.saturating_duration_since(at);
    let longest = run.slice_times().iter().max().copied().unwrap_or_default();
    // At most one slice was in flight when the flag was set.
    assert!(
        latency <= longest + Duration::from_millis(20),
        "stopped {latency:?} after cancel; longest slice {longest:?}"
    );
    assert!(latency < Duration::from_millis(100), "stopped {latency:?} after cancel");
    let done = run.fraction_done();
    assert!(done > 0.0 && done < 1.0, "cancel mid-way, got {done}");

    // Suspend to host memory, drop the device entirely, resume on a new one.
    let suspended = run.suspend().expect("suspend");
    drop(engine);
    let engine = util::engine();
    let mut resumed = engine.resume_matmul(&a, &b, &suspended).expect("resume");
    assert!((resumed.fraction_done() - done).abs() < 1e-12);
    assert_eq!(resumed.run(&CancelToken::new(), &mut |_| {}).expect("run"), RunState::Done);
    let c = resumed.read_output().expect("read");
    let want = reference::sgemm(&a, &b, 1024, 1024, 1024);
    let err = reference::max_relative_error(&c, &want);
    assert!(err < 1e-5, "resumed job differs from CPU by {err}");
    drop(resumed);

    // And the next job on the same engine is right too.
    let d2 = MatmulDims { m: 65, n: 63, k: 64 };
    let (a2, b2) = inputs(d2, 11);
    let c2 = engine.matmul(&a2, &b2, d2, &CancelToken::new(), &mut |_| {}).expect("next job");
    assert!(reference::max_relative_error(&c2, &expected(&a2, &b2, d2)) < 1e-5);
}

#[test]
fn a_set_token_cancels_before_the_first_slice() {
    let engine = util::engine();
    let cancel = CancelToken::new();
    cancel.cancel();
    let r = engine.matmul(&[1.0], &[1.0], MatmulDims::square(1), &cancel, &mut |_| {});
    assert!(matches!(r, Err(ComputeError::Cancelled)), "{r:?}");
    cancel.reset();
    assert_eq!(engine.matmul(&[1.0], &[4.0], MatmulDims::square(1), &cancel, &mut |_| {}).expect("runs"), vec![4.0]);
}

#[test]
fn device_loss_is_a_typed_error_and_a_new_engine_works() {
    let engine = util::engine();
    engine.simulate_device_loss();
    let err = engine
        .matmul(&[1.0], &[1.0], MatmulDims::square(1), &CancelToken::new(), &mut |_| {})
        .expect_err("a lost device cannot compute");
    assert!(err.needs_rebuild(), "expected DeviceLost, got {err:?}");
    drop(engine);
    let engine = util::engine();
    let c = engine.matmul(&[3.0], &[5.0], MatmulDims::square(1), &CancelToken::new(), &mut |_| {}).expect("rebuilt");
    assert_eq!(c, vec![15.0]);
}

// ---- Issue 13: every kernel path and tile candidate, the tuner ----

use idlewatt::compute::{Engine, KernelChoice, KernelPath, tuning};
use idlewatt_protocol::{Precision, inputs::matmul_inputs_f16};

/// Awkward sizes: unit, odd everywhere, just off the tiles, tall-skinny, wide-short,
/// k not a multiple of any tile depth, and one with whole interior tiles (vec4 path).
const AWKWARD: [(u32, u32, u32); 7] =
    [(1, 1, 1), (17, 33, 9), (255, 257, 129), (1000, 3, 70), (2, 300, 1500), (130, 68, 37), (256, 256, 64)];

fn inputs_in(precision: Precision, dims: MatmulDims, seed: u64) -> (Vec<f32>, Vec<f32>) {
    match precision {
        Precision::F32 => inputs(dims, seed),
        Precision::F16 => matmul_inputs_f16(seed, dims.m, dims.n, dims.k),
    }
}

/// Every kernel the engine would consider on this adapter.
fn candidates(engine: &Engine) -> Vec<KernelChoice> {
    engine.caps().paths().into_iter().flat_map(|p| engine.caps().candidates(p)).collect()
}

#[test]
fn issue13_every_candidate_and_precision_matches_reference_at_awkward_sizes() {
    let engine = util::engine();
    let all = candidates(&engine);
    assert!(all.iter().filter(|c| c.path == KernelPath::F32).count() >= 3, "f32 candidates: {all:?}");
    eprintln!("adapter paths {:?}, {} candidates", engine.caps().paths(), all.len());
    let never = CancelToken::new();
    for kernel in all {
        let precision = kernel.path.precision();
        for (m, n, k) in AWKWARD {
            let dims = MatmulDims { m, n, k };
            let (a, b) = inputs_in(precision, dims, u64::from(m * 7 + k));
            let mut run = engine.start_matmul_with(&a, &b, dims, kernel).expect("start");
            assert_eq!(run.run(&never, &mut |_| {}).expect("run"), RunState::Done);
            let c = run.read_output().expect("read");
            let err = reference::max_relative_error(&c, &expected(&a, &b, dims));
            // f16 inputs are exact in f16, products exact in f32, sums in f32: same bound.
            assert!(err < 1e-5, "{} at {m}x{n}x{k}: relative error {err}", kernel.label());
        }
    }
}

#[test]
fn issue13_f16_jobs_run_where_the_adapter_has_shader_f16_and_are_refused_elsewhere() {
    let engine = util::engine();
    let dims = MatmulDims { m: 40, n: 24, k: 33 };
    let (a, b) = matmul_inputs_f16(3, dims.m, dims.n, dims.k);
    let result = engine.start_matmul_as(&a, &b, dims, Precision::F16);
    if engine.caps().shader_f16 {
        let mut run = result.expect("f16 start");
        assert_ne!(run.kernel().path, KernelPath::F32);
        run.run(&CancelToken::new(), &mut |_| {}).expect("f16 run");
        let err = reference::max_relative_error(&run.read_output().expect("read"), &expected(&a, &b, dims));
        assert!(err < 1e-5, "f16 relative error {err}");
        // Values beyond f16's range are refused, not turned into infinities.
        let mut big = a.clone();
        big[5] = 1e6;
        let e = engine.start_matmul_as(&big, &b, dims, Precision::F16).expect_err("out of f16 range");
        assert!(e.to_string().contains("65504"), "{e}");
    } else {
        let e = result.expect_err("no f16 path");
        assert!(matches!(e, ComputeError::UnsupportedPrecision { .. }), "{e:?}");
    }
}

/// Cancels after `after` slices (deterministic: from the slice callback), suspends,
/// resumes on a fresh engine with `resume_kernel`, and checks the whole product.
fn cancel_suspend_resume(kernel: KernelChoice, resume_kernel: KernelChoice, dims: MatmulDims, after: u64) {
    let mut engine = util::engine();
    engine.set_slice_target(Duration::from_millis(1));
    let precision = kernel.path.precision();
    let (a, b) = inputs_in(precision, dims, 21);
    let cancel = CancelToken::new();
    let mut run = engine.start_matmul_with(&a, &b, dims, kernel).expect("start");
    let trigger = cancel.clone();
    let state = run
        .run(&cancel, &mut |s| {
            if s.index == after {
                trigger.cancel();
            }
        })
        .expect("run");
    assert_eq!(state, RunState::Cancelled, "{}: finished before {after} slices", kernel.label());
    assert!(run.slice_times().iter().all(|t| *t < Duration::from_millis(500)));
    let done = run.fraction_done();
    assert!(done > 0.0 && done < 1.0, "{}: {done}", kernel.label());
    let suspended = run.suspend().expect("suspend");
    assert_eq!(suspended.precision, precision);
    drop(engine);

    let engine = util::engine();
    let mut resumed = engine.resume_matmul_with(&a, &b, &suspended, resume_kernel).expect("resume");
    assert!((resumed.fraction_done() - done).abs() < 1e-12);
    assert_eq!(resumed.run(&CancelToken::new(), &mut |_| {}).expect("run"), RunState::Done);
    let err = reference::max_relative_error(&resumed.read_output().expect("read"), &expected(&a, &b, dims));
    assert!(err < 1e-5, "{} → {}: relative error {err}", kernel.label(), resume_kernel.label());
}

#[test]
fn issue13_cancel_suspend_resume_on_every_path_and_across_kernels() {
    let engine = util::engine();
    let dims = MatmulDims { m: 300, n: 260, k: 520 };
    let mut pairs = Vec::new();
    for path in engine.caps().paths() {
        let c = engine.caps().candidates(path);
        let (first, last) = (c[0], c[c.len() - 1]);
        pairs.push((first, first));
        // Stopped on one tile shape, finished on another (a retune between runs).
        pairs.push((first, last));
        pairs.push((last, first));
    }
    drop(engine);
    for (kernel, resume) in pairs {
        cancel_suspend_resume(kernel, resume, dims, 3);
    }
}

/// The cache is JSON, and serde_json's float parser may move a figure by an
/// ulp, so compare the choices exactly and the measured figures closely.
fn assert_same_tuning(a: &tuning::Tuning, b: &tuning::Tuning) {
    assert_eq!(a.key, b.key);
    assert_eq!(a.results.len(), b.results.len());
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(y.abs());
    for (x, y) in a.results.iter().zip(&b.results) {
        assert_eq!((x.precision, x.kernel, &x.label), (y.precision, y.kernel, &y.label));
        assert!(close(x.gflops, y.gflops), "{} vs {}", x.gflops, y.gflops);
        assert_eq!(x.candidates.len(), y.candidates.len());
        for (c, d) in x.candidates.iter().zip(&y.candidates) {
            assert_eq!((c.kernel, &c.label, &c.error), (d.kernel, &d.label, &d.error));
            match (c.gflops, d.gflops) {
                (Some(g), Some(h)) => assert!(close(g, h), "{g} vs {h}"),
                (g, h) => assert_eq!(g, h),
            }
        }
    }
}

#[test]
fn issue13_tuning_is_cached_and_a_driver_change_retunes() {
    let engine = util::engine();
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join(tuning::TUNING_FILE);
    let budget = Duration::from_millis(300);

    let (first, fresh) = engine.tuned(&cache, budget, false).expect("tune");
    assert!(fresh, "nothing cached yet");
    assert!(first.precisions().contains(&Precision::F32));
    assert_eq!(first.precisions(), engine.precisions(), "every path lavapipe has got a checked kernel");
    for r in &first.results {
        assert!(r.gflops > 0.0 && r.candidates.len() >= 2, "{r:?}");
        assert!(r.candidates.iter().all(|c| c.error.is_none()), "a candidate failed its check: {r:?}");
        assert_eq!(engine.kernel(r.precision).expect("chosen"), r.kernel, "the winner is in force");
    }
    assert_eq!(tuning::benchmarked_precisions(&cache), engine.precisions());

    // Same adapter, driver and build: read, not retuned.
    let (again, fresh) = engine.tuned(&cache, budget, false).expect("cached");
    assert!(!fresh);
    assert_same_tuning(&again, &first);

    // A driver update (a new driver string in the key) retunes.
    let mut stale = first.clone();
    stale.key.driver_info = format!("{} (older)", stale.key.driver_info);
    stale.save(&cache).expect("write");
    assert!(!engine.apply_tuning(&stale));
    let (_, fresh) = engine.tuned(&cache, budget, false).expect("retune");
    assert!(fresh, "a driver change must retune");
    let (_, fresh) = engine.tuned(&cache, budget, false).expect("cached again");
    assert!(!fresh);
}
