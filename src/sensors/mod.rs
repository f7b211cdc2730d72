//! Power (W) and temperature (°C) readings, each tagged with where it came from:
//! measured (NVML for NVIDIA, Linux hwmon for AMD/Intel/nouveau GPUs, Intel RAPL for the
//! CPU package) or estimated (the GPU's rated power × the duty cycle, see [`rated`]).
//! A temperature that cannot be measured is `None`: we never invent one.
//!
//! [`Sensors`] is a plain struct the node loop calls about once a second with the
//! current time and the duty cycle it is running at; it has no thread and no global
//! state. The sysfs root is a parameter ([`Probe::root`]) so tests read sample trees.
//! Only Linux has sysfs sources; on Windows and macOS a non-NVIDIA GPU is estimated.

pub mod gpu_use;
pub mod hwmon;
pub mod nvml;
pub mod power_supply;
pub mod rapl;
pub mod rated;
mod sysfs;

use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use power_supply::PowerSupply;
pub use rated::{GpuHint, Rated};

/// The instrument behind a measured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// NVIDIA Management Library.
    Nvml,
    /// Linux hwmon.
    Hwmon,
    /// Intel RAPL energy counters (powercap).
    Rapl,
}

impl Via {
    /// "nvml", "hwmon" or "rapl".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nvml => "nvml",
            Self::Hwmon => "hwmon",
            Self::Rapl => "rapl",
        }
    }
}

/// Whether a value was measured or estimated, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Source {
    /// Read from an instrument.
    Measured {
        /// Which one.
        #[cfg_attr(feature = "specta", specta(type = String))]
        via: Via,
    },
    /// Computed from a model; `basis` says which (shown to the owner).
    Estimated {
        /// "rated power of RTX 4070 (built-in table) × duty cycle", …
        basis: String,
    },
}

impl Source {
    /// True for [`Source::Measured`].
    pub fn is_measured(&self) -> bool {
        matches!(self, Self::Measured { .. })
    }
}

/// One value with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Measurement {
    /// Watts or °C.
    pub value: f64,
    /// Measured or estimated.
    pub source: Source,
}

impl Measurement {
    fn measured(value: f64, via: Via) -> Self {
        Self { value, source: Source::Measured { via } }
    }
}

/// Everything read at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// GPU power, W: always present (estimated when not measurable).
    pub gpu_watts: Measurement,
    /// GPU temperature, °C; `None` when not measurable ("not measured" in the UI).
    pub gpu_temp_c: Option<Measurement>,
    /// CPU package power, W, when RAPL is readable (never estimated).
    pub cpu_watts: Option<Measurement>,
    /// Mains or battery.
    pub supply: PowerSupply,
}

/// Where and what to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The filesystem root under which `/sys` is read (`/` in production).
    pub root: PathBuf,
    /// Whether to try NVML (off in tests that read sample sysfs trees).
    pub nvml: bool,
}

impl Default for Probe {
    fn default() -> Self {
        Self { root: PathBuf::from("/"), nvml: true }
    }
}

/// Which sources were found, for the Hardware screen and the logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sources {
    /// GPU power: `Some(via)` when measured.
    pub gpu_power: Option<Via>,
    /// GPU temperature: `Some(via)` when measured.
    pub gpu_temp: Option<Via>,
    /// CPU package power (RAPL) readable.
    pub cpu_power: bool,
    /// The rated power used for estimates (and for the default power cap).
    pub rated: Rated,
}

/// The machine's sensors for one GPU.
#[derive(Debug)]
pub struct Sensors {
    root: PathBuf,
    gpu: GpuHint,
    rated: Rated,
    nvml: Option<nvml::NvmlGpu>,
    hwmon: Option<hwmon::HwmonGpu>,
    rapl: Option<rapl::Rapl>,
}

impl Sensors {
    /// Finds the sources for `gpu` on this machine (`/`, NVML tried).
    pub fn detect(gpu: &GpuHint, rated_override: Option<f64>) -> Self {
        Self::detect_with(&Probe::default(), gpu, rated_override)
    }

