//! Choosing the GPU: a discrete GPU first, then an integrated one, then anything else
//! with real hardware; a software rasteriser (lavapipe, llvmpipe, WARP) only when the
//! owner or a test explicitly allows it, because lending a CPU pretending to be a GPU
//! heats the machine for almost no useful work.

use wgpu::{Adapter, Backend, DeviceType, Instance};

use super::ComputeError;

/// Environment variable that allows a software adapter (for tests and development).
pub const ALLOW_SOFTWARE_ENV: &str = "IDLEWATT_ALLOW_SOFTWARE";

/// Which adapters the engine may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdapterPolicy {
    /// Accept a software (CPU) adapter when no hardware one exists.
    pub allow_software: bool,
}

impl AdapterPolicy {
    /// The policy from a setting or flag, widened by `IDLEWATT_ALLOW_SOFTWARE=1`.
    pub fn with_env(self) -> Self {
        let from_env = std::env::var(ALLOW_SOFTWARE_ENV).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        Self { allow_software: self.allow_software || from_env }
    }
}

/// Lower is better: hardware kinds first, software last.
fn type_rank(t: DeviceType) -> u8 {
    match t {
        DeviceType::DiscreteGpu => 0,
        DeviceType::IntegratedGpu => 1,
        DeviceType::VirtualGpu => 2,
        DeviceType::Other => 3,
        DeviceType::Cpu => 4,
    }
}

/// Lower is better: the native explicit APIs before GL.
fn backend_rank(b: Backend) -> u8 {
    match b {
        Backend::Vulkan | Backend::Metal | Backend::Dx12 => 0,
        Backend::Gl => 1,
        _ => 2,
    }
}

/// The instance every engine uses: all native back-ends, narrowed by `WGPU_BACKEND` etc.
pub fn instance() -> Instance {
    Instance::new(wgpu::InstanceDescriptor::new_without_display_handle().with_env())
}

/// Picks the best adapter under `policy`, or says why none is acceptable.
pub fn select(instance: &Instance, policy: AdapterPolicy) -> Result<Adapter, ComputeError> {
    select_from(instance, wgpu::Backends::all(), policy)
}

/// Like [`select`], among the adapters of `backends` only (tests pin Vulkan this way).
pub fn select_from(
    instance: &Instance,
    backends: wgpu::Backends,
    policy: AdapterPolicy,
) -> Result<Adapter, ComputeError> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
    adapters.sort_by_key(|a| {
        let info = a.get_info();
        (type_rank(info.device_type), backend_rank(info.backend))
    });
    for adapter in &adapters {
        let info = adapter.get_info();
        tracing::debug!(name = %info.name, kind = ?info.device_type, backend = ?info.backend, "found adapter");
    }
    let best = adapters.into_iter().next().ok_or(ComputeError::NoAdapter)?;
    let info = best.get_info();
    if info.device_type == DeviceType::Cpu && !policy.allow_software {
        return Err(ComputeError::SoftwareRefused { name: info.name });
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_outranks_software_and_vulkan_outranks_gl() {
        assert!(type_rank(DeviceType::DiscreteGpu) < type_rank(DeviceType::IntegratedGpu));
        assert!(type_rank(DeviceType::IntegratedGpu) < type_rank(DeviceType::Cpu));
        assert!(backend_rank(Backend::Vulkan) < backend_rank(Backend::Gl));
    }
}
