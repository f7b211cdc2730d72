//! Power samples to energy: the trapezoid rule between consecutive samples. A gap
//! longer than [`MAX_GAP_S`] (the node stopped, the machine slept) counts as "not
//! running" and adds nothing, and so does a clock that went backwards. A segment is
//! *measured* only when both of its ends were measured; otherwise it is estimated, so
//! the measured figure is never inflated by a guess.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::sensors::Reading;

/// Longest interval between samples that is integrated, seconds.
pub const MAX_GAP_S: f64 = 10.0;

/// One power sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When (wall clock with the local offset: the local date decides the day).
    pub at: DateTime<FixedOffset>,
    /// Power, W.
    pub watts: f64,
    /// Whether `watts` was measured (else estimated).
    pub measured: bool,
    /// The job running, if any.
    pub job: Option<String>,
}

impl Sample {
    /// The GPU power of `reading` at `at`.
    pub fn from_reading(at: DateTime<FixedOffset>, reading: &Reading, job: Option<&str>) -> Self {
        Self {
            at,
            watts: reading.gpu_watts.value,
            measured: reading.gpu_watts.source.is_measured(),
            job: job.map(str::to_owned),
        }
    }
}

/// The energy between two samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The later sample's time (the segment counts towards its local date and minute).
    pub end: DateTime<FixedOffset>,
    /// Energy, Wh.
    pub wh: f64,
    /// Length, s.
    pub seconds: f64,
    /// Both ends measured.
    pub measured: bool,
    /// The job both ends belong to, if the same.
    pub job: Option<String>,
}

/// Keeps the previous sample.
#[derive(Debug, Clone, Default)]
pub struct Integrator {
    last: Option<Sample>,
}

impl Integrator {
    /// Adds `sample`; the segment since the previous one, if it counts.
    pub fn push(&mut self, sample: Sample) -> Option<Segment> {
        if !sample.watts.is_finite() || sample.watts < 0.0 {
            tracing::debug!(watts = sample.watts, "ignoring an impossible power sample");
            return None;
        }
        let prev = self.last.replace(sample.clone())?;
        let seconds = (sample.at - prev.at).num_milliseconds() as f64 / 1000.0;
        if seconds <= 0.0 || seconds > MAX_GAP_S {
            return None;
        }
        Some(Segment {
            end: sample.at,
            wh: (prev.watts + sample.watts) / 2.0 * seconds / 3600.0,
            seconds,
            measured: prev.measured && sample.measured,
            job: sample.job.filter(|j| prev.job.as_deref() == Some(j.as_str())),
        })
    }
}
