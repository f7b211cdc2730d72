//! The limits-and-energy modules wired the way the node loop will: settings → limits,
//! sensors → governor → duty, readings → energy history, on this machine's real
//! sysfs/NVML (none on CI: the estimate path) with the data folder in a temp dir.

use std::time::{Duration, Instant};

use chrono::Local;
use idlewatt::config::Settings;
use idlewatt::energy::{EnergyStore, Sample};
use idlewatt::governor::{Governor, Reason};
use idlewatt::paths::DataDirs;
use idlewatt::sensors::{GpuHint, Sensors};

#[test]
fn a_minute_of_the_node_loop_records_energy_inside_the_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = DataDirs::at(tmp.path()).unwrap();
    let settings = Settings { max_watts: Some(150.0), ..Settings::load(&dirs).unwrap() };
    settings.save(&dirs).unwrap();

    let gpu = GpuHint { name: "NVIDIA GeForce RTX 3080".into(), ..GpuHint::default() };
    let mut sensors = Sensors::detect(&gpu, settings.rated_watts_override);
    let limits = settings.limits(sensors.rated().watts, false, None);
    let mut governor = Governor::new();
    let mut store = EnergyStore::open(dirs.join("energy.sqlite")).unwrap();

    let (t0, wall0) = (Instant::now(), Local::now().fixed_offset());
    let mut decision = None;
    for s in 0..=60 {
        let reading = sensors.read(t0 + Duration::from_secs(s), governor.duty());
        let now = wall0 + chrono::Duration::seconds(s as i64);
        decision = Some(governor.step(&limits, &reading, now, 1.0));
        store.record(Sample::from_reading(now, &reading, Some("job-1"))).unwrap();
    }
    let decision = decision.unwrap();
    let measured = sensors.sources().gpu_power.is_some();
    if !measured {
        // Estimated: the estimate itself is what the governor holds at the cap.
        assert_eq!(decision.reason, Reason::PowerLimit);
        assert!((sensors.rated().estimate(decision.duty) - 150.0).abs() < 5.0, "{decision:?}");
    }
    let job = store.job("job-1").unwrap();
    assert_eq!(job.seconds, 60.0);
    assert!(job.total_wh() > 0.0 && job.total_wh() < 320.0 / 60.0, "{job:?}");
    assert_eq!(job.measured_wh > 0.0, measured);
    let total = EnergyStore::open(dirs.join("energy.sqlite")).unwrap().total().unwrap();
    assert!((total.total_wh() - job.total_wh()).abs() < 1e-9);
    assert!(total.cost(&settings.tariff()).amount > 0.0);
}

#[test]
fn the_loop_state_can_move_into_a_task() {
    fn send<T: Send + 'static>() {}
    send::<Sensors>();
    send::<Governor>();
    send::<EnergyStore>();
    send::<Settings>();
}
