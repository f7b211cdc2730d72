//! CPU package power from Intel RAPL (`/sys/class/powercap/intel-rapl:N`, also present
//! on recent AMD CPUs). The kernel exposes a cumulative energy counter (`energy_uj`)
//! that wraps at `max_energy_range_uj`; power is the energy difference between two
//! reads divided by the time between them, so the first read gives no figure.
//! Unprivileged reads of `energy_uj` are refused on many distributions since 2020
//! (CVE-2020-8694): then the CPU is simply "not measured".

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::sysfs::{entries_with_prefix, read_string, read_u64, under};

/// The package domains of the machine's CPUs (one per socket).
#[derive(Debug, Clone)]
pub struct Rapl {
    domains: Vec<Domain>,
    last: Option<Instant>,
}

#[derive(Debug, Clone)]
struct Domain {
    dir: PathBuf,
    max_range_uj: Option<u64>,
    last_uj: Option<u64>,
}

impl Rapl {
    /// The readable package domains under `root`; `None` when there are none.
    pub fn detect(root: &Path) -> Option<Self> {
        let domains: Vec<Domain> = entries_with_prefix(&under(root, "/sys/class/powercap"), "intel-rapl:")
            .into_iter()
            // Top-level domains only ("intel-rapl:0", not "intel-rapl:0:0" sub-zones).
            .filter(|d| d.file_name().is_some_and(|n| n.to_string_lossy().matches(':').count() == 1))
            .filter(|d| read_string(&d.join("name")).is_some_and(|n| n.starts_with("package")))
            .filter(|d| read_u64(&d.join("energy_uj")).is_some())
            .map(|dir| Domain { max_range_uj: read_u64(&dir.join("max_energy_range_uj")), dir, last_uj: None })
            .collect();
        if domains.is_empty() { None } else { Some(Self { domains, last: None }) }
    }

    /// Reads the counters at `now`; the CPU package power (summed over sockets) since
    /// the previous read, in watts. `None` on the first read, when time did not advance,
    /// or when a counter could not be read.
    pub fn read(&mut self, now: Instant) -> Option<f64> {
        let dt = self.last.map(|last| now.saturating_duration_since(last).as_secs_f64());
        self.last = Some(now);
        let mut joules = 0.0;
        let mut complete = true;
        for d in &mut self.domains {
            let Some(uj) = read_u64(&d.dir.join("energy_uj")) else {
                complete = false;
                d.last_uj = None;
                continue;
            };
            match d.last_uj.replace(uj) {
                Some(prev) => joules += delta_uj(prev, uj, d.max_range_uj) as f64 / 1e6,
                None => complete = false,
            }
        }
        match dt {
            Some(dt) if dt > 0.0 && complete => Some(joules / dt),
            _ => None,
        }
    }
}

/// Energy between two counter values, allowing for one wrap-around at `max_range`.
pub(crate) fn delta_uj(prev: u64, now: u64, max_range: Option<u64>) -> u64 {
    if now >= prev {
        now - prev
    } else {
        // Wrapped: the counter went to max_range and restarted at 0.
        match max_range {
            Some(max) if max >= prev => max - prev + now,
            _ => now,
        }
    }
}
