//! What the node tells the world: its state with a reason, job progress, yields, and
//! (once per second) samples. One broadcast stream feeds the CLI's JSON lines, the app's
//! UI and the tests alike.

use serde::Serialize;

/// The node's states (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Owner present (or not away long enough): not computing.
    Waiting,
    /// Computing at full duty.
    Computing,
    /// Asked to stop; the GPU is finishing its last slice.
    Yielding,
    /// Not computing by rule (owner's pause, full-screen app, battery, schedule, ...).
    Paused,
    /// Computing below full duty to stay within a power or temperature limit.
    Throttled,
    /// No work can be fetched or handed in; results are kept until it can.
    Offline,
    /// Something needs the owner (no usable GPU, ...).
    Error,
}

/// Why the node is in its state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Just started.
    Starting,
    /// The owner used the computer recently.
    OwnerActive {
        /// Seconds since the last input.
        idle_s: u64,
        /// Seconds of idleness needed.
        idle_after_s: u64,
    },
    /// The owner came back while the node was computing.
    OwnerReturned,
    /// The owner has been away long enough.
    OwnerAway,
    /// The owner chose to compute whenever limits allow.
    AlwaysOn,
    /// Idle time cannot be read on this desktop; the node will not guess.
    NoIdleDetection {
        /// What was tried.
        message: String,
    },
    /// A full-screen window (game, video) has focus.
    FullScreen,
    /// Another program is using the GPU heavily (NVIDIA: per-process use from NVML).
    GpuBusy {
        /// The busiest other program, when the OS names it.
        process: Option<String>,
        /// Other programs' total use of the GPU, percent.
        percent: u32,
    },
    /// The owner paused Idlewatt.
    UserPaused,
    /// Keeping under the power cap.
    PowerLimit {
        /// The cap, W.
        max_watts: f64,
    },
    /// Keeping under the temperature limit.
    ThermalLimit {
        /// The limit, °C.
        max_celsius: f64,
    },
    /// Running on battery and the owner wants no work then.
    OnBattery,
    /// Outside the owner's schedule.
    OutsideSchedule,
    /// The GPU cannot be used.
    GpuUnavailable {
        /// Why.
        message: String,
    },
    /// Work cannot be fetched or handed in.
    JobSourceUnavailable {
        /// Why.
        message: String,
    },
    /// The settings file cannot be read: nothing runs on guessed limits until the owner
    /// saves settings again (the damaged file is kept as a copy then).
    SettingsDamaged {
        /// Why (the file and what is wrong with it).
        message: String,
    },
    /// Shutting down.
    ShuttingDown,
}

/// The once-a-second reading: what the GPU draws and how hot it is (each value says
/// whether it was measured or estimated), the duty cycle, and today's energy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Sample {
    /// GPU power, W.
    pub gpu_watts: crate::sensors::Measurement,
    /// GPU temperature, °C; `None` when not measurable.
    pub gpu_temp_c: Option<crate::sensors::Measurement>,
    /// Running on battery.
    pub on_battery: bool,
    /// Fraction of time the GPU may compute, 0–1.
    pub duty: f64,
    /// The GPU's rated power, W, and where that figure comes from.
    pub rated_watts: f64,
    /// Energy used while computing today, Wh (measured + estimated).
    pub today_wh: f64,
    /// The measured part of `today_wh`.
    pub today_measured_wh: f64,
    /// What today's energy cost.
    pub today_cost: f64,
    /// ISO 4217 currency of `today_cost`.
    pub currency: String,
    /// Today's CO₂, g.
    pub today_co2_g: f64,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The state changed.
    State {
        /// New state (the UI's `AppState` is a superset, so a `NodeState` is one of
        /// them: the node layer never names the app's types).
        state: NodeState,
        /// Why (typed as nullable for the UI, as the app's status has it).
        #[cfg_attr(feature = "specta", specta(type = Option<Reason>))]
        reason: Reason,
    },
    /// A job advanced.
    Progress {
        /// Job id.
        job_id: String,
        /// 0–1.
        fraction: f64,
    },
    /// A model is being downloaded before the job that needs it can run.
    DownloadProgress {
        /// The model's name.
        model: String,
        /// Bytes downloaded so far (resumed bytes included).
        done_bytes: u64,
        /// Bytes in all.
        total_bytes: u64,
    },
    /// A job finished and was handed in.
    JobDone {
        /// Job id.
        job_id: String,
        /// FLOPs of the job.
        flops: f64,
        /// GPU seconds spent on it (all its slices).
        gpu_seconds: f64,
    },
    /// The once-a-second sample.
    Sample(Sample),
    /// The GPU was given back.
    Yielded {
        /// From the owner's input (as the idle source dates it) to the last slice
        /// finished, ms; `None` when the stop was not caused by the owner returning.
        latency_ms: Option<f64>,
        /// Fraction of the interrupted job kept for later.
        kept_fraction: f64,
    },
}

/// An event with its time (Unix ms).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Event {
    /// Unix time, ms.
    pub ts_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// "downloading model, 41 of 87 MB" (MB of 2²⁰ bytes, as file managers count them;
/// done rounded down, the total up, so a finished download reads "87 of 87").
pub fn download_line(done_bytes: u64, total_bytes: u64) -> String {
    let total = total_bytes.div_ceil(1 << 20);
    let done = if done_bytes >= total_bytes { total } else { done_bytes >> 20 };
    format!("downloading model, {done} of {total} MB")
}

impl Event {
    /// `kind`, now.
    pub fn now(kind: EventKind) -> Self {
        let ts_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self { ts_ms, kind }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_flat_with_a_timestamp() {
        let e = Event::now(EventKind::State {
            state: NodeState::Waiting,
            reason: Reason::OwnerActive { idle_s: 3, idle_after_s: 300 },
        });
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["event"], "state");
        assert_eq!(v["state"], "waiting");
        assert_eq!(v["reason"]["kind"], "owner_active");
        assert_eq!(v["reason"]["idle_after_s"], 300);
        assert!(v["ts_ms"].as_u64().is_some_and(|t| t > 1_700_000_000_000));
    }

    #[test]
    fn download_progress_says_megabytes() {
        let e = Event::now(EventKind::DownloadProgress {
            model: "all-MiniLM-L6-v2".into(),
            done_bytes: 43_000_000,
            total_bytes: 90_868_988,
        });
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["event"], "download_progress");
        assert_eq!(v["done_bytes"], 43_000_000);
        assert_eq!(download_line(43_000_000, 90_868_988), "downloading model, 41 of 87 MB");
        assert_eq!(download_line(90_868_988, 90_868_988), "downloading model, 87 of 87 MB");
    }
}