    /// Finds the sources for `gpu` as `probe` says. `rated_override` is the owner's
    /// rated-power setting; without it NVML's enforced power limit, else the table.
    pub fn detect_with(probe: &Probe, gpu: &GpuHint, rated_override: Option<f64>) -> Self {
        let nvml = if probe.nvml && !gpu.software && (gpu.vendor_id == 0x10de || gpu.vendor_id == 0) {
            nvml::NvmlGpu::open(&gpu.name)
        } else {
            None
        };
        let pci = (gpu.vendor_id != 0).then_some((gpu.vendor_id, gpu.device_id));
        let hwmon = if gpu.software { None } else { hwmon::HwmonGpu::scan(&probe.root, pci).into_iter().next() };
        let rapl = rapl::Rapl::detect(&probe.root);
        let mut rated = Rated::lookup(gpu, rated_override);
        if rated_override.is_none()
            && let Some(w) = nvml.as_ref().and_then(nvml::NvmlGpu::power_limit_watts).filter(|w| *w > 0.0)
        {
            rated = Rated { watts: w, basis: "board power limit reported by NVML".to_owned() };
        }
        let sensors = Self { root: probe.root.clone(), gpu: gpu.clone(), rated, nvml, hwmon, rapl };
        tracing::info!(sources = ?sensors.sources(), "sensors");
        sensors
    }

    /// The rated power used for estimates and for the default power cap.
    pub fn rated(&self) -> &Rated {
        &self.rated
    }

    /// Which sources are available (a source found at start may still fail to read).
    pub fn sources(&self) -> Sources {
        let hw = self.hwmon.as_ref();
        let gpu_power = if self.nvml.is_some() {
            Some(Via::Nvml)
        } else if hw.and_then(hwmon::HwmonGpu::power_watts).is_some() {
            Some(Via::Hwmon)
        } else if self.gpu.software && self.rapl.is_some() {
            Some(Via::Rapl)
        } else {
            None
        };
        let gpu_temp = if self.nvml.as_ref().and_then(nvml::NvmlGpu::temp_c).is_some() {
            Some(Via::Nvml)
        } else if hw.and_then(hwmon::HwmonGpu::temp_c).is_some() {
            Some(Via::Hwmon)
        } else {
            None
        };
        Sources { gpu_power, gpu_temp, cpu_power: self.rapl.is_some(), rated: self.rated.clone() }
    }

    /// Each process's use of the GPU since the previous call, where the driver reports
    /// it (NVML); `None` elsewhere. Feeds [`gpu_use::BusyDetector`].
    pub fn process_gpu_use(&mut self) -> Option<Vec<gpu_use::ProcessGpuUse>> {
        self.nvml.as_mut().and_then(nvml::NvmlGpu::process_use)
    }

    /// Reads everything at `now`. `duty` is the duty cycle the GPU ran at since the
    /// last read (0 when not computing); it only feeds the estimate.
    pub fn read(&mut self, now: Instant, duty: f64) -> Reading {
        let cpu_watts = self.rapl.as_mut().and_then(|r| r.read(now)).map(|w| Measurement::measured(w, Via::Rapl));
        let nv = self.nvml.as_ref();
        let hw = self.hwmon.as_ref();
        let measured_power = nv
            .and_then(nvml::NvmlGpu::power_watts)
            .map(|w| Measurement::measured(w, Via::Nvml))
            .or_else(|| hw.and_then(hwmon::HwmonGpu::power_watts).map(|w| Measurement::measured(w, Via::Hwmon)))
            // A software adapter is the CPU: its package power is the honest figure.
            .or_else(|| cpu_watts.clone().filter(|_| self.gpu.software));
        let gpu_watts = measured_power.unwrap_or_else(|| Measurement {
            value: self.rated.estimate(duty),
            source: Source::Estimated { basis: format!("{} × duty cycle", self.rated.basis) },
        });
        let gpu_temp_c = nv
            .and_then(nvml::NvmlGpu::temp_c)
            .map(|t| Measurement::measured(t, Via::Nvml))
            .or_else(|| hw.and_then(hwmon::HwmonGpu::temp_c).map(|t| Measurement::measured(t, Via::Hwmon)));
        Reading { gpu_watts, gpu_temp_c, cpu_watts, supply: PowerSupply::read(&self.root) }
    }
}

#[cfg(test)]
mod tests;
