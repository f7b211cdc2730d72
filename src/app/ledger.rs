//! Earnings per local day, kept on this computer (`earnings.json` in the data folder).
//!
//! The coordinator's account answer has totals and only the latest 20 jobs, so "earned
//! today" and the 7-day chart cannot come from it alone. The app looks at the account after
//! every finished job (and on every balance request), so each job's final state passes by
//! while it is among the latest 20: the ledger counts each lease once (remembering the
//! lease ids it has counted) on the day it was decided. Written atomically; a corrupt
//! file is moved aside and counting starts again (the totals still come from the network).

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use chrono::{Local, NaiveDate, TimeZone};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::wire::{JobRecord, JobState};
use serde::{Deserialize, Serialize};

/// The ledger's file name in the data folder.
pub const FILE_NAME: &str = "earnings.json";
/// Lease ids remembered (well above the coordinator's 20 recent jobs).
const REMEMBER: usize = 1000;
/// Days kept.
const KEEP_DAYS: usize = 400;

/// One day's tally.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTally {
    /// Tokens credited for verified work.
    pub earned: TokenAmount,
    /// Jobs verified.
    pub verified: u32,
    /// Jobs rejected.
    pub rejected: u32,
}

/// Earnings per day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// `YYYY-MM-DD` (local) → tally.
    days: BTreeMap<String, DayTally>,
    /// Lease ids already counted, oldest first.
    counted: VecDeque<String>,
}

fn local_date(ms: i64) -> Option<NaiveDate> {
    Local.timestamp_millis_opt(ms).single().map(|t| t.date_naive())
}

impl Ledger {
    /// Loads `path`; a missing file is an empty ledger, a corrupt one is moved aside.
    pub fn load(path: &Path) -> Self {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(%e, path = %path.display(), "earnings ledger not readable");
                }
                return Self::default();
            }
        };
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            let aside = path.with_extension(format!("json.corrupt-{}", Local::now().format("%Y%m%d-%H%M%S")));
            tracing::warn!(%e, aside = %aside.display(), "earnings ledger corrupt; moved aside, counting again");
            let _ = std::fs::rename(path, &aside);
            Self::default()
        })
    }

    /// Saves atomically (a temporary file renamed over).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp: PathBuf = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        std::fs::rename(&tmp, path)
    }

    /// Counts the decided jobs of `jobs` not counted before; true when something changed.
    pub fn observe(&mut self, jobs: &[JobRecord]) -> bool {
        let mut changed = false;
        // Oldest first, so the remembered ids stay in order.
        for job in jobs.iter().rev() {
            let decided = matches!(job.state, JobState::Verified | JobState::Rejected);
            if !decided || self.counted.iter().any(|id| *id == job.lease_id) {
                continue;
            }
            let Some(day) = job.finished_at_ms.and_then(local_date) else { continue };
            let tally = self.days.entry(day.format("%Y-%m-%d").to_string()).or_default();
            if job.state == JobState::Verified {
                tally.earned = tally.earned.checked_add(job.reward).unwrap_or(tally.earned);
                tally.verified += 1;
            } else {
                tally.rejected += 1;
            }
            self.counted.push_back(job.lease_id.clone());
            if self.counted.len() > REMEMBER {
                self.counted.pop_front();
            }
            changed = true;
        }
        while self.days.len() > KEEP_DAYS {
            self.days.pop_first();
        }
        changed
    }

    /// The tally of `date`.
    pub fn day(&self, date: NaiveDate) -> DayTally {
        self.days.get(&date.format("%Y-%m-%d").to_string()).copied().unwrap_or_default()
    }

    /// All days together.
    pub fn total(&self) -> DayTally {
        self.days.values().fold(DayTally::default(), |a, d| DayTally {
            earned: a.earned.checked_add(d.earned).unwrap_or(a.earned),
            verified: a.verified + d.verified,
            rejected: a.rejected + d.rejected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idlewatt_protocol::wire::JobSpec;

    fn job(id: &str, state: JobState, reward: u128, finished: Option<i64>) -> JobRecord {
        JobRecord {
            lease_id: id.into(),
            job_id: format!("j{id}"),
            job: JobSpec::Matmul { m: 8, n: 8, k: 8, seed: 1, precision: idlewatt_protocol::Precision::F32 },
            state,
            reward: TokenAmount(reward),
            issued_at_ms: 0,
            finished_at_ms: finished,
            client: None,
        }
    }

    #[test]
    fn each_decided_job_counts_once_on_its_day_beyond_the_recent_window() {
        let now = Local::now().timestamp_millis();
        let yesterday = now - 24 * 3600 * 1000;
        let mut ledger = Ledger::default();
        // Newest first, as the coordinator answers; one still leased, one from yesterday.
        let first = vec![
            job("c", JobState::Leased, 5, None),
            job("b", JobState::Rejected, 0, Some(now)),
            job("a", JobState::Verified, 10, Some(now)),
            job("y", JobState::Verified, 7, Some(yesterday)),
        ];
        assert!(ledger.observe(&first));
        assert!(!ledger.observe(&first), "seen jobs are not counted twice");
        let today = Local::now().date_naive();
        assert_eq!(ledger.day(today), DayTally { earned: TokenAmount(10), verified: 1, rejected: 1 });
        assert_eq!(ledger.day(today.pred_opt().unwrap()).earned, TokenAmount(7));
        // 30 more jobs, seen a few at a time as the app does: all counted, not just 20.
        for batch in 0..10 {
            let jobs: Vec<_> =
                (0..3).map(|i| job(&format!("n{batch}-{i}"), JobState::Verified, 1, Some(now))).collect();
            ledger.observe(&jobs);
        }
        ledger.observe(&[job("c", JobState::Verified, 5, Some(now))]);
        assert_eq!(ledger.day(today), DayTally { earned: TokenAmount(45), verified: 32, rejected: 1 });
        assert_eq!(ledger.total().earned, TokenAmount(52));
    }

    #[test]
    fn survives_a_round_trip_and_a_corrupt_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut ledger = Ledger::default();
        ledger.observe(&[job(
            "a",
            JobState::Verified,
            u128::from(u64::MAX) * 1000,
            Some(Local::now().timestamp_millis()),
        )]);
        ledger.save(&path).unwrap();
        assert_eq!(Ledger::load(&path), ledger);
        std::fs::write(&path, b"{ not json").unwrap();
        assert_eq!(Ledger::load(&path), Ledger::default());
        assert!(!path.exists(), "the corrupt file was moved aside, not overwritten");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
