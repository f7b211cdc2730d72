//! The tile shape of a matmul kernel: the one Rust value the WGSL constants, the
//! generated unrolled code, the dispatch arithmetic and the slice planner all read, and
//! the candidate shapes the tuner times on each adapter.

use serde::{Deserialize, Serialize};

/// Output block per workgroup, panel depth, and output block per invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TileShape {
    /// Output rows per workgroup.
    pub tile_m: u32,
    /// Output columns per workgroup.
    pub tile_n: u32,
    /// Depth of the A/B panels staged in workgroup memory (the k step).
    pub tile_k: u32,
    /// Output rows per invocation (registers); for cooperative matrices, the fragment's rows.
    pub micro_m: u32,
    /// Output columns per invocation (registers); for cooperative matrices, the fragment's columns.
    pub micro_n: u32,
}

impl TileShape {
    /// Invocations along x (columns).
    pub const fn threads_x(&self) -> u32 {
        self.tile_n / self.micro_n
    }
    /// Invocations along y (rows).
    pub const fn threads_y(&self) -> u32 {
        self.tile_m / self.micro_m
    }
    /// Invocations per workgroup.
    pub const fn invocations(&self) -> u32 {
        self.threads_x() * self.threads_y()
    }
    /// "128x128x8/8x8": block rows × columns × depth / per-invocation rows × columns.
    pub fn label(&self) -> String {
        format!("{}x{}x{}/{}x{}", self.tile_m, self.tile_n, self.tile_k, self.micro_m, self.micro_n)
    }
}

/// The first kernel's shape (`shaders/matmul.wgsl`): 64×64 outputs per workgroup, 16×16
/// invocations of 4×4 outputs each, 16-deep panels. Kept as the baseline every
/// benchmark compares against and as a tuning candidate, so no adapter gets slower.
pub const CLASSIC: TileShape = TileShape { tile_m: 64, tile_n: 64, tile_k: 16, micro_m: 4, micro_n: 4 };

/// Register-tiled shapes the tuner tries for `f32` and `f16` (those that fit the
/// adapter's limits). All have 256 or fewer invocations, multiples of 4 everywhere
/// (vec4 rows and columns), and whole vec4 loads per panel.
pub const TILED: [TileShape; 5] = [
    // Fits the 16 KiB of workgroup memory every device has.
    TileShape { tile_m: 64, tile_n: 64, tile_k: 8, micro_m: 4, micro_n: 4 },
    TileShape { tile_m: 128, tile_n: 64, tile_k: 8, micro_m: 8, micro_n: 4 },
    TileShape { tile_m: 64, tile_n: 64, tile_k: 16, micro_m: 4, micro_n: 4 },
    // 8×8 per invocation: 64 accumulators, 2× the arithmetic per panel load of 4×4.
    TileShape { tile_m: 128, tile_n: 128, tile_k: 8, micro_m: 8, micro_n: 8 },
    TileShape { tile_m: 128, tile_n: 128, tile_k: 16, micro_m: 8, micro_n: 8 },
];

/// The cooperative-matrix path's shapes: `micro` is the 16×16 fragment, the block is
/// 2×2 or 4×2 fragments per subgroup, k steps by one fragment.
pub const COOPMAT: [TileShape; 2] = [
    TileShape { tile_m: 32, tile_n: 32, tile_k: 16, micro_m: 16, micro_n: 16 },
    TileShape { tile_m: 64, tile_n: 32, tile_k: 16, micro_m: 16, micro_n: 16 },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiled_shapes_are_whole_vec4s_and_fit_256_invocations() {
        for t in TILED.iter().chain([&CLASSIC]) {
            assert_eq!(t.threads_x() * t.micro_n, t.tile_n, "{t:?}");
            assert_eq!(t.threads_y() * t.micro_m, t.tile_m, "{t:?}");
            assert!(t.invocations() <= 256, "{t:?}");
            assert!(t.micro_m.is_multiple_of(4) && t.micro_n.is_multiple_of(4) && t.tile_k.is_multiple_of(4), "{t:?}");
        }
        for t in COOPMAT {
            assert_eq!((t.micro_m, t.micro_n, t.tile_k), (16, 16, 16));
            assert!(t.tile_m.is_multiple_of(16) && t.tile_n.is_multiple_of(16));
        }
        assert_eq!(CLASSIC.label(), "64x64x16/4x4");
    }
}
