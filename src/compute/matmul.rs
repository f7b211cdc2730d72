//! Running one dense matmul job on the engine, in f32 or f16 (the job's precision picks
//! the kernel path): size checks before any allocation, the upload (f16 jobs are
//! rounded to f16 here; cooperative kernels get zero-padded copies), the slice loop with
//! a cancel check between dispatches, and suspend/resume so a job the owner interrupted
//! is continued later instead of thrown away.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idlewatt_protocol::Precision;
use serde::{Deserialize, Serialize};
use wgpu::util::DeviceExt;

use super::{
    CancelToken, ComputeError, Engine, HostProfile,
    error::human_bytes,
    kernels::{KernelChoice, KernelPath, Template, coopmat::Padded, shape::CLASSIC},
    slicing::{Cursor, Planner, RateEstimator, Slice},
};

/// Shape of C = A·B: A is m×k, B is k×n, C is m×n, all row-major f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatmulDims {
    /// Rows of A and C.
    pub m: u32,
    /// Columns of B and C.
    pub n: u32,
    /// Columns of A, rows of B.
    pub k: u32,
}

impl MatmulDims {
    /// A square problem.
    pub const fn square(size: u32) -> Self {
        Self { m: size, n: size, k: size }
    }
    /// 2·m·n·k.
    pub fn flops(&self) -> f64 {
        2.0 * f64::from(self.m) * f64::from(self.n) * f64::from(self.k)
    }
    /// Saturates instead of overflowing, so absurd sizes still fail the limit checks.
    fn bytes(rows: u32, cols: u32) -> u64 {
        (u64::from(rows) * u64::from(cols)).saturating_mul(4)
    }
    /// Bytes of (A, B, C).
    pub fn buffer_bytes(&self) -> (u64, u64, u64) {
        (Self::bytes(self.m, self.k), Self::bytes(self.k, self.n), Self::bytes(self.m, self.n))
    }

    /// Rejects zero sizes and sizes that exceed the device's buffer limits or the host
    /// memory needed to stage them, naming the limit. Allocates nothing.
    pub fn check(&self, limits: &wgpu::Limits, host_available_bytes: u64) -> Result<(), ComputeError> {
        if self.m == 0 || self.n == 0 || self.k == 0 {
            return Err(ComputeError::ZeroSize { m: self.m.into(), n: self.n.into(), k: self.k.into() });
        }
        let binding = limits.max_storage_buffer_binding_size;
        let (a, b, c) = self.buffer_bytes();
        for (what, bytes) in [("matrix A", a), ("matrix B", b), ("matrix C", c)] {
            if bytes > limits.max_buffer_size {
                return Err(too_large(what, bytes, "the GPU's max_buffer_size", limits.max_buffer_size));
            }
            if bytes > binding {
                return Err(too_large(what, bytes, "the GPU's max_storage_buffer_binding_size", binding));
            }
        }
        // Host side: the inputs, the read-back copy of C and the result vector.
        let host = a.saturating_add(b).saturating_add(c.saturating_mul(2));
        if host_available_bytes > 0 && host > host_available_bytes / 2 {
            return Err(too_large(
                "staging A, B and C in RAM",
                host,
                "half the available host memory",
                host_available_bytes / 2,
            ));
        }
        Ok(())
    }
}

fn too_large(what: &'static str, needed: u64, limit: &'static str, allowed: u64) -> ComputeError {
    ComputeError::TooLarge { what, needed: human_bytes(needed), limit, allowed: human_bytes(allowed) }
}

/// The uniform block every `shaders/matmul*.wgsl` declares.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    m: u32,
    n: u32,
    k: u32,
    row0: u32,
    col0: u32,
    row1: u32,
    col1: u32,
    k0: u32,
    k1: u32,
    accumulate: u32,
    _pad: [u32; 2],
}

/// Reported after every slice (progress bars, job progress events, benchmarks).
#[derive(Debug, Clone, Copy)]
pub struct SliceReport {
    /// Slices run so far in this run.
    pub index: u64,
    /// FLOPs of this slice.
    pub flops: f64,
    /// Wall time from submit to completion.
    pub elapsed: Duration,
    /// Fraction of the whole job done, 0–1.
    pub fraction_done: f64,
}

/// How a run of slices ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Every slice ran; read the output.
    Done,
    /// The cancel token was set; the job can be suspended and resumed.
    Cancelled,
}

