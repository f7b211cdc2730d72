//! The owner's time-of-day schedule: the windows, per weekday, in which Idlewatt may
//! compute, in local wall-clock minutes. A window whose end is before its start runs
//! past midnight into the next day (22:00–06:00 on Friday covers Friday night and
//! Saturday morning); start == end means the whole day.

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

/// Minutes in a day.
pub const DAY_MINUTES: u16 = 24 * 60;

/// How a weekday is written in the settings file: chrono's three-letter English names.
#[cfg(feature = "specta")]
#[derive(specta::Type)]
#[allow(dead_code)]
enum WeekdayName {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// One allowed window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Window {
    /// The days the window starts on; empty means every day.
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = Vec<WeekdayName>))]
    pub days: Vec<Weekday>,
    /// Start, minutes after local midnight (0–1439).
    pub start_min: u16,
    /// End (exclusive), minutes after local midnight (0–1439); before `start_min`
    /// means the next day.
    pub end_min: u16,
}

/// Allowed windows; computing is allowed when any window contains the time.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Schedule {
    /// The windows.
    pub windows: Vec<Window>,
}

impl Window {
    fn starts_on(&self, day: Weekday) -> bool {
        self.days.is_empty() || self.days.contains(&day)
    }

    /// True when `local` (wall-clock time) is inside the window.
    pub fn contains(&self, local: NaiveDateTime) -> bool {
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let today = local.weekday();
        if self.start_min == self.end_min {
            return self.starts_on(today);
        }
        if self.start_min < self.end_min {
            self.starts_on(today) && (self.start_min..self.end_min).contains(&minute)
        } else {
            (self.starts_on(today) && minute >= self.start_min)
                || (self.starts_on(today.pred()) && minute < self.end_min)
        }
    }
}

impl Schedule {
    /// True when some window contains `local`.
    pub fn allows(&self, local: NaiveDateTime) -> bool {
        self.windows.iter().any(|w| w.contains(local))
    }
}
