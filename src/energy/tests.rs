//! Integration math against hand-computed values, persistence across reopen, the
//! measured/estimated split, cost and CO₂.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

use super::*;

fn t(day: u32, h: u32, m: u32, s: u32) -> DateTime<FixedOffset> {
    let tz = FixedOffset::east_opt(2 * 3600).unwrap();
    tz.with_ymd_and_hms(2025, 6, day, h, m, s).unwrap()
}

fn sample(at: DateTime<FixedOffset>, watts: f64, measured: bool, job: Option<&str>) -> Sample {
    Sample { at, watts, measured, job: job.map(str::to_owned) }
}

#[test]
fn trapezoid_between_samples_and_gaps_ignored() {
    let mut i = Integrator::default();
    assert!(i.push(sample(t(4, 12, 0, 0), 100.0, true, None)).is_none());
    // 100 W → 200 W over 2 s: 300 J = 1/12 Wh.
    let s = i.push(sample(t(4, 12, 0, 2), 200.0, true, None)).unwrap();
    assert!((s.wh - 300.0 / 3600.0).abs() < 1e-12);
    assert_eq!(s.seconds, 2.0);
    // An 11 s gap: not running.
    assert!(i.push(sample(t(4, 12, 0, 13), 200.0, true, None)).is_none());
    // Exactly 10 s still counts: 200 W × 10 s.
    let s = i.push(sample(t(4, 12, 0, 23), 200.0, true, None)).unwrap();
    assert!((s.wh - 2000.0 / 3600.0).abs() < 1e-12);
    // A clock set back adds nothing and restarts from the new sample.
    assert!(i.push(sample(t(4, 12, 0, 20), 200.0, true, None)).is_none());
    assert!(i.push(sample(t(4, 12, 0, 21), 200.0, true, None)).is_some());
    // Nonsense power is dropped without breaking the chain.
    assert!(i.push(sample(t(4, 12, 0, 22), f64::NAN, true, None)).is_none());
    assert!(i.push(sample(t(4, 12, 0, 23), 100.0, true, None)).is_some());
}

#[test]
fn one_hour_at_a_constant_250_w_is_250_wh() {
    let mut e = Energy::default();
    let mut i = Integrator::default();
    let start = t(4, 10, 0, 0);
    for s in 0..=3600 {
        if let Some(seg) = i.push(sample(start + chrono::Duration::seconds(s), 250.0, true, None)) {
            e.add(&seg);
        }
    }
    assert!((e.measured_wh - 250.0).abs() < 1e-9, "{}", e.measured_wh);
    assert_eq!(e.estimated_wh, 0.0);
    assert_eq!(e.seconds, 3600.0);
}

#[test]
fn a_segment_is_measured_only_when_both_ends_are() {
    let mut i = Integrator::default();
    i.push(sample(t(4, 12, 0, 0), 100.0, true, Some("job-1")));
    let s = i.push(sample(t(4, 12, 0, 1), 100.0, false, Some("job-1"))).unwrap();
    assert!(!s.measured);
    assert_eq!(s.job.as_deref(), Some("job-1"));
    let s = i.push(sample(t(4, 12, 0, 2), 100.0, false, Some("job-2"))).unwrap();
    assert_eq!(s.job, None, "a segment spanning two jobs belongs to neither");
}

#[test]
fn cost_and_co2() {
    let e = Energy { measured_wh: 1500.0, estimated_wh: 500.0, seconds: 0.0 };
    let tariff = Tariff { currency: "EUR".into(), price_per_kwh: 0.25, grid_g_co2_per_kwh: 400.0 };
    assert_eq!(e.total_wh(), 2000.0);
    assert_eq!(e.cost(&tariff), Money { amount: 0.5, currency: "EUR".into() });
    assert!((e.co2_g(&tariff) - 800.0).abs() < 1e-9);
}

