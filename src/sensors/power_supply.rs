//! Whether the machine runs on mains power or on its battery, from Linux
//! `/sys/class/power_supply/*` (`type` Mains/USB/Battery, `online`, `status`,
//! `capacity`). Peripheral batteries (a wireless mouse: `scope` = `Device`) are ignored.
//! A machine with no power-supply entries (most desktops, VMs) is reported `Unknown`,
//! which the governor treats as mains: a desktop has no battery to protect.

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

    /// Reads `/sys/class/power_supply` under `root`.
    pub fn read(root: &Path) -> Self {
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
