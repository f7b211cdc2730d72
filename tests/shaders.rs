//! Tier one of the shader tests: naga parses and validates every kernel variant the
//! engine can compile (every template in `shaders/` × every tile shape × f32/f16/
//! cooperative), writes SPIR-V for it, and the register-tiled kernels keep every
//! per-invocation value in plain variables (no array a driver could demote to local
//! memory). The registry embeds exactly the files on disk.

use idlewatt::compute::kernels::{self, KernelChoice, KernelPath, Template};

fn all_variants() -> Vec<KernelChoice> {
    [KernelPath::F32, KernelPath::F16, KernelPath::F16Coopmat]
        .into_iter()
        .flat_map(|p| kernels::all_for(p, 32))
        .chain(kernels::all_for(KernelPath::F16Coopmat, 64))
        .collect()
}

fn validate(choice: &KernelChoice) -> (naga::Module, naga::valid::ModuleInfo) {
    let source = choice.source().expect("template is registered");
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}: {}", choice.label(), e.emit_to_string(&source)));
    let caps = naga::valid::Capabilities::SHADER_FLOAT16 | naga::valid::Capabilities::COOPERATIVE_MATRIX;
    let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", choice.label(), e.emit_to_string(&source)));
    (module, info)
}

/// Function-scope variables of array type in the entry point: what a driver may put
/// in local memory when indexed at run time.
fn local_arrays(module: &naga::Module) -> usize {
    let f = &module.entry_points[0].function;
    f.local_variables.iter().filter(|(_, v)| matches!(module.types[v.ty].inner, naga::TypeInner::Array { .. })).count()
}

#[test]
fn every_kernel_variant_parses_validates_and_compiles_to_spirv() {
    let variants = all_variants();
    assert!(variants.len() >= 12, "expected every path × shape, got {}", variants.len());
    for choice in &variants {
        let (module, info) = validate(choice);
        let options = naga::back::spv::Options { lang_version: (1, 6), ..Default::default() };
        let words = naga::back::spv::write_vec(&module, &info, &options, None)
            .unwrap_or_else(|e| panic!("{}: SPIR-V: {e}", choice.label()));
        let arrays = local_arrays(&module);
        eprintln!("{:<34} {:>6} SPIR-V words, {arrays} function-local arrays", choice.label(), words.len());
        match choice.template {
            Template::Classic => assert!(arrays > 0, "the classic kernel keeps its tiles in arrays"),
            Template::Tiled | Template::Coopmat => {
                assert_eq!(arrays, 0, "{}: per-invocation arrays would leave registers", choice.label())
            }
        }
    }
}

#[test]
fn every_embedding_kernel_validates() {
    for name in idlewatt::embed::model::KERNELS {
        let source = kernels::template(name).expect("registered");
        let module =
            naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    }
}

#[test]
fn every_shader_file_is_embedded_and_used() {
    let dir =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"))
            .join("shaders");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("shaders/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wgsl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no shaders found in {}", dir.display());
    let variants = all_variants();
    for path in &files {
        let body = std::fs::read_to_string(path).expect("readable shader");
        let name = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
        assert_eq!(kernels::template(name), Some(body.as_str()), "{name} is not embedded as on disk");
        assert!(
            variants.iter().any(|c| c.template.file() == name) || idlewatt::embed::model::KERNELS.contains(&name),
            "{name} is compiled by no kernel"
        );
    }
    assert_eq!(kernels::names().count(), files.len(), "registry and shaders/ disagree");
}
