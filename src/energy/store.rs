//! The energy history in SQLite (a file in the data folder, WAL mode). Each recorded
//! sample adds its segment, in one transaction, to per-minute rows (kept for
//! [`KEEP_MINUTES_DAYS`] days, for charts), per-day rows (kept forever: one row a day)
//! and per-job rows, so no unbounded 1 Hz table grows and a restart loses at most the
//! segment in flight. The schema is versioned with `PRAGMA user_version`; migrations run
//! in order on open, and a file from a newer app version is refused, not rewritten.

use std::path::{Path, PathBuf};

use chrono::{Days, Local, NaiveDate};
use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

use super::{Energy, Integrator, Sample, Segment};

/// Per-minute rows older than this many days are deleted.
pub const KEEP_MINUTES_DAYS: u64 = 8;

/// Schema migrations; entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE minutes (
        minute       INTEGER PRIMARY KEY,   -- unix time / 60 of the segment's end
        day          TEXT NOT NULL,         -- local date, YYYY-MM-DD
        measured_wh  REAL NOT NULL,
        estimated_wh REAL NOT NULL,
        seconds      REAL NOT NULL
    );
    CREATE TABLE days (
        day          TEXT PRIMARY KEY,
        measured_wh  REAL NOT NULL,
        estimated_wh REAL NOT NULL,
        seconds      REAL NOT NULL
    );
    CREATE TABLE jobs (
        job          TEXT PRIMARY KEY,
        measured_wh  REAL NOT NULL,
        estimated_wh REAL NOT NULL,
        seconds      REAL NOT NULL,
        first_at     INTEGER NOT NULL,      -- unix time
        last_at      INTEGER NOT NULL
    );
"];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// What can go wrong with the energy history.
#[derive(Debug, Error)]
pub enum EnergyError {
    /// The database file could not be opened or set up (a full disk, a read-only
    /// folder, …: named as such, with what to do).
    #[error("cannot open the energy history {path}: {fault}; {}", fault.fix())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why, in words an owner can act on.
        fault: crate::storage::Fault,
    },
    /// The file was written by a newer Idlewatt.
    #[error("the energy history {path} has schema version {found}, newer than this app's {supported}; update Idlewatt")]
    FutureSchema {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// Ours.
        supported: u32,
    },
    /// A query failed.
    #[error("energy history: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// The energy history.
#[derive(Debug)]
pub struct EnergyStore {
    conn: Connection,
    integrator: Integrator,
    last_prune_day: Option<NaiveDate>,
}

const ADD: &str = "measured_wh = measured_wh + excluded.measured_wh,
                   estimated_wh = estimated_wh + excluded.estimated_wh,
                   seconds = seconds + excluded.seconds";

