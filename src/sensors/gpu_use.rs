//! Is another program using the GPU heavily? The node must step aside for a game, a
//! render or a video encode even when the owner is away from the keyboard — without a
//! list of program names to maintain. NVML reports each process's share of the GPU
//! (SM, encoder, decoder) over its last sampling window; this module turns those samples
//! into a yes/no with hysteresis, so a short spike does not pause the node and a busy
//! program that dips for a moment does not hand the GPU back to us.
//!
//! Pure and clock-driven (the caller passes `now`), so it is tested without a GPU. Only
//! NVIDIA GPUs report per-process use; elsewhere the detector is never fed and stays
//! quiet (the full-screen check still covers games and videos).

use std::time::{Duration, Instant};

/// One process's use of the GPU in the latest sampling window, percent (0–100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessGpuUse {
    /// The process id.
    pub pid: u32,
    /// The largest of its SM (3D/compute), encoder and decoder utilisation, percent.
    pub percent: u32,
}

/// Another program is using the GPU heavily: who, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherGpuUse {
    /// The busiest other process's name ("blender"), when the OS tells it.
    pub process: Option<String>,
    /// Total use by processes other than ours, percent (capped at 100).
    pub percent: u32,
}

/// Turns per-process samples into "busy / not busy" with hysteresis.
#[derive(Debug, Clone)]
pub struct BusyDetector {
    /// Others' total use at or above which the GPU counts as busy, percent.
    pub busy_at: u32,
    /// Others' total use below which it may count as free again, percent.
    pub free_below: u32,
    /// How long others must stay below `free_below` before the GPU is free again.
    pub hold: Duration,
    own_pid: u32,
    busy: Option<OtherGpuUse>,
    quiet_since: Option<Instant>,
}

impl BusyDetector {
    /// A detector that ignores `own_pid` (this process: our own compute shows in NVML).
    /// Defaults: busy at ≥ 30 %, free after 15 s below 10 % — a desktop compositor or a
    /// browser idles well under 10 %, a game or a render sits far above 30 %.
    pub fn new(own_pid: u32) -> Self {
        Self { busy_at: 30, free_below: 10, hold: Duration::from_secs(15), own_pid, busy: None, quiet_since: None }
    }

    /// Feeds the latest samples (`None`: the source could not be read, which keeps the
    /// current verdict) and returns the verdict: `Some` while another program is busy.
    pub fn update(&mut self, now: Instant, samples: Option<&[ProcessGpuUse]>) -> Option<&OtherGpuUse> {
        let Some(samples) = samples else { return self.busy.as_ref() };
        let others: Vec<&ProcessGpuUse> = samples.iter().filter(|s| s.pid != self.own_pid).collect();
        let total = others.iter().map(|s| s.percent).sum::<u32>().min(100);
        if total >= self.busy_at {
            let top = others.iter().max_by_key(|s| s.percent).map(|s| s.pid);
            self.busy = Some(OtherGpuUse { process: top.and_then(process_name), percent: total });
            self.quiet_since = None;
        } else if let Some(busy) = self.busy.as_mut() {
            if total < self.free_below {
                let since = *self.quiet_since.get_or_insert(now);
                if now.duration_since(since) >= self.hold {
                    self.busy = None;
                    self.quiet_since = None;
                }
            } else {
                // Between the thresholds: still busy, and the quiet period starts over.
                busy.percent = total;
                self.quiet_since = None;
            }
        }
        self.busy.as_ref()
    }

    /// The current verdict.
    pub fn busy(&self) -> Option<&OtherGpuUse> {
        self.busy.as_ref()
    }
}

/// A process's short name, from `/proc/PID/comm` on Linux; `None` elsewhere or when it
/// has exited. Shown to the owner only ("paused: blender is using the GPU").
fn process_name(pid: u32) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        let name = name.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: u32 = 1000;

    fn use_(pid: u32, percent: u32) -> ProcessGpuUse {
        ProcessGpuUse { pid, percent }
    }

    #[test]
    fn our_own_compute_never_counts_as_someone_else() {
        let mut d = BusyDetector::new(OWN);
        let t = Instant::now();
        assert!(d.update(t, Some(&[use_(OWN, 100)])).is_none());
        assert!(d.update(t, Some(&[use_(OWN, 95), use_(7, 5)])).is_none());
    }

    #[test]
    fn a_busy_program_pauses_at_once_with_its_share() {
        let mut d = BusyDetector::new(OWN);
        let t = Instant::now();
        let busy = d.update(t, Some(&[use_(OWN, 60), use_(std::process::id(), 0), use_(4242, 45)])).cloned();
        let busy = busy.expect("45 % by another process is busy");
        assert_eq!(busy.percent, 45);
        // Several light users add up: three at 12 % are a busy GPU.
        let mut d = BusyDetector::new(OWN);
        assert_eq!(d.update(t, Some(&[use_(1, 12), use_(2, 12), use_(3, 12)])).map(|b| b.percent), Some(36));
    }

    #[test]
    fn the_busiest_process_is_named_when_the_os_knows_it() {
        let mut d = BusyDetector::new(OWN);
        let me = std::process::id();
        let busy = d.update(Instant::now(), Some(&[use_(me, 80), use_(u32::MAX - 1, 5)])).cloned().expect("busy");
        #[cfg(target_os = "linux")]
        assert!(busy.process.is_some_and(|n| !n.is_empty()), "this test process has a /proc comm");
        #[cfg(not(target_os = "linux"))]
        assert_eq!(busy.process, None);
    }

    #[test]
    fn a_light_desktop_never_pauses() {
        let mut d = BusyDetector::new(OWN);
        let t = Instant::now();
        for i in 0..100 {
            assert!(d.update(t + Duration::from_secs(i), Some(&[use_(1, 8), use_(2, 3), use_(OWN, 99)])).is_none());
        }
        assert!(d.update(t, Some(&[])).is_none());
    }

    #[test]
    fn the_gpu_is_free_again_only_after_a_quiet_hold() {
        let mut d = BusyDetector::new(OWN);
        let t0 = Instant::now();
        let s = |s: u64| t0 + Duration::from_secs(s);
        assert!(d.update(s(0), Some(&[use_(9, 90)])).is_some());
        assert!(d.update(s(1), Some(&[use_(9, 2)])).is_some(), "quiet period starts");
        assert!(d.update(s(10), Some(&[use_(9, 2)])).is_some(), "10 s < 15 s hold");
        // A dip between the thresholds restarts the quiet period.
        assert_eq!(d.update(s(12), Some(&[use_(9, 20)])).map(|b| b.percent), Some(20));
        assert!(d.update(s(13), Some(&[use_(9, 0)])).is_some());
        assert!(d.update(s(27), Some(&[use_(9, 0)])).is_some(), "14 s since the quiet period restarted");
        assert!(d.update(s(28), Some(&[use_(9, 0)])).is_none(), "15 s quiet: free");
        assert!(d.busy().is_none());
    }

    #[test]
    fn an_unreadable_source_keeps_the_verdict() {
        let mut d = BusyDetector::new(OWN);
        let t = Instant::now();
        assert!(d.update(t, Some(&[use_(9, 90)])).is_some());
        assert!(d.update(t + Duration::from_secs(60), None).is_some());
        let mut d = BusyDetector::new(OWN);
        assert!(d.update(t, None).is_none());
    }
}
