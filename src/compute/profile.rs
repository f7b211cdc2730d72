//! The hardware profile: what the owner sees on the Hardware screen and what the node
//! tells the coordinator so it is only offered jobs that fit. GPU facts come from wgpu;
//! CPU, memory and OS facts from `sysinfo`.

use serde::{Deserialize, Serialize};
use wgpu::{AdapterInfo, Limits};

/// The GPU as wgpu sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GpuProfile {
    /// Adapter name ("NVIDIA GeForce RTX 4070", "llvmpipe (LLVM 15.0.6, 256 bits)").
    pub name: String,
    /// PCI vendor id.
    pub vendor_id: u32,
    /// Vendor name when the id is known ("NVIDIA", "AMD", "Intel", "Apple", "Mesa").
    pub vendor: String,
    /// PCI device id.
    pub device_id: u32,
    /// "discrete", "integrated", "virtual", "software" or "other".
    pub device_type: String,
    /// True for a software rasteriser running on the CPU.
    pub software: bool,
    /// "vulkan", "metal", "dx12" or "gl".
    pub backend: String,
    /// Driver name.
    pub driver: String,
    /// Driver version/details.
    pub driver_info: String,
    /// The limits that decide which jobs fit.
    pub limits: GpuLimits,
}

/// The device limits that matter for compute jobs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct GpuLimits {
    /// Largest buffer, bytes.
    pub max_buffer_size: u64,
    /// Largest storage-buffer binding, bytes.
    pub max_storage_buffer_binding_size: u64,
    /// Workgroup memory, bytes.
    pub max_compute_workgroup_storage_size: u32,
    /// Invocations per workgroup.
    pub max_compute_invocations_per_workgroup: u32,
    /// Workgroup size along x.
    pub max_compute_workgroup_size_x: u32,
    /// Workgroup size along y.
    pub max_compute_workgroup_size_y: u32,
    /// Workgroups per dispatch dimension.
    pub max_compute_workgroups_per_dimension: u32,
}

impl From<&Limits> for GpuLimits {
    fn from(l: &Limits) -> Self {
        Self {
            max_buffer_size: l.max_buffer_size,
            max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
            max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
            max_compute_invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
            max_compute_workgroup_size_x: l.max_compute_workgroup_size_x,
            max_compute_workgroup_size_y: l.max_compute_workgroup_size_y,
            max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
        }
    }
}

/// The host around the GPU.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HostProfile {
    /// CPU brand string.
    pub cpu_model: String,
    /// Physical cores, when the OS tells.
    pub physical_cores: Option<usize>,
    /// Logical CPUs.
    pub logical_cpus: usize,
    /// Installed RAM, bytes.
    pub total_memory_bytes: u64,
    /// OS name and version ("Debian GNU/Linux 12").
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// CPU architecture ("x86_64").
    pub arch: String,
}

/// Everything `idlewatt-node info` reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HardwareProfile {
    /// The GPU in use.
    pub gpu: GpuProfile,
    /// The host.
    pub host: HostProfile,
}

fn vendor_name(id: u32) -> &'static str {
    match id {
        0x10de => "NVIDIA",
        0x1002 | 0x1022 => "AMD",
        0x8086 => "Intel",
        0x106b => "Apple",
        0x5143 => "Qualcomm",
        0x13b5 => "ARM",
        0x10005 => "Mesa",
        _ => "unknown",
    }
}

impl GpuProfile {
    /// The profile of an adapter with the limits its device was opened with.
    pub fn new(info: &AdapterInfo, limits: &Limits) -> Self {
        use wgpu::DeviceType as T;
        let device_type = match info.device_type {
            T::DiscreteGpu => "discrete",
            T::IntegratedGpu => "integrated",
            T::VirtualGpu => "virtual",
            T::Cpu => "software",
            T::Other => "other",
        };
        Self {
            name: info.name.clone(),
            vendor_id: info.vendor,
            vendor: vendor_name(info.vendor).to_owned(),
            device_id: info.device,
            device_type: device_type.to_owned(),
            software: info.device_type == T::Cpu,
            backend: info.backend.to_str().to_owned(),
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
            limits: GpuLimits::from(limits),
        }
    }
}

impl HostProfile {
    /// Reads the host's CPU, memory and OS.
    pub fn detect() -> Self {
        use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};
        let refresh = RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(MemoryRefreshKind::nothing().with_ram());
        let sys = System::new_with_specifics(refresh).ok();
        let cpu_model = sys
            .as_ref()
            .and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_owned()))
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let logical_cpus = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            cpu_model,
            physical_cores: System::physical_core_count().ok(),
            logical_cpus,
            total_memory_bytes: sys.as_ref().map_or(0, System::total_memory),
            os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.to_owned()),
            kernel: System::kernel_version().unwrap_or_default(),
            arch: System::cpu_arch(),
        }
    }

    /// Memory the OS says is available now, bytes (0 when unknown).
    pub fn available_memory_bytes() -> u64 {
        use sysinfo::{MemoryRefreshKind, RefreshKind, System};
        System::new_with_specifics(RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()))
            .map_or(0, |s| s.available_memory())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vendors_are_named() {
        assert_eq!(vendor_name(0x10de), "NVIDIA");
        assert_eq!(vendor_name(0x10005), "Mesa");
        assert_eq!(vendor_name(0xdead), "unknown");
    }

    #[test]
    fn host_profile_reads_this_machine() {
        let host = HostProfile::detect();
        assert!(host.logical_cpus >= 1);
        assert!(host.total_memory_bytes > 0, "sysinfo must read RAM on Linux");
        assert!(!host.os.is_empty());
    }
}
