//! The cooperative-matrix path's CPU side: the unrolled fragment code of
//! `shaders/matmul_coopmat.wgsl`, and the zero padding that lets that kernel work on
//! whole 16×16 fragments only (cooperative loads cannot be bounds-checked per element).
//! Padding is exact: zero rows of A, zero columns of B and zero depth add nothing to C.

use std::fmt::Write as _;

use super::TileShape;

/// `(marker, generated code)` for every `//@ NAME` line of the template.
pub(crate) fn sections(t: &TileShape) -> Vec<(&'static str, String)> {
    let (fm, fn_) = (t.tile_m / t.micro_m, t.tile_n / t.micro_n);
    let mut declare = String::new();
    let mut compute = String::new();
    let mut epilogue = String::new();
    for i in 0..fm {
        for j in 0..fn_ {
            // Every offset and stride is a `let` of its own: naga's SPIR-V writer wants
            // the pointer operand of a cooperative load to be a plain access chain.
            let _ = writeln!(declare, "    let co_{i}_{j} = (tile_row + {}u) * ldc + tile_col + {}u;", 16 * i, 16 * j);
            let _ = writeln!(declare, "    var acc_{i}_{j} = coop_mat16x16<f32, C>();");
            let _ = writeln!(
                declare,
                "    if (p.accumulate != 0u) {{ acc_{i}_{j} = coopLoadT<coop_mat16x16<f32, C>>(&c[co_{i}_{j}], ldc); }}"
            );
            let _ = writeln!(epilogue, "    coopStoreT(acc_{i}_{j}, &c[co_{i}_{j}], ldc);");
        }
    }
    for i in 0..fm {
        let _ = writeln!(compute, "        let ao_{i} = (tile_row + {}u) * lda + kt;", 16 * i);
        let _ = writeln!(compute, "        let fa_{i} = coopLoadT<coop_mat16x16<f16, A>>(&a[ao_{i}], lda);");
    }
    for j in 0..fn_ {
        let _ = writeln!(compute, "        let bo_{j} = kt * ldb + tile_col + {}u;", 16 * j);
        let _ = writeln!(compute, "        let fb_{j} = coopLoadT<coop_mat16x16<f16, B>>(&b[bo_{j}], ldb);");
    }
    for i in 0..fm {
        for j in 0..fn_ {
            let _ = writeln!(compute, "        acc_{i}_{j} = coopMultiplyAdd(fa_{i}, fb_{j}, acc_{i}_{j});");
        }
    }
    vec![("DECLARE", declare), ("COMPUTE", compute), ("EPILOGUE", epilogue)]
}

/// A job's sizes padded for the cooperative kernel: m and n to whole blocks, k to whole
/// fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Padded {
    /// Rows of A and C as given.
    pub m: u32,
    /// Columns of B and C as given.
    pub n: u32,
    /// Inner dimension as given.
    pub k: u32,
    /// Padded rows (a multiple of the block's rows).
    pub mp: u32,
    /// Padded columns (a multiple of the block's columns).
    pub np: u32,
    /// Padded depth (a multiple of 16).
    pub kp: u32,
}

impl Padded {
    /// The padding of an m×n×k job for `tile`; `None` if a padded size overflows u32.
    pub fn new(m: u32, n: u32, k: u32, tile: &TileShape) -> Option<Self> {
        let up = |x: u32, unit: u32| x.checked_next_multiple_of(unit);
        Some(Self { m, n, k, mp: up(m, tile.tile_m)?, np: up(n, tile.tile_n)?, kp: up(k, tile.tile_k)? })
    }

    /// Copies a `rows`×`cols` row-major matrix into a zeroed `prows`×`pcols` one.
    fn pad<T: Copy + Default>(src: &[T], rows: u32, cols: u32, prows: u32, pcols: u32) -> Vec<T> {
        let (cols, pcols) = (cols as usize, pcols as usize);
        let mut out = vec![T::default(); prows as usize * pcols];
        for (r, row) in src.chunks_exact(cols).take(rows as usize).enumerate() {
            out[r * pcols..r * pcols + cols].copy_from_slice(row);
        }
        out
    }

    /// A (m×k) padded to mp×kp.
    pub fn pad_a<T: Copy + Default>(&self, a: &[T]) -> Vec<T> {
        Self::pad(a, self.m, self.k, self.mp, self.kp)
    }
    /// B (k×n) padded to kp×np.
    pub fn pad_b<T: Copy + Default>(&self, b: &[T]) -> Vec<T> {
        Self::pad(b, self.k, self.n, self.kp, self.np)
    }
    /// C (m×n) padded to mp×np (a partial C being resumed).
    pub fn pad_c(&self, c: &[f32]) -> Vec<f32> {
        Self::pad(c, self.m, self.n, self.mp, self.np)
    }
    /// The m×n C inside a padded mp×np one.
    pub fn unpad_c(&self, padded: &[f32]) -> Vec<f32> {
        let (n, np) = (self.n as usize, self.np as usize);
        padded.chunks_exact(np).take(self.m as usize).flat_map(|row| row[..n].iter().copied()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::{kernels::shape::COOPMAT, reference};

    #[test]
    fn padding_rounds_to_blocks_and_fragments() {
        let t = COOPMAT[1]; // 64×32 blocks
        let p = Padded::new(17, 33, 9, &t).unwrap_or_else(|| unreachable!());
        assert_eq!((p.mp, p.np, p.kp), (64, 64, 16));
        let p = Padded::new(64, 32, 16, &t).unwrap_or_else(|| unreachable!());
        assert_eq!((p.mp, p.np, p.kp), (64, 32, 16), "already whole: no padding");
        assert!(Padded::new(u32::MAX, 1, 1, &t).is_none());
    }

    #[test]
    fn padded_product_equals_the_product_then_unpadded() {
        let (m, n, k) = (5u32, 7u32, 3u32);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 - 4.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| 0.5 * i as f32).collect();
        let p = Padded::new(m, n, k, &COOPMAT[0]).unwrap_or_else(|| unreachable!());
        let (pa, pb) = (p.pad_a(&a), p.pad_b(&b));
        assert_eq!(pa.len(), (p.mp * p.kp) as usize);
        let big = reference::matmul(&pa, &pb, p.mp as usize, p.np as usize, p.kp as usize);
        assert_eq!(p.unpad_c(&big), reference::matmul(&a, &b, m as usize, n as usize, k as usize));
        // A partial C survives pad → unpad.
        let c: Vec<f32> = (0..m * n).map(|i| i as f32).collect();
        assert_eq!(p.unpad_c(&p.pad_c(&c)), c);
    }

    #[test]
    fn fragments_cover_the_block_once() {
        for t in COOPMAT {
            let code: String = sections(&t).into_iter().map(|(_, c)| c).collect();
            let frags = (t.tile_m / 16) * (t.tile_n / 16);
            assert_eq!(code.matches("coopMultiplyAdd(").count() as u32, frags);
            assert_eq!(code.matches("coopStoreT(").count() as u32, frags);
            assert_eq!(code.matches("coopLoadT<coop_mat16x16<f16, A>>").count() as u32, t.tile_m / 16);
            assert_eq!(code.matches("coopLoadT<coop_mat16x16<f16, B>>").count() as u32, t.tile_n / 16);
        }
    }
}
