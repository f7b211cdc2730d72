//! Embeds every `shaders/*.wgsl` into the binary as the kernel registry's sources, so
//! adding a kernel is adding a file: the registry, the naga validation test and the
//! engine all see it without a hand-kept list.

use std::{env, fs, path::Path};

fn main() {
    let shaders = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    println!("cargo:rerun-if-changed={}", shaders.display());
    let mut entries: Vec<_> =
        fs::read_dir(&shaders).map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    entries.retain(|p| p.extension().is_some_and(|e| e == "wgsl"));
    entries.sort();

    let mut out = String::from(
        "/// `(kernel name, WGSL source)` for every file in `shaders/`.\npub const SOURCES: &[(&str, &str)] = &[\n",
    );
    for path in &entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        out.push_str(&format!("    ({name:?}, include_str!({:?})),\n", path.display().to_string()));
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("kernel_sources.rs");
    if let Err(e) = fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}
