//! The kernel registry: every `shaders/*.wgsl` (embedded at build time by `build.rs`),
//! completed for one [`KernelChoice`] with a prelude of constants generated from its
//! [`TileShape`] and, for the generated kernels, the unrolled code of [`tiled`] or
//! [`coopmat`] in place of the template's `//@ NAME` lines. Tile sizes live here, in
//! Rust, never in the WGSL by hand.

pub mod coopmat;
pub mod shape;
pub(crate) mod tiled;

use idlewatt_protocol::Precision;
use serde::{Deserialize, Serialize};

pub use shape::TileShape;

include!(concat!(env!("OUT_DIR"), "/kernel_sources.rs"));

/// The arithmetic a kernel does; what `bench --json` reports as `path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelPath {
    /// f32 inputs and accumulation on the shader cores.
    F32,
    /// f16 inputs (`SHADER_F16`), f32 products and accumulation on the shader cores.
    F16,
    /// f16 inputs, f32 accumulation on the matrix units (`EXPERIMENTAL_COOPERATIVE_MATRIX`).
    F16Coopmat,
}

impl KernelPath {
    /// The job precision this path computes.
    pub fn precision(self) -> Precision {
        match self {
            Self::F32 => Precision::F32,
            Self::F16 | Self::F16Coopmat => Precision::F16,
        }
    }
    /// `"f32"`, `"f16"`, `"f16-coopmat"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::F16Coopmat => "f16-coopmat",
        }
    }
}

/// Which WGSL template a kernel comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// `shaders/matmul.wgsl`: the first kernel (loops, f32 only), the baseline.
    Classic,
    /// `shaders/matmul_tiled.wgsl`: register tiles, vec4 loads, double-buffered panels.
    Tiled,
    /// `shaders/matmul_coopmat.wgsl`: cooperative 16×16 fragments.
    Coopmat,
}

impl Template {
    /// The file stem in `shaders/`.
    pub fn file(self) -> &'static str {
        match self {
            Self::Classic => "matmul",
            Self::Tiled => "matmul_tiled",
            Self::Coopmat => "matmul_coopmat",
        }
    }
}

/// One compilable kernel: path, template and shape (and, for cooperative matrices,
/// the subgroup size that is its workgroup size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KernelChoice {
    /// Arithmetic.
    pub path: KernelPath,
    /// Source template.
    pub template: Template,
    /// Tile shape.
    pub shape: TileShape,
    /// Invocations per workgroup for [`Template::Coopmat`] (one subgroup); 0 otherwise.
    #[serde(default)]
    pub subgroup: u32,
}

impl KernelChoice {
    /// The first kernel, f32.
    pub const CLASSIC: Self =
        Self { path: KernelPath::F32, template: Template::Classic, shape: shape::CLASSIC, subgroup: 0 };

    /// A register-tiled kernel.
    pub const fn tiled(path: KernelPath, shape: TileShape) -> Self {
        Self { path, template: Template::Tiled, shape, subgroup: 0 }
    }

    /// A cooperative-matrix kernel for subgroups of `subgroup` invocations.
    pub const fn coopmat(shape: TileShape, subgroup: u32) -> Self {
        Self { path: KernelPath::F16Coopmat, template: Template::Coopmat, shape, subgroup }
    }

    /// Invocations per workgroup.
    pub fn invocations(&self) -> u32 {
        match self.template {
            Template::Coopmat => self.subgroup,
            _ => self.shape.invocations(),
        }
    }

    /// Bytes of workgroup memory the kernel declares.
    pub fn workgroup_bytes(&self) -> u32 {
        let t = &self.shape;
        let elem = if self.path == KernelPath::F32 { 4 } else { 2 };
        match self.template {
            Template::Classic => 4 * t.tile_k * (t.tile_m + t.tile_n),
            // Two buffers; A's k rows padded by 4 elements.
            Template::Tiled => 2 * elem * t.tile_k * (t.tile_m + 4 + t.tile_n),
            Template::Coopmat => 0,
        }
    }

    /// "f32 128x128x8/8x8", "f32 classic 64x64x16/4x4", "f16-coopmat 32x32x16/16x16 sg32".
    pub fn label(&self) -> String {
        match self.template {
            Template::Classic => format!("{} classic {}", self.path.as_str(), self.shape.label()),
            Template::Tiled => format!("{} {}", self.path.as_str(), self.shape.label()),
            Template::Coopmat => format!("{} {} sg{}", self.path.as_str(), self.shape.label(), self.subgroup),
        }
    }

