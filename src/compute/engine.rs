//! One wgpu device, its queue and the compiled kernels: built once, reused for every
//! job, dropped (releasing all VRAM) when the owner comes back, rebuilt when work
//! resumes or after the device was lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use idlewatt_protocol::Precision;
use wgpu::{Adapter, Device, Queue};

use super::{
    AdapterPolicy, ComputeError, GpuProfile, HardwareProfile, HostProfile, KernelCaps, adapter, kernels::KernelChoice,
    slicing::DEFAULT_SLICE_TARGET,
};

/// What the device callbacks observed; checked after every slice.
#[derive(Debug, Default)]
pub(crate) struct Health {
    lost: Mutex<Option<String>>,
    error: Mutex<Option<String>>,
}

impl Health {
    fn set_lost(&self, reason: String) {
        *self.lost.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
    }
    fn set_error(&self, message: String) {
        let mut slot = self.error.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(message);
    }
    /// `Err` once the device is lost or reported an uncaptured error.
    pub(crate) fn check(&self) -> Result<(), ComputeError> {
        if let Some(reason) = self.lost.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            return Err(ComputeError::DeviceLost { reason });
        }
        if let Some(message) = self.error.lock().unwrap_or_else(PoisonError::into_inner).take() {
            return Err(ComputeError::Gpu(message));
        }
        Ok(())
    }
}

/// The bind group layout every matmul kernel shares (params, A, B, C) and its
/// pipeline layout.
#[derive(Debug)]
pub(crate) struct MatmulLayout {
    pub(crate) bind_group: wgpu::BindGroupLayout,
    pipeline: wgpu::PipelineLayout,
}

/// The compute engine: one device and the kernels compiled for it.
#[derive(Debug)]
pub struct Engine {
    pub(crate) device: Device,
    pub(crate) queue: Queue,
    pub(crate) limits: wgpu::Limits,
    pub(crate) layout: MatmulLayout,
    pub(crate) health: Arc<Health>,
    /// Throughput measured by the last job (FLOP/s), the next job's first guess.
    pub(crate) last_rate: Mutex<Option<f64>>,
    pub(crate) slice_target: Duration,
    caps: KernelCaps,
    /// Kernels compiled so far (lazily: a candidate costs nothing until used).
    pipelines: Mutex<HashMap<KernelChoice, Arc<wgpu::ComputePipeline>>>,
    /// The kernel each precision runs with (the default shape until tuned).
    chosen: Mutex<HashMap<Precision, KernelChoice>>,
    profile: GpuProfile,
}

impl Engine {
    /// Opens the best adapter `policy` allows.
    pub fn new(policy: AdapterPolicy) -> Result<Self, ComputeError> {
        let instance = adapter::instance();
        let chosen = adapter::select(&instance, policy)?;
        Self::from_adapter(chosen)
    }

