//! Sensor tests against sample sysfs trees written to a temp dir (CI machines have no
//! hwmon, powercap or battery, so the real tree only exercises the estimate path).

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, format!("{content}\n")).unwrap();
}

fn probe(root: &Path) -> Probe {
    Probe { root: root.to_path_buf(), nvml: false }
}

fn amd() -> GpuHint {
    GpuHint {
        name: "AMD Radeon RX 6800 (RADV NAVI21)".into(),
        vendor_id: 0x1002,
        device_id: 0x73bf,
        ..Default::default()
    }
}

#[test]
fn empty_tree_estimates_power_and_has_no_temperature() {
    let tmp = tempfile::tempdir().unwrap();
    let gpu = GpuHint { name: "NVIDIA GeForce RTX 4090".into(), ..Default::default() };
    let mut s = Sensors::detect_with(&probe(tmp.path()), &gpu, None);
    let r = s.read(Instant::now(), 1.0);
    assert_eq!(r.gpu_watts.value, 450.0);
    assert!(matches!(&r.gpu_watts.source, Source::Estimated { basis } if basis.contains("RTX 4090")));
    assert!(r.gpu_temp_c.is_none(), "no temperature may be invented");
    assert!(r.cpu_watts.is_none());
    assert_eq!(r.supply, PowerSupply::Unknown);
    let idle = s.read(Instant::now(), 0.0).gpu_watts.value;
    assert!((idle - 450.0 * rated::IDLE_FRACTION).abs() < 1e-9);
    assert_eq!(s.read(Instant::now(), 0.5).gpu_watts.value, idle + 0.5 * (450.0 - idle));
}

#[test]
fn amdgpu_hwmon_power_and_temperature_are_measured() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "sys/class/hwmon/hwmon0/name", "k10temp");
    write(root, "sys/class/hwmon/hwmon0/temp1_input", "55000");
    // An integrated AMD GPU first, the discrete one (matching PCI ids) second.
    write(root, "sys/class/hwmon/hwmon1/name", "amdgpu");
    write(root, "sys/class/hwmon/hwmon1/device/vendor", "0x1002");
    write(root, "sys/class/hwmon/hwmon1/device/device", "0x1638");
    write(root, "sys/class/hwmon/hwmon1/power1_average", "9000000");
    write(root, "sys/class/hwmon/hwmon2/name", "amdgpu");
    write(root, "sys/class/hwmon/hwmon2/device/vendor", "0x1002");
    write(root, "sys/class/hwmon/hwmon2/device/device", "0x73bf");
    write(root, "sys/class/hwmon/hwmon2/power1_average", "187500000");
    write(root, "sys/class/hwmon/hwmon2/power1_input", "1");
    write(root, "sys/class/hwmon/hwmon2/temp1_input", "67250");
    write(root, "sys/class/hwmon/hwmon2/temp2_input", "80000");
    let mut s = Sensors::detect_with(&probe(root), &amd(), None);
    let r = s.read(Instant::now(), 0.3);
    assert_eq!(r.gpu_watts, Measurement { value: 187.5, source: Source::Measured { via: Via::Hwmon } });
    assert_eq!(r.gpu_temp_c, Some(Measurement { value: 67.25, source: Source::Measured { via: Via::Hwmon } }));
    assert_eq!(s.sources().gpu_power, Some(Via::Hwmon));
    assert_eq!(s.rated().watts, 250.0);
}

#[test]
fn hwmon_power1_input_and_temperature_only_drivers() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "sys/class/hwmon/hwmon3/name", "amdgpu");
    write(tmp.path(), "sys/class/hwmon/hwmon3/power1_input", "42000000");
    let mut s = Sensors::detect_with(&probe(tmp.path()), &GpuHint::default(), None);
    assert_eq!(s.read(Instant::now(), 0.0).gpu_watts.value, 42.0);

    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "sys/class/hwmon/hwmon0/name", "nouveau");
    write(tmp.path(), "sys/class/hwmon/hwmon0/temp1_input", "41000");
    let gpu = GpuHint { name: "NV136".into(), ..Default::default() };
    let mut s = Sensors::detect_with(&probe(tmp.path()), &gpu, None);
    let r = s.read(Instant::now(), 1.0);
    assert!(!r.gpu_watts.source.is_measured(), "nouveau gave no power: estimated");
    assert_eq!(r.gpu_watts.value, rated::DEFAULT_DISCRETE_W);
    assert_eq!(r.gpu_temp_c.map(|t| t.value), Some(41.0));
}

#[test]
fn rapl_power_is_energy_difference_over_time_with_wraparound() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let zone = "sys/class/powercap/intel-rapl:0";
    write(root, &format!("{zone}/name"), "package-0");
    write(root, &format!("{zone}/max_energy_range_uj"), "262143328850");
    write(root, &format!("{zone}/energy_uj"), "262100000000");
    write(root, "sys/class/powercap/intel-rapl:0:0/name", "core");
    write(root, "sys/class/powercap/intel-rapl:0:0/energy_uj", "5");
    let mut rapl = rapl::Rapl::detect(root).expect("package domain");
    let t0 = Instant::now();
    assert_eq!(rapl.read(t0), None, "first read has nothing to compare with");
    // 43_328_850 µJ to the wrap, then 16_671_150 µJ: 60 J over 2 s = 30 W.
    write(root, &format!("{zone}/energy_uj"), "16671150");
    let w = rapl.read(t0 + Duration::from_secs(2)).unwrap();
    assert!((w - 30.0).abs() < 1e-9, "{w}");
    write(root, &format!("{zone}/energy_uj"), "26671150");
    let w = rapl.read(t0 + Duration::from_millis(2500)).unwrap();
    assert!((w - 20.0).abs() < 1e-9, "{w}");
    assert_eq!(rapl.read(t0 + Duration::from_millis(2500)), None, "no time elapsed");
}

