//! The headless CLI as a user runs it: `info --json` and `bench --json` print valid
//! JSON with the documented fields; bad arguments and refused adapters exit non-zero
//! with a one-line reason.

use std::process::{Command, Output};

fn node(args: &[&str]) -> Output {
    node_in(&std::env::temp_dir().join(format!("idlewatt-cli-{}", std::process::id())), args)
}

/// Runs the node with its data folder (the kernel tuning cache) at `data`.
fn node_in(data: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idlewatt-node"))
        .args(args)
        .env("IDLEWATT_DATA_DIR", data)
        .env("WGPU_BACKEND", "vulkan")
        .env_remove("IDLEWATT_ALLOW_SOFTWARE")
        .output()
        .expect("idlewatt-node runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn info_json_has_the_documented_fields() {
    let v = json(&node(&["info", "--json"]));
    for key in ["name", "vendor", "vendor_id", "device_type", "backend", "driver", "software"] {
        assert!(!v["gpu"][key].is_null(), "gpu.{key} missing in {v}");
    }
    assert_eq!(v["gpu"]["backend"], "vulkan");
    for key in [
        "max_buffer_size",
        "max_storage_buffer_binding_size",
        "max_compute_invocations_per_workgroup",
        "max_compute_workgroups_per_dimension",
    ] {
        assert!(v["gpu"]["limits"][key].as_u64().is_some_and(|x| x > 0), "gpu.limits.{key} in {v}");
    }
    for key in ["cpu_model", "logical_cpus", "total_memory_bytes", "os"] {
        assert!(!v["host"][key].is_null(), "host.{key} missing in {v}");
    }
    assert!(v["usable"].is_boolean());
}

#[test]
fn bench_json_reports_correct_results_and_both_throughputs() {
    let v = json(&node(&["bench", "--json", "--allow-software", "--sizes", "33,100"]));
    let rows = v["results"].as_array().expect("results array");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["size"], 33);
    for r in rows {
        for key in ["gpu_gflops", "cpu_gflops", "gpu_vs_cpu", "median_slice_ms", "gpu_ms", "cpu_ms"] {
            assert!(r[key].as_f64().is_some_and(|x| x > 0.0), "{key} in {r}");
        }
        assert!(r["max_relative_error"].as_f64().is_some_and(|e| e < 1e-5), "error in {r}");
        assert!(r["slices"].as_u64().is_some_and(|s| s >= 1));
    }
    assert!(v["cpu_baseline"].as_str().is_some_and(|s| s.contains("sgemm")));
    assert_eq!(v["hardware"]["gpu"]["backend"], "vulkan");
}

#[test]
fn issue13_bench_json_reports_path_and_shape_and_tunes_once() {
    let data = tempfile::tempdir().expect("temp dir");
    let args = ["bench", "--json", "--allow-software", "--sizes", "40", "--precision", "all", "--baseline"];
    let v = json(&node_in(data.path(), &args));
    assert_eq!(v["tuned_now"], true, "first bench tunes");
    assert!(data.path().join("kernel-tuning.json").exists());
    let rows = v["results"].as_array().expect("results array");
    let paths: Vec<&str> = v["paths"].as_array().expect("paths").iter().filter_map(|p| p.as_str()).collect();
    assert!(paths.contains(&"f32"), "{paths:?}");
    assert_eq!(rows.len(), v["precisions"].as_array().map_or(0, Vec::len));
    for r in rows {
        assert!(["f32", "f16", "f16-coopmat"].contains(&r["path"].as_str().unwrap_or_default()), "{r}");
        assert!(r["shape"].as_str().is_some_and(|s| s.contains('x') && s.contains('/')), "{r}");
        assert!(r["max_relative_error"].as_f64().is_some_and(|e| e < 1e-5), "{r}");
        if r["precision"] == "f32" {
            assert!(r["classic_gflops"].as_f64().is_some_and(|g| g > 0.0), "{r}");
        }
    }
    let again = json(&node_in(data.path(), &["bench", "--json", "--allow-software", "--sizes", "8"]));
    assert_eq!(again["tuned_now"], false, "second bench reads the cache");
    assert_eq!(again["results"][0]["shape"], v["results"][0]["shape"]);
    let out = node_in(data.path(), &["bench", "--json", "--allow-software", "--sizes", "8", "--precision", "bf16"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown precision"));
}

#[test]
fn software_adapter_is_refused_without_the_flag() {
    let info = json(&node(&["info", "--json"]));
    let out = node(&["bench", "--json", "--sizes", "8"]);
    if info["gpu"]["software"] == true {
        assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or_default();
        assert!(last.starts_with("idlewatt-node: ") && last.contains("--allow-software"), "{err}");
        assert!(out.stdout.is_empty());
    } else {
        assert!(out.status.success(), "a hardware GPU must be accepted");
    }
}

#[test]
fn bad_arguments_exit_2_with_a_reason() {
    for args in [&["bench", "--sizes", "0"][..], &["bench", "--sizes", "abc"], &["frobnicate"]] {
        let out = node(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}
