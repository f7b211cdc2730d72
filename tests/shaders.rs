//! Tier one of the shader tests: naga parses and validates every `shaders/*.wgsl`
//! (with the engine's generated prelude), and the registry embeds exactly those files.

use std::path::Path;

use idlewatt::compute::kernels;

#[test]
fn every_shader_parses_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("shaders/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wgsl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no shaders found in {}", dir.display());

    for path in &files {
        let body = std::fs::read_to_string(path).expect("readable shader");
        let source = format!("{}\n{body}", kernels::prelude());
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
        let name = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
        assert_eq!(kernels::source(name), Some(source), "{name} is not embedded as on disk");
    }
    assert_eq!(kernels::names().count(), files.len(), "registry and shaders/ disagree");
}
