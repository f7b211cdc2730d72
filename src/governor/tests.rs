//! The governor against the simulated GPU ([`super::sim`]) and its hard rules. The
//! bounds asserted here are the ones stated in the module docs.

use chrono::{NaiveDate, TimeZone, Weekday};

use super::sim::{self, GpuModel, Scenario};
use super::*;
use crate::sensors::{Measurement, PowerSupply, Source, Via};

/// A 300 W card (25 W idle + 275 W), cool room: 30 °C + 0.15 °C/W, τ = 60 s.
fn gpu_300w() -> GpuModel {
    GpuModel {
        idle_w: 25.0,
        dynamic_w: 275.0,
        ambient_c: 30.0,
        k_c_per_w: 0.15,
        tau_s: 60.0,
        noise_w: 10.0,
        temp_step_c: 1.0,
        temp_sensor: true,
    }
}

fn limits(max_watts: f64, max_temp_c: f64) -> Limits {
    Limits {
        max_watts,
        max_temp_c,
        rated_watts: 300.0,
        run_on_battery: false,
        schedule: None,
        pause: None,
        owner_active: false,
    }
}

fn scenario(gpu: GpuModel, limits: Limits, seed: u64) -> Scenario {
    Scenario { name: "test", gpu, limits, start_temp_c: 35.0, duration_s: 600.0, dt_s: 1.0, seed }
}

#[test]
fn power_cap_holds_mean_power_within_5_percent() {
    for seed in [1, 2, 3, 42] {
        let f = sim::run(&scenario(gpu_300w(), limits(200.0, 80.0), seed));
        let err = (f.mean_power_w - 200.0).abs() / 200.0;
        assert!(err < 0.05, "seed {seed}: mean {:.1} W", f.mean_power_w);
        assert!(f.max_temp_c <= 82.0, "seed {seed}: {:.1} °C", f.max_temp_c);
        assert!(f.duty_p2p <= 0.15, "seed {seed}: duty p2p {:.3}", f.duty_p2p);
        assert!(f.settling_s <= 60.0, "seed {seed}: settling {} s", f.settling_s);
        assert_eq!(f.final_reason, Reason::PowerLimit);
    }
}

#[test]
fn without_noise_the_duty_is_steady() {
    let gpu = GpuModel { noise_w: 0.0, ..gpu_300w() };
    let f = sim::run(&scenario(gpu, limits(200.0, 80.0), 0));
    assert!((f.mean_power_w - 200.0).abs() < 1.0, "{}", f.mean_power_w);
    assert!(f.duty_p2p <= 0.02, "{}", f.duty_p2p);
    assert!((f.final_duty - 175.0 / 275.0).abs() < 0.01);
}

#[test]
fn thermal_limit_binds_before_the_power_limit_in_a_hot_room() {
    // 35 °C room, 0.2 °C/W: at the 280 W cap the card would settle at 91 °C.
    for tau_s in [20.0, 40.0, 120.0] {
        let gpu = GpuModel { ambient_c: 35.0, k_c_per_w: 0.2, tau_s, ..gpu_300w() };
        let mut s = scenario(gpu, limits(280.0, 80.0), 7);
        s.duration_s = 1200.0;
        let f = sim::run(&s);
        assert!(f.max_temp_c <= 82.0, "τ {tau_s}: max {:.2} °C", f.max_temp_c);
        assert!((f.mean_temp_c - 79.0).abs() <= 1.5, "τ {tau_s}: mean {:.2} °C", f.mean_temp_c);
        assert!(f.mean_power_w < 280.0 * 0.9, "τ {tau_s}: the power cap must not be what binds");
        assert!(f.duty_p2p <= 0.15, "τ {tau_s}: duty p2p {:.3}", f.duty_p2p);
        assert_eq!(f.final_reason, Reason::ThermalLimit);
    }
}

#[test]
fn starting_above_the_limit_backs_off_at_once() {
    let gpu = GpuModel { ambient_c: 35.0, k_c_per_w: 0.2, tau_s: 60.0, ..gpu_300w() };
    let mut s = scenario(gpu, limits(280.0, 80.0), 3);
    s.start_temp_c = 90.0;
    let f = sim::run(&s);
    assert!(f.steps.iter().filter(|st| st.temp_c > 81.0).all(|st| st.duty == 0.0), "no work while too hot");
    assert!(f.steps.iter().skip_while(|st| st.temp_c > 80.0).all(|st| st.temp_c <= 82.0));
    assert_eq!(f.final_reason, Reason::ThermalLimit);
}

#[test]
fn cap_above_full_power_runs_at_full_duty() {
    let f = sim::run(&scenario(gpu_300w(), limits(400.0, 90.0), 5));
    assert!(f.final_duty > 0.999, "{}", f.final_duty);
    assert_eq!(f.final_reason, Reason::Running);
    assert!(f.settling_s <= 10.0, "slew-limited ramp: {} s", f.settling_s);
}

#[test]
fn missing_temperature_leaves_only_the_power_path() {
    let gpu = GpuModel { temp_sensor: false, ..gpu_300w() };
    let f = sim::run(&scenario(gpu, limits(150.0, 80.0), 9));
    assert!((f.mean_power_w - 150.0).abs() / 150.0 < 0.05, "{}", f.mean_power_w);
}

#[test]
fn the_same_inputs_give_the_same_decisions() {
    let s = scenario(gpu_300w(), limits(200.0, 80.0), 11);
    assert_eq!(sim::run(&s).steps, sim::run(&s).steps);
}