/// A partly done job in host memory: resumable on any engine with the same A and B.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuspendedMatmul {
    /// The job's shape.
    pub dims: MatmulDims,
    /// The job's precision (older saved jobs have none: f32).
    #[serde(default)]
    pub precision: Precision,
    /// Where it stopped.
    pub cursor: Cursor,
    /// C as far as it was computed (m×n, never padded).
    pub partial_c: Vec<f32>,
}

impl SuspendedMatmul {
    /// Fraction of the job's FLOPs already done, 0–1.
    pub fn fraction_done(&self) -> f64 {
        let d = self.dims;
        Planner { m: d.m, n: d.n, k: d.k, tile: CLASSIC, max_workgroups: u32::MAX, min_workgroups: 1 }
            .fraction_done(&self.cursor)
    }
}

/// A matmul job with its buffers on the GPU.
#[derive(Debug)]
pub struct MatmulRun<'e> {
    engine: &'e Engine,
    dims: MatmulDims,
    precision: Precision,
    kernel: KernelChoice,
    pipeline: Arc<wgpu::ComputePipeline>,
    /// The padding of a cooperative-matrix run (the planner works in padded sizes).
    padded: Option<Padded>,
    planner: Planner,
    cursor: Cursor,
    rate: RateEstimator,
    c: wgpu::Buffer,
    params: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    slice_times: Vec<Duration>,
}

/// `values` as the bytes of a storage buffer of `path`'s element type, padded with
/// zeros to a multiple of 16 bytes (the kernels read A and B as `vec4`s).
fn upload_bytes(which: &'static str, values: &[f32], path: KernelPath) -> Result<Vec<u8>, ComputeError> {
    let mut bytes: Vec<u8> = match path {
        KernelPath::F32 => bytemuck::cast_slice(values).to_vec(),
        KernelPath::F16 | KernelPath::F16Coopmat => {
            let mut out = Vec::with_capacity(values.len() * 2);
            for &v in values {
                let h = half::f16::from_f32(v);
                if !h.is_finite() && v.is_finite() {
                    return Err(ComputeError::OutOfF16Range { which, value: v });
                }
                out.extend_from_slice(&h.to_bits().to_le_bytes());
            }
            out
        }
    };
    bytes.resize(bytes.len().next_multiple_of(16).max(16), 0);
    Ok(bytes)
}

/// Whether a cursor (from any kernel's planner) lands on whole blocks of `tile`, as a
/// cooperative kernel without an edge path needs.
fn cursor_on_blocks(c: &Cursor, tile: &super::TileShape) -> bool {
    c.row0.is_multiple_of(tile.tile_m)
        && c.rows.is_multiple_of(tile.tile_m)
        && c.col0.is_multiple_of(tile.tile_n)
        && c.cols.is_multiple_of(tile.tile_n)
        && c.k0.is_multiple_of(tile.tile_k)
}

