//! How big a job a node gets: square matmuls sized so the node's own benchmark would
//! take about the target time, within the node's limits and the operator's bounds.

use idlewatt_protocol::wire::NodeLimits;

/// Why no job fits a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooSmall(pub String);

/// Side of a square job for a node doing `gflops` GFLOP/s, aiming at `target_s`
/// seconds, in multiples of 16, within `[min_dim, max_dim]`, `limits.max_dim` and
/// `limits.max_buffer_bytes` (each of A, B, C is dim² f32).
pub(crate) fn job_dim(
    gflops: f64,
    target_s: f64,
    min_dim: u32,
    max_dim: u32,
    fixed: Option<u32>,
    limits: NodeLimits,
) -> Result<u32, TooSmall> {
    let by_buffer = ((limits.max_buffer_bytes / 4) as f64).sqrt().floor();
    let cap = f64::from(max_dim.min(limits.max_dim)).min(by_buffer);
    if let Some(d) = fixed {
        return if f64::from(d) <= cap {
            Ok(d)
        } else {
            Err(TooSmall(format!("the job size {d}² does not fit the node's limits (max {cap})")))
        };
    }
    if cap < f64::from(min_dim) {
        return Err(TooSmall(format!("the node's limits allow at most {cap}², the smallest job is {min_dim}²")));
    }
    // 2·d³ FLOPs at gflops·10⁹ FLOP/s take target_s seconds.
    let ideal = if gflops.is_finite() && gflops > 0.0 { (gflops * 1e9 * target_s / 2.0).cbrt() } else { 0.0 };
    let d = ideal.min(cap).max(f64::from(min_dim));
    let rounded = (d / 16.0).floor() * 16.0;
    Ok(if rounded >= f64::from(min_dim) { rounded as u32 } else { d as u32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: NodeLimits = NodeLimits { max_dim: 65536, max_buffer_bytes: 1 << 40 };

    #[test]
    fn sized_to_the_benchmark_within_bounds() {
        // 3 GFLOP/s for 30 s: 2d³ = 9e10 → d ≈ 3557, capped at 2048.
        assert_eq!(job_dim(3.0, 30.0, 64, 2048, None, BIG), Ok(2048));
        // 0.01 GFLOP/s for 10 s: d ≈ 368 → 368.
        assert_eq!(job_dim(0.01, 10.0, 64, 2048, None, BIG), Ok(368));
        assert_eq!(job_dim(0.0, 10.0, 64, 2048, None, BIG), Ok(64));
        // 1 MiB buffers hold 512² f32.
        assert_eq!(
            job_dim(100.0, 30.0, 64, 2048, None, NodeLimits { max_dim: 4096, max_buffer_bytes: 1 << 20 }),
            Ok(512)
        );
        assert!(job_dim(1.0, 30.0, 64, 2048, None, NodeLimits { max_dim: 32, max_buffer_bytes: 1 << 20 }).is_err());
        assert_eq!(job_dim(1.0, 30.0, 64, 2048, Some(256), BIG), Ok(256));
        assert!(
            job_dim(1.0, 30.0, 64, 2048, Some(256), NodeLimits { max_dim: 128, max_buffer_bytes: 1 << 20 }).is_err()
        );
    }
}
