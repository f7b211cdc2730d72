//! The uniform block every `shaders/embed_*.wgsl` kernel reads (one struct for all of
//! them, so one dynamic-offset slot size serves a whole submission), its flag bits, and
//! the kernel constants the host's dispatch arithmetic shares with the WGSL. The WGSL
//! files spell these out themselves (naga validates each file alone); the tests below
//! parse the shaders and fail if a copy disagrees with this file.

/// Output rows and columns of one `embed_linear` workgroup.
pub const LINEAR_TILE: u32 = 64;
/// Inner-dimension depth of one `embed_linear` panel.
pub const LINEAR_TILE_K: u32 = 16;
/// Invocations of the row-wise kernels (tokens, add-norm, attention, pool).
pub const ROW_WORKGROUP: u32 = 64;
/// Longest sequence the attention kernel's workgroup score buffer holds.
pub const MAX_SEQ: u32 = 512;
/// Bytes between two parameter slots (wgpu's largest `min_uniform_buffer_offset_alignment`).
pub const SLOT_STRIDE: u64 = 256;

/// `embed_linear`: add to Y instead of starting from the bias (k-chunks after the first).
pub const FLAG_ACCUMULATE: u32 = 1;
/// `embed_linear`: apply GELU when the last k-chunk lands.
pub const FLAG_GELU: u32 = 2;
/// `embed_pool`: take the first ([CLS]) token instead of the mean.
pub const FLAG_CLS: u32 = 4;
/// `embed_pool`: L2-normalise the sentence vector.
pub const FLAG_NORMALIZE: u32 = 8;

/// `struct Params` of the embed kernels, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    /// Rows of the activations (sequences × padded length).
    pub tokens: u32,
    /// Padded sequence length.
    pub seq_len: u32,
    /// Hidden size.
    pub hidden: u32,
    /// Output width of a linear layer.
    pub n: u32,
    /// Input width of a linear layer.
    pub k: u32,
    /// First unit (workgroup's work item) of this dispatch.
    pub unit0: u32,
    /// Units in this dispatch (one workgroup each).
    pub units: u32,
    /// Inner range start (linear).
    pub k0: u32,
    /// Inner range end, exclusive (linear).
    pub k1: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Attention heads.
    pub heads: u32,
    /// Width of one head.
    pub head_dim: u32,
    /// Column tiles of a linear layer's output.
    pub tiles_n: u32,
    /// Layer-norm epsilon.
    pub eps: f32,
    /// Attention score scale, 1/√head_dim.
    pub scale: f32,
    /// Padding to 64 bytes.
    pub pad: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::kernels;

    fn module(name: &str) -> naga::Module {
        let source = kernels::template(name).unwrap_or_default();
        naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)))
    }

    fn constant(module: &naga::Module, name: &str) -> Option<u32> {
        let (_, c) = module.constants.iter().find(|(_, c)| c.name.as_deref() == Some(name))?;
        match module.global_expressions[c.init] {
            naga::Expression::Literal(naga::Literal::U32(v)) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn wgsl_constants_match_the_host() {
        let linear = module("embed_linear");
        assert_eq!(constant(&linear, "EMB_TILE"), Some(LINEAR_TILE));
        assert_eq!(constant(&linear, "EMB_TILE_K"), Some(LINEAR_TILE_K));
        assert_eq!(constant(&linear, "FLAG_ACCUMULATE"), Some(FLAG_ACCUMULATE));
        assert_eq!(constant(&linear, "FLAG_GELU"), Some(FLAG_GELU));
        let pool = module("embed_pool");
        assert_eq!(constant(&pool, "FLAG_CLS"), Some(FLAG_CLS));
        assert_eq!(constant(&pool, "FLAG_NORMALIZE"), Some(FLAG_NORMALIZE));
        assert_eq!(constant(&module("embed_attention"), "EMB_MAX_SEQ"), Some(MAX_SEQ));
        for name in ["embed_tokens", "embed_addnorm", "embed_attention", "embed_pool"] {
            assert_eq!(constant(&module(name), "EMB_WG"), Some(ROW_WORKGROUP), "{name}");
        }
    }

    #[test]
    fn every_embed_kernel_declares_the_same_params_struct() {
        let names: Vec<_> = kernels::names().filter(|n| n.starts_with("embed_")).collect();
        assert_eq!(names.len(), 5, "{names:?}");
        for name in names {
            let m = module(name);
            let (_, ty) = m.types.iter().find(|(_, t)| t.name.as_deref() == Some("Params")).expect("Params");
            let naga::TypeInner::Struct { members, span } = &ty.inner else { panic!("{name}: Params is a struct") };
            assert_eq!(*span as usize, std::mem::size_of::<Params>(), "{name}");
            let fields: Vec<_> = members.iter().map(|m| m.name.clone().unwrap_or_default()).collect();
            assert_eq!(
                fields,
                [
                    "tokens", "seq_len", "hidden", "n", "k", "unit0", "units", "k0", "k1", "flags", "heads",
                    "head_dim", "tiles_n", "eps", "scale", "pad"
                ],
                "{name}"
            );
        }
        assert!(std::mem::size_of::<Params>() as u64 <= SLOT_STRIDE);
    }
}
