//! Rated power of a GPU, for the estimate used where nothing is measurable: a small
//! table of board powers by adapter-name substring (the manufacturer's figure; a
//! particular card can differ by tens of watts), a conservative default for unknown
//! discrete and integrated GPUs, the owner's override above all, and a software
//! adapter (lavapipe/llvmpipe/WARP) counted as a typical desktop CPU package because it
//! *is* the CPU. The estimate is then `idle + duty × (rated − idle)`.

use serde::Serialize;

/// Board power by name substring, most specific first (matched case-insensitively).
const TABLE: &[(&str, f64)] = &[
    ("rtx 4090", 450.0),
    ("rtx 4080", 320.0),
    ("rtx 4070 ti", 285.0),
    ("rtx 4070", 200.0),
    ("rtx 4060 ti", 160.0),
    ("rtx 4060", 115.0),
    ("rtx 3090", 350.0),
    ("rtx 3080", 320.0),
    ("rtx 3070", 220.0),
    ("rtx 3060 ti", 200.0),
    ("rtx 3060", 170.0),
    ("h100 pcie", 350.0),
    ("h100", 700.0), // SXM
    ("a100", 400.0),
    ("rx 7900 xtx", 355.0),
    ("rx 7900 xt", 315.0),
    ("rx 7800 xt", 263.0),
    ("rx 6900 xt", 300.0),
    ("rx 6800 xt", 300.0),
    ("rx 6800", 250.0),
    ("rx 6700 xt", 230.0),
    ("rx 6600", 132.0),
    ("a770", 225.0), // Intel Arc ("Intel(R) Arc(TM) A770 Graphics")
    ("a750", 225.0),
    ("a380", 75.0),
    ("apple m1", 20.0),
    ("apple m2", 25.0),
    ("apple m3", 30.0),
    ("apple m4", 40.0),
    ("radeon graphics", 25.0), // AMD APU integrated graphics
    ("uhd graphics", 15.0),
    ("iris", 28.0),
];

/// Unknown discrete GPU: a mid-range card's board power, so the cap is not too lax.
pub const DEFAULT_DISCRETE_W: f64 = 200.0;
/// Unknown integrated GPU.
pub const DEFAULT_INTEGRATED_W: f64 = 25.0;
/// A software adapter runs on the CPU: a typical desktop CPU package at full load.
pub const SOFTWARE_CPU_W: f64 = 65.0;
/// Fraction of the rated power drawn while idle (clocks down, memory refreshed).
pub const IDLE_FRACTION: f64 = 0.08;

/// What the GPU is, for the table look-up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GpuHint {
    /// Adapter name from wgpu.
    pub name: String,
    /// PCI vendor id (0x10de NVIDIA …), 0 when unknown.
    pub vendor_id: u32,
    /// PCI device id, 0 when unknown.
    pub device_id: u32,
    /// Integrated GPU (shares the CPU's package).
    pub integrated: bool,
    /// Software adapter (the CPU).
    pub software: bool,
}

impl GpuHint {
    /// The hint for a wgpu adapter profile.
    pub fn from_profile(p: &crate::compute::profile::GpuProfile) -> Self {
        Self {
            name: p.name.clone(),
            vendor_id: p.vendor_id,
            device_id: p.device_id,
            integrated: p.device_type == "integrated",
            software: p.software,
        }
    }
}

/// A rated power and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rated {
    /// Watts at full load.
    pub watts: f64,
    /// Why this figure ("rated power of RTX 4090 (table)", "your setting", …).
    pub basis: String,
}

impl Rated {
    /// The rated power for `gpu`; `override_w` (the owner's setting) wins.
    pub fn lookup(gpu: &GpuHint, override_w: Option<f64>) -> Self {
        if let Some(w) = override_w.filter(|w| w.is_finite() && *w > 0.0) {
            return Self { watts: w, basis: "rated power from your settings".to_owned() };
        }
        let lower = gpu.name.to_lowercase();
        let software = gpu.software
            || ["llvmpipe", "lavapipe", "softpipe", "swiftshader", "warp", "microsoft basic render"]
                .iter()
                .any(|s| lower.contains(s));
        if software {
            return Self { watts: SOFTWARE_CPU_W, basis: "software adapter: typical desktop CPU power".to_owned() };
        }
        if let Some((key, w)) = TABLE.iter().find(|(key, _)| lower.contains(key)) {
            return Self { watts: *w, basis: format!("rated power of {} (built-in table)", key.to_uppercase()) };
        }
        if gpu.integrated {
            Self { watts: DEFAULT_INTEGRATED_W, basis: "unknown integrated GPU: default rated power".to_owned() }
        } else {
            Self { watts: DEFAULT_DISCRETE_W, basis: "unknown GPU: default rated power".to_owned() }
        }
    }

    /// Estimated draw at `duty` (0–1): an idle floor plus the duty's share of the rest.
    pub fn estimate(&self, duty: f64) -> f64 {
        let duty = if duty.is_finite() { duty.clamp(0.0, 1.0) } else { 0.0 };
        let idle = self.watts * IDLE_FRACTION;
        idle + duty * (self.watts - idle)
    }
}