impl EnergyStore {
    /// Opens (creating and migrating as needed) the history at `path`. A damaged file
    /// (not a database, or corrupt) is kept aside as `energy.sqlite.damaged-<time>`,
    /// reported, and a fresh history started: the history is the owner's record of
    /// energy, not money, and a node that refuses to start over it helps nobody.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, EnergyError> {
        let path = path.as_ref();
        match Self::open_as_is(path) {
            Err(EnergyError::Open { fault, .. }) if fault.is_damaged() => {
                let aside = crate::storage::set_aside(path).map_err(|e| EnergyError::Open {
                    path: path.to_owned(),
                    fault: crate::storage::Fault::of_io(&e),
                })?;
                tracing::warn!(
                    path = %path.display(),
                    kept_as = %aside.display(),
                    %fault,
                    "the energy history was damaged: kept aside, starting a new one"
                );
                Self::open_as_is(path)
            }
            other => other,
        }
    }

    fn open_as_is(path: &Path) -> Result<Self, EnergyError> {
        let open_err = |source: rusqlite::Error| EnergyError::Open {
            path: path.to_owned(),
            fault: crate::storage::Fault::of_sqlite(&source, path),
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)).map_err(open_err)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;").map_err(open_err)?;
        let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(open_err)?;
        if found > SCHEMA_VERSION {
            return Err(EnergyError::FutureSchema { path: path.to_owned(), found, supported: SCHEMA_VERSION });
        }
        for (from, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = conn.transaction().map_err(open_err)?;
            tx.execute_batch(sql).map_err(open_err)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", from + 1)).map_err(open_err)?;
            tx.commit().map_err(open_err)?;
            tracing::info!(path = %path.display(), version = from + 1, "energy history migrated");
        }
        Ok(Self { conn, integrator: Integrator::default(), last_prune_day: None })
    }

    /// Records a sample; returns the segment it closed (already stored), if any.
    pub fn record(&mut self, sample: Sample) -> Result<Option<Segment>, EnergyError> {
        let Some(seg) = self.integrator.push(sample) else {
            return Ok(None);
        };
        self.add_segment(&seg)?;
        Ok(Some(seg))
    }

    /// Stores one segment (what [`record`](Self::record) does after integrating).
    pub fn add_segment(&mut self, seg: &Segment) -> Result<(), EnergyError> {
        let (m, e) = if seg.measured { (seg.wh, 0.0) } else { (0.0, seg.wh) };
        let day = seg.end.date_naive();
        let unix = seg.end.timestamp();
        let tx = self.conn.transaction()?;
        tx.execute(
            &format!(
                "INSERT INTO minutes (minute, day, measured_wh, estimated_wh, seconds) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(minute) DO UPDATE SET {ADD}"
            ),
            params![unix.div_euclid(60), day.to_string(), m, e, seg.seconds],
        )?;
        tx.execute(
            &format!(
                "INSERT INTO days (day, measured_wh, estimated_wh, seconds) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(day) DO UPDATE SET {ADD}"
            ),
            params![day.to_string(), m, e, seg.seconds],
        )?;
        if let Some(job) = &seg.job {
            tx.execute(
                &format!(
                    "INSERT INTO jobs (job, measured_wh, estimated_wh, seconds, first_at, last_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                     ON CONFLICT(job) DO UPDATE SET {ADD}, last_at = excluded.last_at"
                ),
                params![job, m, e, seg.seconds, unix],
            )?;
        }
        if self.last_prune_day != Some(day) {
            let cutoff = (unix - KEEP_MINUTES_DAYS as i64 * 86_400).div_euclid(60);
            let pruned = tx.execute("DELETE FROM minutes WHERE minute < ?1", params![cutoff])?;
            tracing::debug!(pruned, "old per-minute energy rows deleted");
            self.last_prune_day = Some(day);
        }
        tx.commit()?;
        Ok(())
    }

    fn energy(&self, sql: &str, args: impl rusqlite::Params) -> Result<Energy, EnergyError> {
        let row = self
            .conn
            .query_row(sql, args, |r| {
                Ok(Energy {
                    measured_wh: r.get::<_, Option<f64>>(0)?.unwrap_or(0.0),
                    estimated_wh: r.get::<_, Option<f64>>(1)?.unwrap_or(0.0),
                    seconds: r.get::<_, Option<f64>>(2)?.unwrap_or(0.0),
                })
            })
            .optional()?;
        Ok(row.unwrap_or_default())
    }

    /// The energy of local date `date`.
    pub fn day(&self, date: NaiveDate) -> Result<Energy, EnergyError> {
        self.energy("SELECT measured_wh, estimated_wh, seconds FROM days WHERE day = ?1", [date.to_string()])
    }

    /// Today's energy (local date).
    pub fn today(&self) -> Result<Energy, EnergyError> {
        self.day(Local::now().date_naive())
    }

    /// All energy ever recorded.
    pub fn total(&self) -> Result<Energy, EnergyError> {
        self.energy("SELECT SUM(measured_wh), SUM(estimated_wh), SUM(seconds) FROM days", [])
    }

    /// The energy of job `id`.
    pub fn job(&self, id: &str) -> Result<Energy, EnergyError> {
        self.energy("SELECT measured_wh, estimated_wh, seconds FROM jobs WHERE job = ?1", [id])
    }

    /// The last `n` local days ending today, oldest first (days without energy are zero).
    pub fn last_days(&self, n: u32) -> Result<Vec<(NaiveDate, Energy)>, EnergyError> {
        self.days_ending(Local::now().date_naive(), n)
    }

    /// The `n` days ending with `last`, oldest first.
    pub fn days_ending(&self, last: NaiveDate, n: u32) -> Result<Vec<(NaiveDate, Energy)>, EnergyError> {
        (0..u64::from(n))
            .rev()
            .filter_map(|back| last.checked_sub_days(Days::new(back)))
            .map(|d| Ok((d, self.day(d)?)))
            .collect()
    }

    /// Per-minute energy for charts: `(unix minute, energy)` from `since_unix` on.
    pub fn minutes_since(&self, since_unix: i64) -> Result<Vec<(i64, Energy)>, EnergyError> {
        let mut stmt = self.conn.prepare(
            "SELECT minute, measured_wh, estimated_wh, seconds FROM minutes WHERE minute >= ?1 ORDER BY minute",
        )?;
        let rows = stmt.query_map(params![since_unix.div_euclid(60)], |r| {
            Ok((r.get(0)?, Energy { measured_wh: r.get(1)?, estimated_wh: r.get(2)?, seconds: r.get(3)? }))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
