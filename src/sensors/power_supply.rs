//! Whether the machine runs on mains power or on its battery, from Linux
//! `/sys/class/power_supply/*` (`type` Mains/USB/Battery, `online`, `status`,
//! `capacity`). Peripheral batteries (a wireless mouse: `scope` = `Device`) are ignored.
//! A machine with no power-supply entries (most desktops, VMs) is reported `Unknown`,
//! which the governor treats as mains: a desktop has no battery to protect.
//! On Windows and macOS the OS's battery list (`starship-battery`: `GetSystemPowerStatus`
//! / IOKit power sources) says the same: a discharging battery means "on battery".

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::sysfs::{entries_with_prefix, read_string, read_u64, under};

/// Where the machine's power comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PowerSupply {
    /// Mains (an adapter is online).
    Ac,
    /// Running on the battery; its charge in percent when known.
    Battery {
        /// 0–100.
        percent: Option<u8>,
    },
    /// Nothing reported (desktop, VM, non-Linux OS): treated as mains.
    Unknown,
}

impl PowerSupply {
    /// True when running on the battery.
    pub fn on_battery(self) -> bool {
        matches!(self, Self::Battery { .. })
    }

    /// Reads the power state: `/sys/class/power_supply` under `root` on Linux, the OS's
    /// batteries on Windows and macOS (`root` unused there), `Unknown` elsewhere.
    pub fn read(root: &Path) -> Self {
        #[cfg(any(windows, target_os = "macos"))]
        {
            let _ = root;
            Self::read_os()
        }
        #[cfg(not(any(windows, target_os = "macos")))]
        {
            Self::read_sysfs(root)
        }
    }

    /// From the OS's batteries, each `(discharging, percent)`: none → `Unknown`, one
    /// discharging → `Battery` (its charge), else mains (charging, full or idle on AC).
    pub fn from_batteries(batteries: &[(bool, Option<u8>)]) -> Self {
        match batteries.iter().find(|(discharging, _)| *discharging) {
            Some(&(_, percent)) => Self::Battery { percent },
            None if batteries.is_empty() => Self::Unknown,
            None => Self::Ac,
        }
    }

    #[cfg(any(windows, target_os = "macos"))]
    fn read_os() -> Self {
        use starship_battery::units::ratio::percent;
        let batteries = match starship_battery::Manager::new().and_then(|m| m.batteries()) {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!("battery state unavailable: {e}");
                return Self::Unknown;
            }
        };
        let states: Vec<(bool, Option<u8>)> = batteries
            .flatten()
            .map(|b| {
                let charge = b.state_of_charge().get::<percent>();
                let charge = charge.is_finite().then(|| charge.clamp(0.0, 100.0).round() as u8);
                (b.state() == starship_battery::State::Discharging, charge)
            })
            .collect();
        Self::from_batteries(&states)
    }

    /// Reads `/sys/class/power_supply` under `root` (Linux).
    pub fn read_sysfs(root: &Path) -> Self {
        let mut mains_seen = false;
        let mut mains_online = false;
        let mut battery: Option<(bool, Option<u8>)> = None; // (discharging, percent)
        for dir in entries_with_prefix(&under(root, "/sys/class/power_supply"), "") {
            if read_string(&dir.join("scope")).is_some_and(|s| s.eq_ignore_ascii_case("device")) {
                continue;
            }
            match read_string(&dir.join("type")).as_deref() {
                Some("Mains" | "USB" | "USB_C" | "USB_PD" | "Wireless") => {
                    mains_seen = true;
                    mains_online |= read_u64(&dir.join("online")) == Some(1);
                }
                Some("Battery") => {
                    let discharging = read_string(&dir.join("status")).is_some_and(|s| s == "Discharging");
                    let percent = read_u64(&dir.join("capacity")).map(|c| c.min(100) as u8);
                    let (any_discharging, first_percent) = battery.unwrap_or((false, None));
                    battery = Some((any_discharging || discharging, first_percent.or(percent)));
                }
                _ => {}
            }
        }
        match battery {
            _ if mains_online => Self::Ac,
            Some((discharging, percent)) if discharging || mains_seen => Self::Battery { percent },
            Some(_) => Self::Ac, // battery charging/full with no adapter entry: must be on mains
            None => Self::Unknown,
        }
    }
}
