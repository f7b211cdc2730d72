//! The input magnitudes every bound of the verifier is made of, computed once per check
//! from A and B alone in O(mk + kn): row and column 1-norms and maxima, and per row of
//! C the sum and an upper bound of the largest entry of |A||B|.

/// Magnitudes of A (m×k) and B (k×n), in f64.
#[derive(Debug)]
pub(super) struct Norms {
    /// ‖a_i‖₁ per row of A.
    pub(super) a_l1: Vec<f64>,
    /// max_p |a_ip| per row of A.
    pub(super) a_max: Vec<f64>,
    /// ‖b_·j‖₁ per column of B.
    pub(super) b_col_l1: Vec<f64>,
    /// max_p |b_pj| per column of B.
    pub(super) b_col_max: Vec<f64>,
    /// Σ_j g_ij = (|A|·(|B|·1))_i per row of C.
    pub(super) g_sum: Vec<f64>,
    /// (|A|·rowmax|B|)_i ≥ max_j g_ij per row of C.
    pub(super) g_max: Vec<f64>,
}

impl Norms {
    pub(super) fn new(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Self {
        let mut b_col_l1 = vec![0.0f64; n];
        let mut b_col_max = vec![0.0f64; n];
        let mut b_row_l1 = vec![0.0f64; k];
        let mut b_row_max = vec![0.0f64; k];
        for (p, row) in b.chunks_exact(n.max(1)).take(k).enumerate() {
            let (mut s, mut mx) = (0.0f64, 0.0f64);
            for ((&x, l1), cmax) in row.iter().zip(&mut b_col_l1).zip(&mut b_col_max) {
                let x = f64::from(x.abs());
                s += x;
                mx = mx.max(x);
                *l1 += x;
                *cmax = cmax.max(x);
            }
            b_row_l1[p] = s;
            b_row_max[p] = mx;
        }
        let mut a_l1 = Vec::with_capacity(m);
        let mut a_max = Vec::with_capacity(m);
        let mut g_sum = Vec::with_capacity(m);
        let mut g_max = Vec::with_capacity(m);
        for row in a.chunks_exact(k.max(1)).take(m) {
            let (mut l1, mut mx, mut gs, mut gm) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
            for ((&x, &bs), &bm) in row.iter().zip(&b_row_l1).zip(&b_row_max) {
                let x = f64::from(x.abs());
                l1 += x;
                mx = mx.max(x);
                gs += x * bs;
                gm += x * bm;
            }
            a_l1.push(l1);
            a_max.push(mx);
            g_sum.push(gs);
            g_max.push(gm);
        }
        if k == 0 {
            // A has no columns: every row's magnitudes are zero.
            a_l1.resize(m, 0.0);
            a_max.resize(m, 0.0);
            g_sum.resize(m, 0.0);
            g_max.resize(m, 0.0);
        }
        Self { a_l1, a_max, b_col_l1, b_col_max, g_sum, g_max }
    }

    /// U_ij ≥ g_ij = Σ_p |a_ip||b_pj| ≥ |(AB)_ij|: the larger of two Hölder bounds is not
    /// needed, the smaller is valid.
    pub(super) fn entry_max(&self, i: usize, j: usize) -> f64 {
        (self.a_l1[i] * self.b_col_max[j]).min(self.a_max[i] * self.b_col_l1[j])
    }
}
