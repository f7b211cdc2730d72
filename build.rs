//! Embeds every `shaders/*.wgsl` into the binary as the kernel registry's sources, so
//! adding a kernel is adding a file: the registry, the naga validation test and the
//! engine all see it without a hand-kept list. Also records the wgpu version from
//! Cargo.lock (`IDLEWATT_WGPU_VERSION`): the kernel tuning cache is keyed by it.

use std::{env, fs, path::Path};

fn main() {
    // Read at run time, not with `env!`: a build-script binary is reused across
    // checkouts that share a target directory, and a path baked in at its compile
    // time would point at whichever checkout built it first.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let shaders = Path::new(&manifest_dir).join("shaders");
    println!("cargo:rerun-if-changed={}", shaders.display());
    let mut entries: Vec<_> =
        fs::read_dir(&shaders).map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    entries.retain(|p| p.extension().is_some_and(|e| e == "wgsl"));
    entries.sort();
    // An empty registry would build fine and fail only at run time: refuse it here.
    assert!(!entries.is_empty(), "no shaders/*.wgsl found in {}", shaders.display());

    let mut out = String::from(
        "/// `(kernel name, WGSL source)` for every file in `shaders/`.\npub const SOURCES: &[(&str, &str)] = &[\n",
    );
    for path in &entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        // The text itself, not `include_str!(path)`: the generated file must not name a
        // checkout's absolute path (a target directory shared by two checkouts would
        // otherwise compile one checkout's shaders into the other's binary).
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        out.push_str(&format!("    ({name:?}, {text:?}),\n"));
    }
    out.push_str("];\n");
    // Written whole and renamed into place: two builds sharing a target directory (a
    // checkout and a CI clone of the same workspace get the same build-script folder)
    // must never read a half-written file.
    let out_dir = env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    println!("cargo:rustc-env=IDLEWATT_WGPU_VERSION={}", wgpu_version());
    let dest = Path::new(&out_dir).join("kernel_sources.rs");
    let tmp = Path::new(&out_dir).join(format!("kernel_sources.rs.{}", std::process::id()));
    if let Err(e) = fs::write(&tmp, out).and_then(|()| fs::rename(&tmp, &dest)) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

/// The locked version of the `wgpu` package ("unknown" when the lock file is absent).
fn wgpu_version() -> String {
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let lock = Path::new(&manifest_dir).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = fs::read_to_string(lock).unwrap_or_default();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wgpu\""
            && let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = "))
        {
            return v.trim_matches('"').to_owned();
        }
    }
    "unknown".to_owned()
}
