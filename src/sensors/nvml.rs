//! NVIDIA power and temperature through NVML. `nvml-wrapper` loads `libnvidia-ml` at
//! run time, so a machine without the NVIDIA driver gets an error here (treated as "not
//! available"), never a link failure or a panic.

use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;

/// An initialised NVML and the index of the GPU we compute on.
pub struct NvmlGpu {
    nvml: Nvml,
    index: u32,
    /// The device's name as NVML reports it.
    pub name: String,
}

impl std::fmt::Debug for NvmlGpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NvmlGpu").field("index", &self.index).field("name", &self.name).finish_non_exhaustive()
    }
}

impl NvmlGpu {
    /// Opens NVML and picks the device whose name matches `adapter_name` (wgpu's name
    /// for the GPU), else device 0. `None` when NVML or the device is unavailable.
    pub fn open(adapter_name: &str) -> Option<Self> {
        let nvml = match Nvml::init() {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!("NVML not available: {e}");
                return None;
            }
        };
        let count = nvml.device_count().ok()?;
        let wanted = adapter_name.to_lowercase();
        let names: Vec<(u32, String)> =
            (0..count).filter_map(|i| Some((i, nvml.device_by_index(i).ok()?.name().ok()?))).collect();
        let (index, name) = names
            .iter()
            .find(|(_, n)| {
                !wanted.is_empty() && (wanted.contains(&n.to_lowercase()) || n.to_lowercase().contains(&wanted))
            })
            .or(names.first())
            .cloned()?;
        tracing::debug!(index, %name, "NVML device");
        Some(Self { nvml, index, name })
    }

    /// Power draw, watts.
    pub fn power_watts(&self) -> Option<f64> {
        let mw = self.nvml.device_by_index(self.index).ok()?.power_usage().ok()?;
        Some(f64::from(mw) / 1000.0)
    }

    /// GPU die temperature, °C.
    pub fn temp_c(&self) -> Option<f64> {
        let t = self.nvml.device_by_index(self.index).ok()?.temperature(TemperatureSensor::Gpu).ok()?;
        Some(f64::from(t))
    }

    /// The enforced board power limit, watts (a better rated power than the table).
    pub fn power_limit_watts(&self) -> Option<f64> {
        let mw = self.nvml.device_by_index(self.index).ok()?.enforced_power_limit().ok()?;
        Some(f64::from(mw) / 1000.0)
    }
}