#[test]
fn store_totals_per_day_and_job_survive_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("energy.sqlite");
    {
        let mut store = EnergyStore::open(&path).unwrap();
        // Day 4: 60 s measured at 360 W in job a (= 6 Wh), then 10 s estimated at 36 W (0.1 Wh).
        for s in 0..=60 {
            store.record(sample(t(4, 23, 58, 0) + chrono::Duration::seconds(s), 360.0, true, Some("a"))).unwrap();
        }
        for s in 1..=10 {
            store.record(sample(t(4, 23, 59, 0) + chrono::Duration::seconds(s), 36.0, false, None)).unwrap();
        }
        // Day 5 (local): after a gap, 2 s at 180 W measured = 0.1 Wh.
        store.record(sample(t(5, 8, 0, 0), 180.0, true, None)).unwrap();
        store.record(sample(t(5, 8, 0, 2), 180.0, true, None)).unwrap();
    }
    let store = EnergyStore::open(&path).unwrap();
    let d4 = store.day(NaiveDate::from_ymd_opt(2025, 6, 4).unwrap()).unwrap();
    // The segment from the last 360 W sample to the first 36 W one is mixed: estimated,
    // (360 + 36) / 2 W × 1 s.
    let mixed = (360.0 + 36.0) / 2.0 / 3600.0;
    assert!((d4.measured_wh - 6.0).abs() < 1e-9, "{d4:?}");
    assert!((d4.estimated_wh - (mixed + 9.0 * 36.0 / 3600.0)).abs() < 1e-9, "{d4:?}");
    assert_eq!(d4.seconds, 70.0);
    let d5 = store.day(NaiveDate::from_ymd_opt(2025, 6, 5).unwrap()).unwrap();
    assert!((d5.measured_wh - 0.1).abs() < 1e-9);
    let total = store.total().unwrap();
    assert!((total.total_wh() - (d4.total_wh() + d5.total_wh())).abs() < 1e-9);
    assert!((store.job("a").unwrap().measured_wh - 6.0).abs() < 1e-9);
    assert_eq!(store.job("nope").unwrap(), Energy::default());
    let week = store.days_ending(NaiveDate::from_ymd_opt(2025, 6, 5).unwrap(), 7).unwrap();
    assert_eq!(week.len(), 7);
    assert_eq!(week[0].0, NaiveDate::from_ymd_opt(2025, 5, 30).unwrap());
    assert_eq!(week[5].1, d4);
    assert_eq!(week[6].1, d5);
    assert_eq!(week[0].1, Energy::default());
    let minutes = store.minutes_since(t(4, 23, 58, 0).timestamp()).unwrap();
    assert_eq!(minutes.len(), 3, "{minutes:?}"); // 23:58 and 23:59 on day 4, 08:00 on day 5
}

#[test]
fn store_refuses_a_newer_schema_and_prunes_old_minutes() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("energy.sqlite");
    {
        let mut store = EnergyStore::open(&path).unwrap();
        store.record(sample(t(1, 12, 0, 0), 100.0, true, None)).unwrap();
        store.record(sample(t(1, 12, 0, 1), 100.0, true, None)).unwrap();
        // Twenty days later the first day's minute rows are gone, its day row stays.
        store.record(sample(t(21, 12, 0, 0), 100.0, true, None)).unwrap();
        store.record(sample(t(21, 12, 0, 1), 100.0, true, None)).unwrap();
        assert_eq!(store.minutes_since(0).unwrap().len(), 1);
        assert!(store.day(NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()).unwrap().measured_wh > 0.0);
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let err = EnergyStore::open(&path).unwrap_err();
    assert!(matches!(err, EnergyError::FutureSchema { found: 99, supported: 1, .. }), "{err}");
}

#[test]
fn a_damaged_history_is_kept_aside_and_a_new_one_started() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("energy.sqlite");
    std::fs::write(&path, b"garbage garbage garbage garbage garbage garbage garbage garbage").unwrap();
    let mut store = EnergyStore::open(&path).expect("a damaged history is replaced, not fatal");
    store.record(sample(t(1, 12, 0, 0), 100.0, true, None)).unwrap();
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("energy.sqlite.damaged-"))
        .collect();
    assert_eq!(kept.len(), 1, "the damaged file is kept, not deleted");
    let old = std::fs::read(dir.path().join(&kept[0])).unwrap();
    assert!(old.starts_with(b"garbage"), "kept byte for byte");
}
