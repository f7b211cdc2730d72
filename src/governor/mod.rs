//! The governor turns the owner's limits and the latest sensor reading into a duty
//! cycle (the fraction of time the GPU computes). It is pure and deterministic: no
//! clock, no I/O, no threads; the caller passes `now` and the time since the last step.
//!
//! # How it decides
//! 1. Hard rules, in this order, give duty 0 with their reason: a user pause (until its
//!    end time, if any), the owner being active, running on battery when the owner
//!    said not to, outside the schedule. The controllers restart from duty 0 after.
//! 2. Otherwise two PI controllers each propose a duty: one on power (error =
//!    (cap − W) / rated W), one on temperature (error = (limit − margin − °C) / 10 °C).
//!    The smaller proposal wins, so the stricter limit rules, and the duty's rise is
//!    slew-limited. Anti-windup: each integrator is clamped to [0, 1], and the integrator
//!    of a controller that is *not* in charge is held at or below the duty actually
//!    applied (external reset feedback), so a cool GPU's thermal controller takes over
//!    smoothly the moment the temperature reaches its set point instead of after
//!    unwinding. Without a temperature only the power path applies.
//!
//! # Bounds (checked by the tests against [`sim`], steps of 1 s)
//! With a 1-step measurement delay, ±10 W power noise, whole-degree temperatures and
//! thermal time constants of 20–120 s: mean power after settling within 5 % of the cap;
//! temperature never more than 2 °C above the limit; peak-to-peak duty after settling
//! ≤ 0.15 with noise (≤ 0.02 without); settling within 60 s when power binds.

pub mod schedule;
pub mod sim;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

pub use schedule::{Schedule, Window};

use crate::sensors::Reading;

/// A user pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// When it ends by itself; `None` = until the owner resumes.
    pub until: Option<DateTime<FixedOffset>>,
}

/// The owner's limits and the situation the node loop knows about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Power cap, W (already resolved: the setting, or 80 % of the rated power).
    pub max_watts: f64,
    /// Temperature limit, °C.
    pub max_temp_c: f64,
    /// The GPU's rated power, W: scales the power error so one tuning fits all GPUs.
    pub rated_watts: f64,
    /// Whether computing on battery is allowed.
    pub run_on_battery: bool,
    /// Allowed windows; `None` = any time.
    pub schedule: Option<Schedule>,
    /// The owner's pause, if any.
    pub pause: Option<Pause>,
    /// The owner is using the machine (from `idle`).
    pub owner_active: bool,
}

/// Why the duty is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Computing, no limit reached.
    Running,
    /// Held at the power cap.
    PowerLimit,
    /// Held at the temperature limit.
    ThermalLimit,
    /// On battery and the owner said not to run on battery.
    OnBattery,
    /// The owner is using the machine.
    UserActive,
    /// Paused by the owner.
    Paused,
    /// Outside the owner's schedule.
    OutsideSchedule,
}

/// The governor's answer for the next interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Fraction of time to compute, in [0, 1].
    pub duty: f64,
    /// Why.
    pub reason: Reason,
}

/// Controller gains (per second; errors normalised as in the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// Power: proportional gain.
    pub kp_power: f64,
    /// Power: integral gain, 1/s.
    pub ki_power: f64,
    /// Temperature: proportional gain.
    pub kp_temp: f64,
    /// Temperature: integral gain, 1/s.
    pub ki_temp: f64,
    /// The temperature controller aims this far below the limit, °C.
    pub temp_margin_c: f64,
    /// Largest duty increase per second (decreases are not limited).
    pub max_rise_per_s: f64,
}

impl Default for Tuning {
    fn default() -> Self {
        Self { kp_power: 0.3, ki_power: 0.5, kp_temp: 1.0, ki_temp: 0.05, temp_margin_c: 1.0, max_rise_per_s: 0.2 }
    }
}

/// Which controller set the duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charge {
    Power,
    Thermal,
    /// The slew limit or the [0, 1] clamp.
    Neither,
}

/// Temperature error scale, °C.
const TEMP_SCALE_C: f64 = 10.0;
/// A step longer than this (a stalled loop) counts as this long.
const MAX_DT_S: f64 = 5.0;

/// The controller state: the current duty and the last errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Governor {
    tuning: Tuning,
    duty: f64,
    i_power: f64,
    i_temp: f64,
}

impl Default for Governor {
    fn default() -> Self {
        Self::new()
    }
}

