//! Defaults, round trip, one error per bad key, corrupt and future files.

use super::*;

fn dirs() -> (tempfile::TempDir, DataDirs) {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = DataDirs::at(tmp.path()).unwrap();
    (tmp, dirs)
}

#[test]
fn missing_file_and_missing_keys_give_the_defaults() {
    let (_tmp, dirs) = dirs();
    let s = Settings::load(&dirs).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!((s.version, s.idle_after_min, s.pause_on_battery, s.max_temp_c), (2, 5, true, 80.0));
    assert_eq!(
        (s.run_mode, s.allow_software_adapter, s.schedule.clone(), s.max_watts),
        (RunMode::Idle, false, None, None)
    );
    assert_eq!(s.power_cap_watts(300.0), 240.0, "80 % of the rated power");
    let l = s.limits(300.0, true, None);
    assert_eq!((l.max_watts, l.max_temp_c, l.run_on_battery, l.owner_active), (240.0, 80.0, false, true));
    std::fs::write(Settings::path(&dirs), r#"{"version": 1, "max_temp_c": 70}"#).unwrap();
    let s = Settings::load(&dirs).unwrap();
    assert_eq!(s.max_temp_c, 70.0);
    assert_eq!(s.idle_after_min, 5);
    assert_eq!((s.version, s.language, s.autostart), (2, None, false), "a version-1 file migrates to 2");
    s.save(&dirs).unwrap();
    let text = std::fs::read_to_string(Settings::path(&dirs)).unwrap();
    assert!(text.contains("\"version\": 2") && text.contains("\"autostart\": false"), "{text}");
}

#[test]
fn save_then_load_round_trips() {
    let (_tmp, dirs) = dirs();
    let s = Settings {
        max_watts: Some(150.0),
        run_mode: RunMode::Always,
        currency: "USD".into(),
        schedule: Some(Schedule {
            windows: vec![crate::governor::Window { days: vec![chrono::Weekday::Sat], start_min: 1320, end_min: 360 }],
        }),
        coordinator_url: Some("https://coordinator.example".into()),
        rated_watts_override: Some(320.0),
        auto_update_checks: false,
        update_url: Some("http://127.0.0.1:8080/updates/{{target}}".into()),
        ..Settings::default()
    };
    s.save(&dirs).unwrap();
    assert_eq!(Settings::load(&dirs).unwrap(), s);
    assert_eq!(s.power_cap_watts(300.0), 150.0);
    let leftovers: Vec<_> = std::fs::read_dir(dirs.root()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from(FILE_NAME)], "no temp file left behind");
}

#[test]
fn each_bad_value_names_its_key_and_range() {
    let cases = [
        (r#"{"max_temp_c": 150}"#, "max_temp_c = 150 is out of range: allowed 50–95 °C"),
        (r#"{"idle_after_min": 0}"#, "idle_after_min = 0 is out of range: allowed 1–240 min"),
        (r#"{"max_watts": 1}"#, "max_watts = 1 is out of range: allowed 5–2000 W"),
        (r#"{"rated_watts_override": 5000}"#, "rated_watts_override = 5000 is out of range"),
        (r#"{"price_per_kwh": -1}"#, "price_per_kwh = -1 is out of range: allowed 0–10 per kWh"),
        (r#"{"grid_g_co2_per_kwh": 9999}"#, "grid_g_co2_per_kwh = 9999"),
        (r#"{"currency": "euro"}"#, "currency = \"euro\""),
        (r#"{"coordinator_url": "ftp://x"}"#, "coordinator_url"),
        (r#"{"update_url": "file:///tmp/evil.json"}"#, "update_url = \"file:///tmp/evil.json\""),
        (r#"{"schedule": {"windows": []}}"#, "schedule.windows"),
        (r#"{"schedule": {"windows": [{"start_min": 1440, "end_min": 0}]}}"#, "schedule.windows[0].start_min = 1440"),
        (r#"{"version": 0}"#, "version = 0"),
        (r#"{"max_temp_c": "hot"}"#, "max_temp_c in"),
        (r#"{"run_mode": "sometimes"}"#, "run_mode in"),
        (r#"{"max_temp": 70}"#, "max_temp in"),
    ];
    for (json, expected) in cases {
        let (_tmp, dirs) = dirs();
        std::fs::write(Settings::path(&dirs), json).unwrap();
        let err = Settings::load(&dirs).unwrap_err().to_string();
        assert!(err.contains(expected), "{json}: got {err:?}");
        assert!(Settings::path(&dirs).exists(), "a bad value is reported, the file left as is");
    }
    let bad = Settings { max_temp_c: 20.0, ..Settings::default() };
    let (_tmp, dirs) = dirs();
    assert!(bad.save(&dirs).is_err(), "invalid settings are not saved");
}

#[test]
fn a_damaged_file_is_reported_at_every_start_and_kept_when_new_settings_are_saved() {
    let (_tmp, dirs) = dirs();
    std::fs::write(Settings::path(&dirs), "{ this is not json").unwrap();
    for _ in 0..2 {
        let err = Settings::load(&dirs).unwrap_err();
        assert!(matches!(err, ConfigError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("does not guess your limits"), "{err}");
        assert_eq!(std::fs::read_to_string(Settings::path(&dirs)).unwrap(), "{ this is not json", "left as it is");
    }
    // Saving new settings (the owner's choice in the app) keeps a copy of the damaged file.
    let new = Settings { max_watts: Some(120.0), ..Settings::default() };
    new.save(&dirs).unwrap();
    assert_eq!(Settings::load(&dirs).unwrap(), new);
    let copies: Vec<_> = std::fs::read_dir(dirs.root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("settings.json.corrupt-"))
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(std::fs::read_to_string(&copies[0]).unwrap(), "{ this is not json");
}

#[test]
fn future_version_is_reported_clearly() {
    let (_tmp, dirs) = dirs();
    std::fs::write(Settings::path(&dirs), r#"{"version": 3, "new_thing": true}"#).unwrap();
    let err = Settings::load(&dirs).unwrap_err();
    assert!(matches!(err, ConfigError::FutureVersion { found: 3, .. }));
    assert!(err.to_string().contains("settings version 3; this Idlewatt understands version 2"), "{err}");
    assert!(Settings::path(&dirs).exists(), "a newer file is never touched");
}

#[test]
fn a_file_that_is_not_utf8_is_reported_like_any_damaged_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(&path, [0x7b, 0xff, 0xfe, 0x7d]).unwrap();
    let err = Settings::load_from(&path).unwrap_err();
    assert!(matches!(err, ConfigError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("not UTF-8"), "{err}");
    assert!(path.exists(), "never silently replaced: the next start reports it again");
    assert!(Settings::load_from(&path).is_err());
}
