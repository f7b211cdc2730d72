//! NVIDIA power and temperature through NVML. `nvml-wrapper` loads `libnvidia-ml` at
//! run time, so a machine without the NVIDIA driver gets an error here (treated as "not
//! available"), never a link failure or a panic.

use nvml_wrapper::Nvml;
use nvml_wrapper::error::NvmlError;

use super::gpu_use::ProcessGpuUse;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;

/// An initialised NVML and the index of the GPU we compute on.
pub struct NvmlGpu {
    nvml: Nvml,
    index: u32,
    /// The device's name as NVML reports it.
    pub name: String,
    /// NVML's timestamp (µs) of the newest per-process sample seen, so each call reads
    /// only the samples taken since the previous one.
    last_process_sample: Option<u64>,
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
        Some(Self { nvml, index, name, last_process_sample: None })
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

    /// Each process's use of the GPU since the previous call (SM, encoder or decoder,
    /// whichever is highest). An empty list when nobody used it; `None` when the GPU
    /// cannot report per-process use (pre-Maxwell, some virtual GPUs) or NVML failed.
    pub fn process_use(&mut self) -> Option<Vec<ProcessGpuUse>> {
        let device = self.nvml.device_by_index(self.index).ok()?;
        let samples = match device.process_utilization_stats(self.last_process_sample) {
            Ok(s) => s,
            // NVML says "not found" when no process used the GPU in the window.
            Err(NvmlError::NotFound) => return Some(Vec::new()),
            Err(e) => {
                tracing::debug!("NVML per-process utilisation unavailable: {e}");
                return None;
            }
        };
        if let Some(newest) = samples.iter().map(|s| s.timestamp).max() {
            self.last_process_sample = Some(newest);
        }
        // Several samples of one process in the window: keep its highest.
        let mut by_pid: Vec<ProcessGpuUse> = Vec::new();
        for s in samples {
            let percent = s.sm_util.max(s.enc_util).max(s.dec_util).min(100);
            match by_pid.iter_mut().find(|p| p.pid == s.pid) {
                Some(p) => p.percent = p.percent.max(percent),
                None => by_pid.push(ProcessGpuUse { pid: s.pid, percent }),
            }
        }
        Some(by_pid)
    }

    /// The enforced board power limit, watts (a better rated power than the table).
    pub fn power_limit_watts(&self) -> Option<f64> {
        let mw = self.nvml.device_by_index(self.index).ok()?.enforced_power_limit().ok()?;
        Some(f64::from(mw) / 1000.0)
    }
}