    /// The WGSL constants (and `enable` directives) the template is compiled with.
    pub fn prelude(&self) -> String {
        let t = &self.shape;
        let mut s = String::new();
        if self.path != KernelPath::F32 {
            s.push_str("enable f16;\n");
        }
        if self.template == Template::Coopmat {
            s.push_str("enable wgpu_cooperative_matrix;\n");
        }
        s.push_str(&format!(
            "// Generated by idlewatt::compute::kernels for {}; do not edit.\n\
             const TILE_M: u32 = {}u;\nconst TILE_N: u32 = {}u;\nconst TILE_K: u32 = {}u;\n\
             const MICRO_M: u32 = {}u;\nconst MICRO_N: u32 = {}u;\n\
             const THREADS_X: u32 = {}u;\nconst THREADS_Y: u32 = {}u;\nconst SUBGROUP: u32 = {}u;\n\
             alias ELEM = {};\n",
            self.label(),
            t.tile_m,
            t.tile_n,
            t.tile_k,
            t.micro_m,
            t.micro_n,
            t.threads_x(),
            t.threads_y(),
            self.subgroup,
            if self.path == KernelPath::F32 { "f32" } else { "f16" },
        ));
        s
    }

    /// The complete WGSL of this kernel.
    pub fn source(&self) -> Option<String> {
        let template = SOURCES.iter().find(|(n, _)| *n == self.template.file())?.1;
        let sections = match self.template {
            Template::Classic => Vec::new(),
            Template::Tiled => tiled::sections(&self.shape),
            Template::Coopmat => coopmat::sections(&self.shape),
        };
        let mut out = self.prelude();
        for line in template.lines() {
            match line.trim().strip_prefix("//@ ").and_then(|m| sections.iter().find(|(name, _)| *name == m)) {
                Some((_, code)) => out.push_str(code),
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        Some(out)
    }
}

/// Every kernel the engine may compile for `path` on some adapter (before the
/// adapter's limits and subgroup size narrow it), baseline first.
pub fn all_for(path: KernelPath, subgroup: u32) -> Vec<KernelChoice> {
    match path {
        KernelPath::F32 => std::iter::once(KernelChoice::CLASSIC)
            .chain(shape::TILED.iter().map(|&t| KernelChoice::tiled(path, t)))
            .collect(),
        KernelPath::F16 => shape::TILED.iter().map(|&t| KernelChoice::tiled(path, t)).collect(),
        KernelPath::F16Coopmat => shape::COOPMAT.iter().map(|&t| KernelChoice::coopmat(t, subgroup)).collect(),
    }
}

/// Names of all registered templates (`shaders/*.wgsl`).
pub fn names() -> impl Iterator<Item = &'static str> {
    SOURCES.iter().map(|(n, _)| *n)
}

/// The raw template `name` as embedded, or `None`.
pub fn template(name: &str) -> Option<&'static str> {
    SOURCES.iter().find(|(n, _)| *n == name).map(|(_, src)| *src)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_registered_and_every_marker_is_filled() {
        for t in [Template::Classic, Template::Tiled, Template::Coopmat] {
            assert!(names().any(|n| n == t.file()), "{t:?}");
        }
        for path in [KernelPath::F32, KernelPath::F16, KernelPath::F16Coopmat] {
            for choice in all_for(path, 32) {
                let src = choice.source().unwrap_or_default();
                assert!(src.contains("const TILE_M: u32"), "{}", choice.label());
                assert!(!src.lines().any(|l| l.trim().starts_with("//@ ")), "{}: unfilled marker", choice.label());
                assert_eq!(
                    src.lines().any(|l| l.trim() == "enable f16;"),
                    path != KernelPath::F32,
                    "{}",
                    choice.label()
                );
            }
        }
    }

    #[test]
    fn paths_name_their_precision_and_serialise_as_the_cli_says() {
        assert_eq!(KernelPath::F16Coopmat.precision(), Precision::F16);
        assert_eq!(serde_json::to_string(&KernelPath::F16Coopmat).ok().as_deref(), Some("\"f16-coopmat\""));
        assert_eq!(serde_json::to_string(&KernelPath::F32).ok().as_deref(), Some("\"f32\""));
        assert_eq!(KernelChoice::CLASSIC.label(), "f32 classic 64x64x16/4x4");
        assert_eq!(KernelChoice::CLASSIC.workgroup_bytes(), 8 * 1024);
    }
}