    /// Opens a device on `adapter` and compiles the kernels.
    pub fn from_adapter(adapter: Adapter) -> Result<Self, ComputeError> {
        let info = adapter.get_info();
        let limits = adapter.limits();
        let span = tracing::info_span!("open_gpu", adapter = %info.name, backend = ?info.backend);
        let _enter = span.enter();
        let caps = KernelCaps::of(&adapter);
        let required_features = caps.required_features();
        let desc = wgpu::DeviceDescriptor {
            label: Some("idlewatt"),
            required_limits: limits.clone(),
            required_features,
            experimental_features: experimental(required_features),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| ComputeError::RequestDevice { adapter: info.name.clone(), reason: e.to_string() })?;

        let health = Arc::new(Health::default());
        let on_lost = Arc::clone(&health);
        device.set_device_lost_callback(move |reason, message| {
            tracing::warn!(?reason, %message, "GPU device lost");
            on_lost.set_lost(format!("{reason:?}: {message}"));
        });
        let on_error = Arc::clone(&health);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            tracing::error!(%error, "GPU error");
            on_error.set_error(error.to_string());
        }));

        let layout = matmul_layout(&device);
        let profile = GpuProfile::new(&info, &limits);
        let chosen: HashMap<Precision, KernelChoice> =
            caps.precisions().into_iter().filter_map(|p| caps.default_choice(p).map(|c| (p, c))).collect();
        let engine = Self {
            device,
            queue,
            limits,
            layout,
            health,
            last_rate: Mutex::new(None),
            slice_target: DEFAULT_SLICE_TARGET,
            caps,
            pipelines: Mutex::new(HashMap::new()),
            chosen: Mutex::new(chosen),
            profile,
        };
        // Compile the f32 kernel now: a driver that cannot compile it fails here, at open.
        engine.pipeline(&engine.kernel(Precision::F32)?)?;
        engine.health.check()?;
        tracing::info!(name = %engine.profile.name, kind = %engine.profile.device_type, paths = ?engine.caps.paths(), "GPU ready");
        Ok(engine)
    }

    /// What this adapter offers the kernels.
    pub fn caps(&self) -> &KernelCaps {
        &self.caps
    }

    /// The precisions this engine can compute.
    pub fn precisions(&self) -> Vec<Precision> {
        self.caps.precisions()
    }

    /// The kernel `precision` runs with now.
    pub fn kernel(&self, precision: Precision) -> Result<KernelChoice, ComputeError> {
        self.chosen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&precision)
            .copied()
            .ok_or_else(|| ComputeError::UnsupportedPrecision { precision, adapter: self.profile.name.clone() })
    }

    /// Makes `choice` the kernel of its precision (the tuner's pick, or a test's).
    /// Compiles it first; refuses a kernel this adapter cannot run.
    pub fn set_kernel(&self, choice: KernelChoice) -> Result<(), ComputeError> {
        self.pipeline(&choice)?;
        self.chosen.lock().unwrap_or_else(PoisonError::into_inner).insert(choice.path.precision(), choice);
        Ok(())
    }

    /// The compiled pipeline of `choice`, compiling it on first use.
    pub(crate) fn pipeline(&self, choice: &KernelChoice) -> Result<Arc<wgpu::ComputePipeline>, ComputeError> {
        if !self.caps.fits(choice) {
            return Err(ComputeError::UnsupportedKernel { kernel: choice.label(), adapter: self.profile.name.clone() });
        }
        if let Some(p) = self.pipelines.lock().unwrap_or_else(PoisonError::into_inner).get(choice) {
            return Ok(Arc::clone(p));
        }
        let compiled = Arc::new(compile(&self.device, &self.layout, choice)?);
        self.pipelines.lock().unwrap_or_else(PoisonError::into_inner).insert(*choice, Arc::clone(&compiled));
        Ok(compiled)
    }

    /// The GPU in use.
    pub fn profile(&self) -> &GpuProfile {
        &self.profile
    }

    /// The GPU plus the host (CPU, RAM, OS).
    pub fn hardware_profile(&self) -> HardwareProfile {
        HardwareProfile { gpu: self.profile.clone(), host: HostProfile::detect() }
    }

    /// The GPU time one slice aims for.
    pub fn slice_target(&self) -> Duration {
        self.slice_target
    }

    /// Sets the GPU time one slice aims for (clamped to 1–10 ms).
    pub fn set_slice_target(&mut self, target: Duration) {
        self.slice_target = target.clamp(Duration::from_millis(1), Duration::from_millis(10));
    }

    /// `Err(DeviceLost)` once the device is gone: drop this engine and build a new one.
    pub fn check_health(&self) -> Result<(), ComputeError> {
        self.health.check()
    }

    /// Destroys the device as a driver reset would. For tests of device-loss recovery.
    #[doc(hidden)]
    pub fn simulate_device_loss(&self) {
        self.device.destroy();
        // Destroy is reported through the lost callback on the next poll.
        let _ = self.device.poll(wgpu::PollType::Poll);
    }

    /// Waits for the queue to drain, turning loss and errors into typed errors.
    pub(crate) fn wait(&self) -> Result<(), ComputeError> {
        let polled = self.device.poll(wgpu::PollType::wait_indefinitely());
        self.health.check()?;
        polled.map(|_| ()).map_err(|e| ComputeError::Gpu(e.to_string()))
    }
}

/// Experimental features (cooperative matrices) must be acknowledged by a token.
#[allow(unsafe_code)]
fn experimental(features: wgpu::Features) -> wgpu::ExperimentalFeatures {
    if features.intersects(wgpu::Features::all_experimental_mask()) {
        // SAFETY: wgpu asks callers of experimental features to accept that the
        // implementation may still have bugs. We use cooperative matrices only in the
        // `f16-coopmat` kernel, which naga validates, and the tuner runs it against the
        // CPU reference before it is ever chosen for a job.
        unsafe { wgpu::ExperimentalFeatures::enabled() }
    } else {
        wgpu::ExperimentalFeatures::disabled()
    }
}

fn matmul_layout(device: &Device) -> MatmulLayout {
    let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let bind_group = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("matmul"),
        entries: &[
            wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            },
            storage(1, true),
            storage(2, true),
            storage(3, false),
        ],
    });
    let pipeline = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("matmul"),
        bind_group_layouts: &[Some(&bind_group)],
        immediate_size: 0,
    });
    MatmulLayout { bind_group, pipeline }
}

fn compile(
    device: &Device,
    layout: &MatmulLayout,
    choice: &KernelChoice,
) -> Result<wgpu::ComputePipeline, ComputeError> {
    let label = choice.label();
    let source = choice.source().ok_or_else(|| ComputeError::UnknownKernel(choice.template.file().into()))?;
    let span = tracing::debug_span!("compile", kernel = %label);
    let _enter = span.enter();
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(&label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(&label),
        layout: Some(&layout.pipeline),
        module: &module,
        entry_point: Some("main"),
        compilation_options: wgpu::PipelineCompilationOptions {
            // Every panel element is written before it is read: no need to zero it.
            zero_initialize_workgroup_memory: false,
            ..Default::default()
        },
        cache: None,
    });
    if let Some(error) = pollster::block_on(scope.pop()) {
        return Err(ComputeError::Gpu(format!("compiling {label}: {error}")));
    }
    Ok(pipeline)
}
