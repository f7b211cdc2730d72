//! GPU power and temperature from Linux hwmon (`/sys/class/hwmon/hwmon*/`). AMD's
//! `amdgpu` exposes both; `nouveau`, `i915`, `xe` and `radeon` expose what they can
//! (often only a temperature, or an energy counter we do not use). Power is
//! `power1_average` (preferred: the driver's own smoothing) or `power1_input`, in µW;
//! temperature is `temp1_input` (the die/edge sensor; junction sensors run hotter and
//! would make the owner's limit stricter than they meant), in m°C.

use std::path::{Path, PathBuf};

use super::sysfs::{entries_with_prefix, read_i64, read_string, read_u64, under};

/// hwmon driver names that belong to a GPU.
pub const GPU_DRIVERS: [&str; 5] = ["amdgpu", "nouveau", "i915", "xe", "radeon"];

/// One GPU's hwmon folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwmonGpu {
    dir: PathBuf,
    /// The driver (`amdgpu`, `nouveau`, …).
    pub driver: String,
}

impl HwmonGpu {
    /// The GPU hwmon folders under `root`, the one whose PCI ids match
    /// `pci_ids` (vendor, device) first. `None` for `pci_ids` keeps sysfs order.
    pub fn scan(root: &Path, pci_ids: Option<(u32, u32)>) -> Vec<Self> {
        let mut found: Vec<(bool, Self)> = entries_with_prefix(&under(root, "/sys/class/hwmon"), "hwmon")
            .into_iter()
            .filter_map(|dir| {
                let driver = read_string(&dir.join("name"))?;
                if !GPU_DRIVERS.contains(&driver.as_str()) {
                    return None;
                }
                let matches = pci_ids.is_some_and(|(vendor, device)| {
                    let id = |f: &str| read_string(&dir.join("device").join(f)).and_then(|s| parse_hex(&s));
                    id("vendor") == Some(vendor) && id("device") == Some(device)
                });
                Some((matches, Self { dir, driver }))
            })
            .collect();
        // Stable sort: matching folders first, sysfs order otherwise.
        found.sort_by_key(|(matches, _)| !*matches);
        found.into_iter().map(|(_, gpu)| gpu).collect()
    }

    /// Power draw in watts, when the driver reports it.
    pub fn power_watts(&self) -> Option<f64> {
        ["power1_average", "power1_input"]
            .iter()
            .find_map(|f| read_u64(&self.dir.join(f)))
            .map(|micro| micro as f64 / 1e6)
    }

    /// Temperature in °C, when the driver reports it.
    pub fn temp_c(&self) -> Option<f64> {
        read_i64(&self.dir.join("temp1_input"))
            .or_else(|| {
                entries_with_prefix(&self.dir, "temp")
                    .into_iter()
                    .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with("_input")))
                    .find_map(|p| read_i64(&p))
            })
            .map(|milli| milli as f64 / 1000.0)
    }
}

fn parse_hex(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}