impl Engine {
    /// Uploads A and B and prepares an f32 run of `dims`. Checks sizes before allocating.
    pub fn start_matmul(&self, a: &[f32], b: &[f32], dims: MatmulDims) -> Result<MatmulRun<'_>, ComputeError> {
        self.start_matmul_as(a, b, dims, Precision::F32)
    }

    /// Like [`start_matmul`](Self::start_matmul) in `precision`. For f16, A and B are
    /// given as f32 values and rounded to the nearest f16 on upload (exact for inputs
    /// made by `idlewatt_protocol::inputs::matmul_inputs_f16`); products are exact in
    /// f32 and accumulated in f32.
    pub fn start_matmul_as(
        &self,
        a: &[f32],
        b: &[f32],
        dims: MatmulDims,
        precision: Precision,
    ) -> Result<MatmulRun<'_>, ComputeError> {
        self.prepare(a, b, dims, self.kernel(precision)?, None)
    }

    /// Runs with a given kernel (the tuner, tests of every candidate).
    pub fn start_matmul_with(
        &self,
        a: &[f32],
        b: &[f32],
        dims: MatmulDims,
        kernel: KernelChoice,
    ) -> Result<MatmulRun<'_>, ComputeError> {
        self.prepare(a, b, dims, kernel, None)
    }

    /// Continues a suspended job (possibly on a new engine after the owner left again).
    pub fn resume_matmul(&self, a: &[f32], b: &[f32], job: &SuspendedMatmul) -> Result<MatmulRun<'_>, ComputeError> {
        let mut kernel = self.kernel(job.precision)?;
        if kernel.template == Template::Coopmat && !cursor_on_blocks(&job.cursor, &kernel.shape) {
            // Stopped mid-block of another kernel: finish on the shader cores.
            kernel = self.caps().default_choice(job.precision).ok_or(ComputeError::UnsupportedPrecision {
                precision: job.precision,
                adapter: self.profile().name.clone(),
            })?;
        }
        self.prepare(a, b, job.dims, kernel, Some(job))
    }

    /// Like [`resume_matmul`](Self::resume_matmul) with a given kernel.
    pub fn resume_matmul_with(
        &self,
        a: &[f32],
        b: &[f32],
        job: &SuspendedMatmul,
        kernel: KernelChoice,
    ) -> Result<MatmulRun<'_>, ComputeError> {
        self.prepare(a, b, job.dims, kernel, Some(job))
    }

    /// Workgroups one slice should span: enough for every compute unit to hold a few.
    /// wgpu does not say how many units a GPU has; 1024 covers the largest GPUs (an
    /// H200 has 132 SMs) and a software adapter needs a few per CPU thread.
    fn fill_workgroups(&self) -> u32 {
        if self.profile().software {
            4 * std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
        } else {
            1024
        }
    }

    /// Runs a whole matmul: C = A·B. `Err(Cancelled)` if `cancel` is set between slices.
    pub fn matmul(
        &self,
        a: &[f32],
        b: &[f32],
        dims: MatmulDims,
        cancel: &CancelToken,
        on_slice: &mut dyn FnMut(&SliceReport),
    ) -> Result<Vec<f32>, ComputeError> {
        let mut run = self.start_matmul(a, b, dims)?;
        match run.run(cancel, on_slice)? {
            RunState::Done => run.read_output(),
            RunState::Cancelled => Err(ComputeError::Cancelled),
        }
    }

    fn prepare(
        &self,
        a: &[f32],
        b: &[f32],
        dims: MatmulDims,
        kernel: KernelChoice,
        resume: Option<&SuspendedMatmul>,
    ) -> Result<MatmulRun<'_>, ComputeError> {
        self.check_health()?;
        dims.check(&self.limits, HostProfile::available_memory_bytes())?;
        let (a_len, b_len, c_len) = dims.buffer_bytes();
        check_len("A", a.len(), a_len / 4)?;
        check_len("B", b.len(), b_len / 4)?;
        if let Some(job) = resume {
            check_len("partial C", job.partial_c.len(), c_len / 4)?;
        }
        let pipeline = self.pipeline(&kernel)?;
        let padded = match kernel.template {
            Template::Coopmat => {
                let p = Padded::new(dims.m, dims.n, dims.k, &kernel.shape).ok_or_else(|| ComputeError::TooLarge {
                    what: "a padded matrix dimension",
                    needed: "more than 4294967295".into(),
                    limit: "the largest u32",
                    allowed: u32::MAX.to_string(),
                })?;
                MatmulDims { m: p.mp, n: p.np, k: p.kp }.check(&self.limits, HostProfile::available_memory_bytes())?;
                Some(p)
            }
            _ => None,
        };
        let (a_bytes, b_bytes) = match &padded {
            Some(p) => (upload_bytes("A", &p.pad_a(a), kernel.path)?, upload_bytes("B", &p.pad_b(b), kernel.path)?),
            None => (upload_bytes("A", a, kernel.path)?, upload_bytes("B", b, kernel.path)?),
        };
        let c_init: Option<Vec<f32>> = resume.map(|job| match &padded {
            Some(p) => p.pad_c(&job.partial_c),
            None => job.partial_c.clone(),
        });
        let c_size = padded.map_or(c_len, |p| u64::from(p.mp) * u64::from(p.np) * 4);

        let dev = &self.device;
        let scope = dev.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let storage = wgpu::BufferUsages::STORAGE;
        let a_buf = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("matmul.a"),
            contents: &a_bytes,
            usage: storage,
        });
        let b_buf = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("matmul.b"),
            contents: &b_bytes,
            usage: storage,
        });
        drop((a_bytes, b_bytes));
        let c_usage = storage | wgpu::BufferUsages::COPY_SRC;
        let c = match &c_init {
            Some(init) => dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("matmul.c"),
                contents: bytemuck::cast_slice(init),
                usage: c_usage,
            }),
            None => dev.create_buffer(&wgpu::BufferDescriptor {
                label: Some("matmul.c"),
                size: c_size,
                usage: c_usage,
                mapped_at_creation: false,
            }),
        };
        let params = dev.create_buffer(&wgpu::BufferDescriptor {
            label: Some("matmul.params"),
            size: std::mem::size_of::<Params>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(ComputeError::OutOfMemory { what: "the matmul buffers", reason: error.to_string() });
        }
        let bind_group = dev.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("matmul"),
            layout: &self.layout.bind_group,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: params.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: a_buf.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: b_buf.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 3, resource: c.as_entire_binding() },
            ],
        });
        self.check_health()?;

        let (pm, pn, pk) = padded.map_or((dims.m, dims.n, dims.k), |p| (p.mp, p.np, p.kp));
        let planner = Planner {
            m: pm,
            n: pn,
            k: pk,
            tile: kernel.shape,
            max_workgroups: self.limits.max_compute_workgroups_per_dimension.max(1),
            min_workgroups: self.fill_workgroups(),
        };
        // A cold engine starts with deliberately small slices and grows them.
        let remembered = *self.last_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let guess = remembered.unwrap_or(if self.profile().software { 2e8 } else { 5e9 });
        Ok(MatmulRun {
            engine: self,
            dims,
            precision: kernel.path.precision(),
            kernel,
            pipeline,
            padded,
            planner,
            cursor: resume.map(|j| j.cursor).unwrap_or_default(),
            rate: RateEstimator::new(guess),
            c,
            params,
            bind_group,
            slice_times: Vec::new(),
        })
    }
}