fn reading(supply: PowerSupply) -> Reading {
    Reading {
        gpu_watts: Measurement { value: 50.0, source: Source::Measured { via: Via::Hwmon } },
        gpu_temp_c: None,
        cpu_watts: None,
        supply,
    }
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<FixedOffset> {
    let tz = FixedOffset::east_opt(3600).unwrap();
    tz.from_local_datetime(&NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, 0).unwrap()).unwrap()
}

#[test]
fn hard_rules_stop_with_their_reason_in_priority_order() {
    let now = at(2025, 6, 4, 12, 0);
    let mut g = Governor::new();
    let base = limits(200.0, 80.0);
    let ac = reading(PowerSupply::Ac);
    let bat = reading(PowerSupply::Battery { percent: Some(50) });
    assert_eq!(g.step(&base, &ac, now, 1.0).reason, Reason::Running);
    assert!(g.duty() > 0.0);

    let on_bat = g.step(&base, &bat, now, 1.0);
    assert_eq!((on_bat.duty, on_bat.reason), (0.0, Reason::OnBattery));
    let allowed = Limits { run_on_battery: true, ..base.clone() };
    assert_eq!(g.step(&allowed, &bat, now, 1.0).reason, Reason::Running);

    let active = Limits { owner_active: true, ..base.clone() };
    assert_eq!(g.step(&active, &bat, now, 1.0), Decision { duty: 0.0, reason: Reason::UserActive });

    let paused =
        Limits { pause: Some(Pause { until: Some(at(2025, 6, 4, 13, 0)) }), owner_active: true, ..base.clone() };
    assert_eq!(g.step(&paused, &ac, now, 1.0), Decision { duty: 0.0, reason: Reason::Paused });
    // The pause ends by itself at its end time.
    let later = at(2025, 6, 4, 13, 0);
    let ended = Limits { owner_active: false, ..paused };
    assert_eq!(g.step(&ended, &ac, later, 1.0).reason, Reason::Running);
    let forever = Limits { pause: Some(Pause { until: None }), ..base.clone() };
    assert_eq!(g.step(&forever, &ac, at(2030, 1, 1, 0, 0), 1.0).reason, Reason::Paused);
    assert_eq!(g.duty(), 0.0, "a hard rule restarts from duty 0");
}

#[test]
fn schedule_windows_including_past_midnight() {
    // Weeknights 22:00–06:00 (starting Mon–Fri), and all day on Sunday.
    let weeknights = Window {
        days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
        start_min: 22 * 60,
        end_min: 6 * 60,
    };
    let sunday = Window { days: vec![Weekday::Sun], start_min: 0, end_min: 0 };
    let sched = Schedule { windows: vec![weeknights, sunday] };
    // 2025-06-04 is a Wednesday.
    assert!(!sched.allows(at(2025, 6, 4, 12, 0).naive_local()));
    assert!(sched.allows(at(2025, 6, 4, 22, 0).naive_local()));
    assert!(sched.allows(at(2025, 6, 5, 5, 59).naive_local()), "Wednesday's window runs into Thursday");
    assert!(!sched.allows(at(2025, 6, 5, 6, 0).naive_local()), "end is exclusive");
    assert!(sched.allows(at(2025, 6, 7, 3, 0).naive_local()), "Friday night into Saturday");
    assert!(!sched.allows(at(2025, 6, 7, 23, 0).naive_local()), "no window starts on Saturday");
    assert!(sched.allows(at(2025, 6, 8, 15, 0).naive_local()), "Sunday all day");
    assert!(!sched.allows(at(2025, 6, 2, 3, 0).naive_local()), "Sunday's whole-day window ends at midnight");

    let mut g = Governor::new();
    let l = Limits { schedule: Some(sched), ..limits(200.0, 80.0) };
    let d = g.step(&l, &reading(PowerSupply::Unknown), at(2025, 6, 4, 12, 0), 1.0);
    assert_eq!(d, Decision { duty: 0.0, reason: Reason::OutsideSchedule });
}

#[test]
fn estimated_power_converges_to_the_cap() {
    // No power instrument: the reading is the estimate idle + duty × (rated − idle).
    let rated = crate::sensors::Rated { watts: 300.0, basis: "test".into() };
    let mut g = Governor::new();
    let l = limits(240.0, 80.0);
    let mut r = reading(PowerSupply::Ac);
    for i in 0..120 {
        r.gpu_watts.value = rated.estimate(g.duty());
        g.step(&l, &r, at(2025, 6, 4, 12, 0) + chrono::Duration::seconds(i), 1.0);
    }
    assert!((rated.estimate(g.duty()) - 240.0).abs() < 1.0);
}

#[test]
fn nonsense_limits_or_readings_never_start_work() {
    let now = at(2025, 6, 4, 12, 0);
    let mut r = reading(PowerSupply::Ac);
    r.gpu_temp_c = Some(Measurement { value: 50.0, source: Source::Measured { via: Via::Nvml } });
    for l in [limits(f64::NAN, 80.0), limits(200.0, f64::NAN), limits(f64::INFINITY, 80.0)] {
        let mut g = Governor::new();
        for _ in 0..10 {
            let d = g.step(&l, &r, now, 1.0);
            assert_eq!(d.duty, 0.0, "{l:?}");
        }
    }
    let mut g = Governor::new();
    r.gpu_watts.value = f64::NAN;
    assert_eq!(g.step(&limits(200.0, 80.0), &r, now, 1.0).duty, 0.0, "unreadable power holds duty 0");
    r.gpu_watts.value = 50.0;
    assert!(g.step(&limits(200.0, 80.0), &r, now, f64::NAN).duty == 0.0, "a NaN step length adds nothing");
}
