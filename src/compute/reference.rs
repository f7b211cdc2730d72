//! CPU references for the kernels in `shaders/`: the naive, obviously-correct version
//! tests compare against (accumulating in f64), and the optimised CPU SGEMM
//! (`matrixmultiply`, all cores) that benchmarks measure the GPU against.

/// C = A·B for row-major A (m×k) and B (k×n), accumulated in f64 then rounded.
pub fn matmul(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    let mut row = vec![0.0f64; n];
    for i in 0..m {
        row.iter_mut().for_each(|x| *x = 0.0);
        for p in 0..k {
            let aip = f64::from(a[i * k + p]);
            for (j, acc) in row.iter_mut().enumerate() {
                *acc += aip * f64::from(b[p * n + j]);
            }
        }
        for (dst, src) in c[i * n..(i + 1) * n].iter_mut().zip(&row) {
            *dst = *src as f32;
        }
    }
    c
}

/// C = A·B with `matrixmultiply`'s SGEMM (multi-threaded): the CPU baseline of `bench`.
#[allow(unsafe_code)]
pub fn sgemm(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    assert!(a.len() >= m * k && b.len() >= k * n, "sgemm: inputs shorter than m, n, k");
    let mut c = vec![0.0f32; m * n];
    // SAFETY: the asserts above and `c`'s length guarantee every pointer offset the
    // row-major strides (k,1), (n,1), (n,1) produce stays inside its slice.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    c
}

/// Normwise relative error: `max |got − want| / max |want|` (0 when both are zero).
/// Element-wise relative error is meaningless where an entry of C is near zero by
/// cancellation; the normwise figure is what a float accumulation actually bounds.
pub fn max_relative_error(got: &[f32], want: &[f32]) -> f64 {
    let scale = want.iter().fold(0.0f64, |m, &w| m.max(f64::from(w).abs()));
    let diff = got.iter().zip(want).fold(0.0f64, |m, (&g, &w)| m.max((f64::from(g) - f64::from(w)).abs()));
    if got.len() != want.len() {
        return f64::INFINITY;
    }
    if scale == 0.0 { diff } else { diff / scale }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_and_sgemm_agree_on_a_known_product() {
        // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
        assert_eq!(matmul(&a, &b, 2, 2, 3), vec![58.0, 64.0, 139.0, 154.0]);
        assert_eq!(sgemm(&a, &b, 2, 2, 3), vec![58.0, 64.0, 139.0, 154.0]);
    }

    #[test]
    fn relative_error_is_normwise() {
        assert_eq!(max_relative_error(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert!((max_relative_error(&[1.0, 2.5], &[1.0, 2.0]) - 0.25).abs() < 1e-12);
        assert!(max_relative_error(&[1.0], &[1.0, 2.0]).is_infinite());
    }
}