impl Governor {
    /// A governor at duty 0 with the default tuning.
    pub fn new() -> Self {
        Self::with_tuning(Tuning::default())
    }

    /// A governor at duty 0 with `tuning`.
    pub fn with_tuning(tuning: Tuning) -> Self {
        Self { tuning, duty: 0.0, i_power: 0.0, i_temp: 0.0 }
    }

    /// The duty of the last decision.
    pub fn duty(&self) -> f64 {
        self.duty
    }

    /// The hard rule that forbids computing now, if any.
    pub fn hard_rule(limits: &Limits, reading: &Reading, now: DateTime<FixedOffset>) -> Option<Reason> {
        if limits.pause.is_some_and(|p| p.until.is_none_or(|end| now < end)) {
            Some(Reason::Paused)
        } else if limits.owner_active {
            Some(Reason::UserActive)
        } else if !limits.run_on_battery && reading.supply.on_battery() {
            Some(Reason::OnBattery)
        } else if limits.schedule.as_ref().is_some_and(|s| !s.allows(now.naive_local())) {
            Some(Reason::OutsideSchedule)
        } else {
            None
        }
    }

    /// One control step: `reading` is the latest sensor reading, `now` the wall-clock
    /// time (for the schedule and pause), `dt_s` the seconds since the previous step.
    pub fn step(&mut self, limits: &Limits, reading: &Reading, now: DateTime<FixedOffset>, dt_s: f64) -> Decision {
        if let Some(reason) = Self::hard_rule(limits, reading, now) {
            *self = Self::with_tuning(self.tuning);
            return Decision { duty: 0.0, reason };
        }
        let t = self.tuning;
        let dt = if dt_s.is_finite() { dt_s.clamp(0.0, MAX_DT_S) } else { 0.0 };
        let watts = reading.gpu_watts.value;
        let rated = if limits.rated_watts.is_finite() && limits.rated_watts > 0.0 { limits.rated_watts } else { 200.0 };

        // Power path (an unreadable power holds the duty).
        // A non-finite limit (never from validated settings) holds the duty too: from a
        // fresh start that is 0, the safe side.
        let power_err = (watts.is_finite() && limits.max_watts.is_finite()).then(|| (limits.max_watts - watts) / rated);
        let u_power = power_err.map_or(self.duty, |e| t.kp_power * e + self.i_power);
        // Thermal path (absent without a temperature).
        let temp = reading.gpu_temp_c.as_ref().map(|m| m.value).filter(|v| v.is_finite());
        let temp_err = temp.map(|c| (limits.max_temp_c - t.temp_margin_c - c) / TEMP_SCALE_C);
        let u_temp = match temp_err {
            Some(e) if e.is_finite() => t.kp_temp * e + self.i_temp,
            Some(_) => self.duty,
            None => f64::INFINITY,
        };
        let u_slew = self.duty + t.max_rise_per_s * dt;

        let wanted = u_power.min(u_temp).min(u_slew);
        let duty = wanted.clamp(0.0, 1.0);
        let in_charge = if wanted > 1.0 || u_slew <= u_power.min(u_temp) {
            Charge::Neither
        } else if u_temp < u_power {
            Charge::Thermal
        } else {
            Charge::Power
        };
        // Integrate, clamp, and hold the controllers not in charge at the applied duty.
        if let Some(e) = power_err {
            self.i_power = (self.i_power + t.ki_power * e * dt).clamp(0.0, 1.0);
        }
        if let Some(e) = temp_err.filter(|e| e.is_finite()) {
            self.i_temp = (self.i_temp + t.ki_temp * e * dt).clamp(0.0, 1.0);
        } else {
            self.i_temp = duty;
        }
        if in_charge != Charge::Power {
            self.i_power = self.i_power.min(duty);
        }
        if in_charge != Charge::Thermal {
            self.i_temp = self.i_temp.min(duty);
        }
        self.duty = duty;

        let reason = match in_charge {
            Charge::Thermal if duty < 1.0 => Reason::ThermalLimit,
            // Near the cap (not merely ramping up towards it).
            Charge::Power if duty < 1.0 && watts >= limits.max_watts - (0.1 * limits.max_watts).max(0.05 * rated) => {
                Reason::PowerLimit
            }
            _ => Reason::Running,
        };
        Decision { duty: self.duty, reason }
    }
}

#[cfg(test)]
mod tests;
