//! What an adapter offers the kernels (f16 arithmetic, cooperative matrices, a fixed
//! subgroup size, workgroup limits), and the pure rules that turn it into kernel paths
//! and candidate kernels. Kept apart from the device so the engine's choice of path can
//! be tested with a made-up capability set on a machine that has none of them.

use idlewatt_protocol::Precision;
use serde::{Deserialize, Serialize};

use super::kernels::{self, KernelChoice, KernelPath, shape};

/// The kernel-relevant capabilities of one adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelCaps {
    /// `Features::SHADER_F16`.
    pub shader_f16: bool,
    /// `Features::EXPERIMENTAL_COOPERATIVE_MATRIX` with a 16×16×16 f16·f16 + f32 configuration.
    pub coopmat_f16: bool,
    /// The subgroup size when the adapter has exactly one (a cooperative workgroup is
    /// one subgroup), else `None`.
    pub subgroup_size: Option<u32>,
    /// `max_compute_workgroup_storage_size`.
    pub max_workgroup_bytes: u32,
    /// `max_compute_invocations_per_workgroup`.
    pub max_invocations: u32,
    /// `max_compute_workgroup_size_x`.
    pub max_workgroup_size_x: u32,
}

impl KernelCaps {
    /// Reads an adapter.
    pub fn of(adapter: &wgpu::Adapter) -> Self {
        let features = adapter.features();
        let info = adapter.get_info();
        let limits = adapter.limits();
        let shader_f16 = features.contains(wgpu::Features::SHADER_F16);
        let coopmat_f16 = shader_f16
            && features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX)
            && adapter.cooperative_matrix_properties().iter().any(|p| {
                (p.m_size, p.n_size, p.k_size) == (16, 16, 16)
                    && p.ab_type == wgpu::CooperativeScalarType::F16
                    && p.cr_type == wgpu::CooperativeScalarType::F32
            });
        let subgroup_size = (info.subgroup_min_size == info.subgroup_max_size && info.subgroup_min_size > 0)
            .then_some(info.subgroup_min_size);
        Self {
            shader_f16,
            coopmat_f16,
            subgroup_size,
            max_workgroup_bytes: limits.max_compute_workgroup_storage_size,
            max_invocations: limits.max_compute_invocations_per_workgroup,
            max_workgroup_size_x: limits.max_compute_workgroup_size_x,
        }
    }

    /// The device features the engine asks for: what the paths need, nothing more.
    pub fn required_features(&self) -> wgpu::Features {
        let mut f = wgpu::Features::empty();
        if self.shader_f16 {
            f |= wgpu::Features::SHADER_F16;
        }
        if self.coopmat_path() {
            f |= wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX;
        }
        f
    }

    fn coopmat_path(&self) -> bool {
        self.coopmat_f16 && self.subgroup_size.is_some_and(|s| s <= self.max_workgroup_size_x)
    }

    /// The paths this adapter has, fastest-expected first within a precision.
    pub fn paths(&self) -> Vec<KernelPath> {
        let mut p = vec![KernelPath::F32];
        if self.coopmat_path() {
            p.push(KernelPath::F16Coopmat);
        }
        if self.shader_f16 {
            p.push(KernelPath::F16);
        }
        p
    }

    /// The paths that compute `precision` here.
    pub fn paths_for(&self, precision: Precision) -> Vec<KernelPath> {
        self.paths().into_iter().filter(|p| p.precision() == precision).collect()
    }

    /// The precisions this adapter can compute.
    pub fn precisions(&self) -> Vec<Precision> {
        Precision::ALL.into_iter().filter(|&p| !self.paths_for(p).is_empty()).collect()
    }

    /// Whether `choice` fits this adapter.
    pub fn fits(&self, choice: &KernelChoice) -> bool {
        self.paths().contains(&choice.path)
            && choice.invocations() <= self.max_invocations
            && choice.invocations() <= self.max_workgroup_size_x
            && choice.workgroup_bytes() <= self.max_workgroup_bytes
            && (choice.path != KernelPath::F16Coopmat || Some(choice.subgroup) == self.subgroup_size)
    }

    /// The kernels the tuner times for `path` here.
    pub fn candidates(&self, path: KernelPath) -> Vec<KernelChoice> {
        kernels::all_for(path, self.subgroup_size.unwrap_or(0)).into_iter().filter(|c| self.fits(c)).collect()
    }

    /// The kernel used for `precision` before (or without) tuning: the largest
    /// register-tiled shape that fits, never an untuned cooperative kernel (the tuner
    /// checks those against the CPU before they are trusted). `None` when the adapter
    /// has no path for `precision`.
    pub fn default_choice(&self, precision: Precision) -> Option<KernelChoice> {
        let path = match precision {
            Precision::F32 => KernelPath::F32,
            Precision::F16 if self.shader_f16 => KernelPath::F16,
            Precision::F16 => return None,
        };
        const PREFERRED: [shape::TileShape; 3] = [shape::TILED[3], shape::TILED[1], shape::TILED[0]];
        PREFERRED
            .iter()
            .map(|&t| KernelChoice::tiled(path, t))
            .chain((path == KernelPath::F32).then_some(KernelChoice::CLASSIC))
            .find(|c| self.fits(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An NVIDIA-like adapter: f16, cooperative matrices, subgroups of 32, 48 KiB.
    fn tensor_cores() -> KernelCaps {
        KernelCaps {
            shader_f16: true,
            coopmat_f16: true,
            subgroup_size: Some(32),
            max_workgroup_bytes: 48 * 1024,
            max_invocations: 1024,
            max_workgroup_size_x: 1024,
        }
    }

    /// A WebGPU-minimum adapter: f32 only, 16 KiB, 256 invocations.
    fn minimal() -> KernelCaps {
        KernelCaps {
            shader_f16: false,
            coopmat_f16: false,
            subgroup_size: None,
            max_workgroup_bytes: 16 * 1024,
            max_invocations: 256,
            max_workgroup_size_x: 256,
        }
    }

    #[test]
    fn paths_follow_the_capabilities() {
        let t = tensor_cores();
        assert_eq!(t.paths(), vec![KernelPath::F32, KernelPath::F16Coopmat, KernelPath::F16]);
        assert_eq!(t.precisions(), vec![Precision::F32, Precision::F16]);
        assert!(t.required_features().contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX));
        assert!(t.candidates(KernelPath::F16Coopmat).iter().all(|c| c.subgroup == 32));

        // Cooperative matrices without a fixed subgroup size: no coopmat path.
        let varying = KernelCaps { subgroup_size: None, ..t };
        assert_eq!(varying.paths(), vec![KernelPath::F32, KernelPath::F16]);
        assert!(!varying.required_features().contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX));

        let m = minimal();
        assert_eq!(m.precisions(), vec![Precision::F32]);
        assert_eq!(m.default_choice(Precision::F16), None);
        assert!(m.candidates(KernelPath::F16).is_empty());
        assert_eq!(m.required_features(), wgpu::Features::empty());
    }

    #[test]
    fn candidates_respect_workgroup_memory_and_the_default_is_never_coopmat() {
        let m = minimal();
        let c = m.candidates(KernelPath::F32);
        assert!(c.contains(&KernelChoice::CLASSIC));
        assert!(c.iter().all(|k| k.workgroup_bytes() <= 16 * 1024), "{c:?}");
        assert!(c.len() < kernels::all_for(KernelPath::F32, 0).len(), "the 33 KiB shapes are left out");
        assert_eq!(m.default_choice(Precision::F32).map(|k| k.shape), Some(shape::TILED[1]));

        let t = tensor_cores();
        assert_eq!(t.default_choice(Precision::F32).map(|k| k.shape), Some(shape::TILED[3]));
        assert_eq!(t.default_choice(Precision::F16).map(|k| k.path), Some(KernelPath::F16));
        assert_eq!(t.candidates(KernelPath::F32).len(), kernels::all_for(KernelPath::F32, 0).len());
    }
}