fn check_len(which: &'static str, got: usize, expected: u64) -> Result<(), ComputeError> {
    if got as u64 == expected { Ok(()) } else { Err(ComputeError::InputLength { which, got, expected }) }
}

impl MatmulRun<'_> {
    /// The job's shape.
    pub fn dims(&self) -> MatmulDims {
        self.dims
    }

    /// The kernel this run uses.
    pub fn kernel(&self) -> KernelChoice {
        self.kernel
    }

    /// Fraction of the job's FLOPs done, 0–1.
    pub fn fraction_done(&self) -> f64 {
        self.planner.fraction_done(&self.cursor)
    }

    /// Starts the same product over on the resident buffers (C is overwritten, not
    /// added to): benchmarks time repeats this way without re-uploading.
    pub fn restart(&mut self) {
        self.cursor = Cursor::default();
    }

    /// Wall time of every slice run so far.
    pub fn slice_times(&self) -> &[Duration] {
        &self.slice_times
    }

    /// Runs slices until the job is done or `cancel` is set (checked before each slice).
    pub fn run(
        &mut self,
        cancel: &CancelToken,
        on_slice: &mut dyn FnMut(&SliceReport),
    ) -> Result<RunState, ComputeError> {
        let span = tracing::debug_span!(
            "matmul",
            m = self.dims.m,
            n = self.dims.n,
            k = self.dims.k,
            kernel = %self.kernel.label()
        );
        let _enter = span.enter();
        loop {
            if cancel.is_cancelled() {
                tracing::debug!(done = self.fraction_done(), "cancelled between slices");
                return Ok(RunState::Cancelled);
            }
            let budget = self.rate.budget(self.engine.slice_target);
            let Some(slice) = self.planner.next(&mut self.cursor, budget) else {
                *self.engine.last_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(self.rate.flops_per_s());
                return Ok(RunState::Done);
            };
            let elapsed = self.dispatch(&slice)?;
            self.planner.advance(&mut self.cursor, &slice);
            self.rate.observe(slice.flops(), elapsed);
            self.slice_times.push(elapsed);
            on_slice(&SliceReport {
                index: self.slice_times.len() as u64,
                flops: slice.flops(),
                elapsed,
                fraction_done: self.fraction_done(),
            });
        }
    }

    /// Runs one slice to completion and returns its wall time.
    fn dispatch(&self, s: &Slice) -> Result<Duration, ComputeError> {
        let e = self.engine;
        let (m, n, k) = (self.planner.m, self.planner.n, self.planner.k);
        let params = Params {
            m,
            n,
            k,
            row0: s.row0,
            col0: s.col0,
            row1: s.row0 + s.rows,
            col1: s.col0 + s.cols,
            k0: s.k0,
            k1: s.k1,
            accumulate: u32::from(s.k0 > 0),
            _pad: [0; 2],
        };
        let started = Instant::now();
        e.queue.write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
        let mut encoder = e.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("matmul") });
        {
            let mut pass = encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("matmul"), timestamp_writes: None });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            let t = self.kernel.shape;
            pass.dispatch_workgroups(s.cols.div_ceil(t.tile_n), s.rows.div_ceil(t.tile_m), 1);
        }
        e.queue.submit([encoder.finish()]);
        e.wait()?;
        Ok(started.elapsed())
    }

    /// Copies C back to host memory.
    fn read_c(&self) -> Result<Vec<f32>, ComputeError> {
        let e = self.engine;
        let size = self.c.size();
        let staging = e.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("matmul.readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder =
            e.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("matmul.readback") });
        encoder.copy_buffer_to_buffer(&self.c, 0, &staging, 0, size);
        e.queue.submit([encoder.finish()]);
        let (tx, rx) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        e.wait()?;
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(ComputeError::Gpu(format!("reading C back: {err}"))),
            Err(_) => return Err(ComputeError::Gpu("reading C back: the map callback never ran".into())),
        }
        let view = staging.get_mapped_range(..).map_err(|err| ComputeError::Gpu(format!("reading C back: {err}")))?;
        let out: Vec<f32> = bytemuck::pod_collect_to_vec(&view[..]);
        drop(view);
        staging.unmap();
        Ok(match &self.padded {
            Some(p) => p.unpad_c(&out),
            None => out,
        })
    }

    /// C, once [`run`](Self::run) returned [`RunState::Done`].
    pub fn read_output(&self) -> Result<Vec<f32>, ComputeError> {
        if self.planner.next(&mut self.cursor.clone(), f64::INFINITY).is_some() {
            return Err(ComputeError::Gpu("read_output called before the job finished".into()));
        }
        self.read_c()
    }

    /// The run's state so far as a copy in host memory, leaving it running: a
    /// checkpoint taken between slices, so that a crash (kill -9, a power cut) loses
    /// only the work since the last one.
    pub fn checkpoint(&self) -> Result<SuspendedMatmul, ComputeError> {
        let partial_c = self.read_c()?;
        Ok(SuspendedMatmul { dims: self.dims, precision: self.precision, cursor: self.cursor, partial_c })
    }

    /// Brings the partial C to host memory and frees the GPU buffers.
    pub fn suspend(self) -> Result<SuspendedMatmul, ComputeError> {
        let partial_c = self.read_c()?;
        Ok(SuspendedMatmul { dims: self.dims, precision: self.precision, cursor: self.cursor, partial_c })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_whole_vec4s_and_f16_is_rounded_or_refused() {
        assert_eq!(upload_bytes("A", &[1.0; 5], KernelPath::F32).map(|b| b.len()).ok(), Some(32));
        let h = upload_bytes("A", &[1.0, -2.5], KernelPath::F16).unwrap_or_default();
        assert_eq!(h.len(), 16);
        assert_eq!(&h[..4], &[0x00, 0x3c, 0x00, 0xc1], "1.0 and -2.5 as f16 bits");
        let err = upload_bytes("B", &[1.0, 1e6], KernelPath::F16).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("B holds 1000000") && err.contains("65504"), "{err}");
    }

    #[test]
    fn cooperative_kernels_resume_only_on_whole_blocks() {
        let tile = crate::compute::kernels::shape::COOPMAT[0];
        let on = Cursor { row0: 64, rows: 128, col0: 32, cols: 64, k0: 256 };
        assert!(cursor_on_blocks(&on, &tile));
        assert!(!cursor_on_blocks(&Cursor { k0: 8, ..on }, &tile));
        assert!(!cursor_on_blocks(&Cursor { rows: 48, ..on }, &tile));
    }

    fn limits(buffer: u64, binding: u64) -> wgpu::Limits {
        wgpu::Limits { max_buffer_size: buffer, max_storage_buffer_binding_size: binding, ..wgpu::Limits::default() }
    }

    #[test]
    fn zero_sizes_are_rejected() {
        for dims in [MatmulDims { m: 0, n: 4, k: 4 }, MatmulDims { m: 4, n: 0, k: 4 }, MatmulDims { m: 4, n: 4, k: 0 }]
        {
            assert!(matches!(dims.check(&wgpu::Limits::default(), 0), Err(ComputeError::ZeroSize { .. })));
        }
    }

    #[test]
    fn oversized_inputs_name_the_limit() {
        let msg = MatmulDims::square(1024)
            .check(&limits(1 << 30, 1 << 20), 0)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("max_storage_buffer_binding_size"), "{msg}");
        assert!(msg.contains("4.0 MiB") && msg.contains("1.0 MiB"), "{msg}");
        let err = MatmulDims::square(1024).check(&limits(1 << 20, u64::MAX), 0).err().map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("max_buffer_size"));
        let err = MatmulDims::square(1024).check(&wgpu::Limits::default(), 1 << 20).err().map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("host memory"));
    }

    #[test]
    fn huge_dimensions_do_not_overflow() {
        let dims = MatmulDims { m: u32::MAX, n: u32::MAX, k: u32::MAX };
        assert!(matches!(dims.check(&wgpu::Limits::default(), 0), Err(ComputeError::TooLarge { .. })));
    }
}