#[test]
fn software_adapter_counts_cpu_package_power() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "sys/class/powercap/intel-rapl:0/name", "package-0");
    write(root, "sys/class/powercap/intel-rapl:0/energy_uj", "1000000");
    let gpu = GpuHint { name: "llvmpipe (LLVM 15.0.6, 256 bits)".into(), software: true, ..Default::default() };
    let mut s = Sensors::detect_with(&probe(root), &gpu, None);
    let t0 = Instant::now();
    let first = s.read(t0, 1.0);
    assert_eq!(first.gpu_watts.value, rated::SOFTWARE_CPU_W, "no RAPL figure yet: estimated");
    write(root, "sys/class/powercap/intel-rapl:0/energy_uj", "46000000");
    let r = s.read(t0 + Duration::from_secs(1), 1.0);
    assert_eq!(r.gpu_watts, Measurement { value: 45.0, source: Source::Measured { via: Via::Rapl } });
    assert_eq!(r.cpu_watts.map(|c| c.value), Some(45.0));
}

#[test]
fn rated_table_override_and_defaults() {
    let hint = |name: &str, integrated: bool| GpuHint { name: name.into(), integrated, ..Default::default() };
    assert_eq!(Rated::lookup(&hint("NVIDIA GeForce RTX 4070 Ti", false), None).watts, 285.0);
    assert_eq!(Rated::lookup(&hint("NVIDIA GeForce RTX 4070", false), None).watts, 200.0);
    assert_eq!(Rated::lookup(&hint("AMD Radeon RX 7900 XTX", false), None).watts, 355.0);
    assert_eq!(Rated::lookup(&hint("NVIDIA H100 PCIe", false), None).watts, 350.0);
    assert_eq!(Rated::lookup(&hint("NVIDIA H100 80GB HBM3", false), None).watts, 700.0);
    assert_eq!(Rated::lookup(&hint("Intel(R) Arc(tm) A770 Graphics", false), None).watts, 225.0);
    assert_eq!(Rated::lookup(&hint("Some Future GPU", false), None).watts, rated::DEFAULT_DISCRETE_W);
    assert_eq!(Rated::lookup(&hint("Some Future iGPU", true), None).watts, rated::DEFAULT_INTEGRATED_W);
    assert_eq!(Rated::lookup(&hint("llvmpipe (LLVM 15)", false), None).watts, rated::SOFTWARE_CPU_W);
    let own = Rated::lookup(&hint("NVIDIA GeForce RTX 4090", false), Some(300.0));
    assert_eq!(own.watts, 300.0);
    assert!(own.basis.contains("your settings"));
}

#[test]
fn power_supply_states() {
    let read = |files: &[(&str, &str)]| {
        let tmp = tempfile::tempdir().unwrap();
        for (rel, content) in files {
            write(tmp.path(), &format!("sys/class/power_supply/{rel}"), content);
        }
        PowerSupply::read_sysfs(tmp.path())
    };
    assert_eq!(read(&[]), PowerSupply::Unknown);
    let laptop = |online: &str, status: &str| {
        read(&[
            ("AC/type", "Mains"),
            ("AC/online", online),
            ("BAT0/type", "Battery"),
            ("BAT0/status", status),
            ("BAT0/capacity", "73"),
        ])
    };
    assert_eq!(laptop("1", "Charging"), PowerSupply::Ac);
    assert_eq!(laptop("0", "Discharging"), PowerSupply::Battery { percent: Some(73) });
    assert!(laptop("0", "Discharging").on_battery());
    // A wireless mouse's battery does not make a desktop "on battery".
    assert_eq!(
        read(&[
            ("hidpp_battery_0/type", "Battery"),
            ("hidpp_battery_0/scope", "Device"),
            ("hidpp_battery_0/status", "Discharging")
        ]),
        PowerSupply::Unknown
    );
}

#[test]
fn os_battery_lists_windows_and_macos() {
    assert_eq!(PowerSupply::from_batteries(&[]), PowerSupply::Unknown, "a desktop: treated as mains");
    assert_eq!(PowerSupply::from_batteries(&[(false, Some(100))]), PowerSupply::Ac);
    assert_eq!(
        PowerSupply::from_batteries(&[(false, Some(40)), (true, Some(55))]),
        PowerSupply::Battery { percent: Some(55) }
    );
    assert!(PowerSupply::from_batteries(&[(true, None)]).on_battery());
}

#[test]
fn this_machine_gives_a_reading_without_panicking() {
    // Real `/` and NVML (absent on CI: an error, treated as not available).
    let gpu = GpuHint { name: "llvmpipe".into(), software: true, ..Default::default() };
    let mut s = Sensors::detect(&gpu, None);
    let r = s.read(Instant::now(), 0.5);
    assert!(r.gpu_watts.value > 0.0);
}
