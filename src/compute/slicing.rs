//! Cutting a matmul into dispatches of bounded GPU time.
//!
//! A slice is a block of output rows × columns over a range of the inner dimension;
//! the kernel accumulates into C, so a job can be cut along all three axes and the GPU
//! is never busy for longer than one slice before the engine can look at the cancel
//! flag. The size of the next slice comes from the throughput measured on the slices
//! before it ([`RateEstimator`]), so the same code gives ~8 ms slices on a laptop iGPU,
//! an H100 and lavapipe alike. Pure arithmetic: tested without a GPU.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::kernels::TileShape;

/// The GPU time one slice should take. Below the 10 ms ceiling with room for error in
/// the estimate; the dispatch round trip (~40 µs) keeps the overhead under 1 %.
pub const DEFAULT_SLICE_TARGET: Duration = Duration::from_millis(8);

/// Inner-dimension depth below which we prefer to shrink rows/columns first: shallower
/// slices re-read and re-write C more often for the same arithmetic.
const PREFERRED_MIN_DEPTH: u32 = 256;

/// Where a partly done matmul stands; enough to resume it on another device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// First row of the current band.
    pub row0: u32,
    /// Rows of the current band (0: not chosen yet).
    pub rows: u32,
    /// First column of the current block.
    pub col0: u32,
    /// Columns of the current block (0: not chosen yet).
    pub cols: u32,
    /// Inner index already accumulated into the current block.
    pub k0: u32,
}

/// One dispatch: output rows `row0..row0+rows`, columns `col0..col0+cols`, inner `k0..k1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// First output row.
    pub row0: u32,
    /// Output rows.
    pub rows: u32,
    /// First output column.
    pub col0: u32,
    /// Output columns.
    pub cols: u32,
    /// Inner start.
    pub k0: u32,
    /// Inner end (exclusive).
    pub k1: u32,
}

impl Slice {
    /// Multiply-adds × 2.
    pub fn flops(&self) -> f64 {
        2.0 * f64::from(self.rows) * f64::from(self.cols) * f64::from(self.k1 - self.k0)
    }
}

/// Tracks measured throughput and turns a time target into a work budget.
#[derive(Debug, Clone, Copy)]
pub struct RateEstimator {
    flops_per_s: f64,
}

impl RateEstimator {
    /// Starts from a guess; the first slices are cut small and grow as measurements come.
    pub fn new(initial_flops_per_s: f64) -> Self {
        Self { flops_per_s: initial_flops_per_s.max(1e6) }
    }
    /// Current estimate, FLOP/s.
    pub fn flops_per_s(&self) -> f64 {
        self.flops_per_s
    }
    /// FLOPs that fit in `target` at the current estimate.
    pub fn budget(&self, target: Duration) -> f64 {
        self.flops_per_s * target.as_secs_f64()
    }
    /// Feeds one measured slice. Slowing down is believed at once (the GPU got
    /// throttled or shared); speeding up gradually, so one lucky
    /// measurement cannot produce a slice far beyond the target.
    /// Growth is capped at 2× per slice.
    pub fn observe(&mut self, flops: f64, elapsed: Duration) {
        let measured = flops / elapsed.as_secs_f64().max(1e-6);
        self.flops_per_s = if measured < self.flops_per_s {
            measured.max(1e6)
        } else {
            (0.5 * self.flops_per_s + 0.5 * measured).min(self.flops_per_s * 2.0)
        };
    }
}

fn round_up(x: u32, unit: u32) -> u32 {
    x.div_ceil(unit).saturating_mul(unit)
}

fn halve(x: u32, unit: u32) -> u32 {
    round_up(x.div_ceil(2), unit)
}

fn flops(rows: u32, cols: u32, depth: u32) -> f64 {
    2.0 * f64::from(rows) * f64::from(cols) * f64::from(depth)
}

/// The slice iterator's state: the job's shape, the tile, the dispatch limit.
#[derive(Debug, Clone, Copy)]
pub struct Planner {
    /// Rows of C.
    pub m: u32,
    /// Columns of C.
    pub n: u32,
    /// Inner dimension.
    pub k: u32,
    /// The kernel's tile.
    pub tile: TileShape,
    /// The device's `max_compute_workgroups_per_dimension`.
    pub max_workgroups: u32,
    /// Workgroups a slice should span to keep every compute unit busy: rows and
    /// columns shrink to this before the inner dimension is cut.
    pub min_workgroups: u32,
}

impl Planner {
    /// Rows, columns and depth of the largest slice within `budget` FLOPs. Shrinks rows,
    /// then columns, while the slice still spans [`min_workgroups`](Self::min_workgroups)
    /// (the whole GPU stays busy, and C is written once per block); only then depth, to
    /// [`PREFERRED_MIN_DEPTH`]; then rows and columns below that, to one tile; then depth
    /// to one tile. `rows`/`cols` given as `Some` are fixed (a band or block in progress).
    fn shape(&self, budget: f64, c: &Cursor, rows: Option<u32>, cols: Option<u32>) -> (u32, u32, u32) {
        let t = self.tile;
        let max_rows = round_up(self.m - c.row0, t.tile_m).min(self.max_workgroups.saturating_mul(t.tile_m));
        let max_cols = round_up(self.n - c.col0, t.tile_n).min(self.max_workgroups.saturating_mul(t.tile_n));
        let mut r = rows.unwrap_or(max_rows);
        let mut co = cols.unwrap_or(max_cols);
        let mut d = round_up(self.k - c.k0, t.tile_k);
        let groups = |r: u32, co: u32| u64::from(r.div_ceil(t.tile_m)) * u64::from(co.div_ceil(t.tile_n));
        let fill = u64::from(self.min_workgroups.max(1));
        let over = |r: u32, co: u32, d: u32| flops(r, co, d) > budget;
        while rows.is_none() && over(r, co, d) && r > t.tile_m && groups(halve(r, t.tile_m), co) >= fill {
            r = halve(r, t.tile_m);
        }
        while cols.is_none() && over(r, co, d) && co > t.tile_n && groups(r, halve(co, t.tile_n)) >= fill {
            co = halve(co, t.tile_n);
        }
        let floor_depth = round_up(PREFERRED_MIN_DEPTH, t.tile_k);
        while over(r, co, d) && d > floor_depth {
            d = halve(d, t.tile_k).max(floor_depth);
        }
        while rows.is_none() && over(r, co, d) && r > t.tile_m {
            r = halve(r, t.tile_m);
        }
        while cols.is_none() && over(r, co, d) && co > t.tile_n {
            co = halve(co, t.tile_n);
        }
        while over(r, co, d) && d > t.tile_k {
            d = halve(d, t.tile_k);
        }
        (r, co, d)
    }

    /// The next slice at `budget` FLOPs, choosing the band and block sizes when a new
    /// one starts; `None` when the job is done.
    pub fn next(&self, c: &mut Cursor, budget: f64) -> Option<Slice> {
        if c.row0 >= self.m {
            return None;
        }
        if c.rows == 0 {
            c.col0 = 0;
            c.k0 = 0;
            c.rows = self.shape(budget, c, None, None).0;
        }
        if c.cols == 0 {
            c.k0 = 0;
            c.cols = self.shape(budget, c, Some(c.rows), None).1;
        }
        let depth = self.shape(budget, c, Some(c.rows), Some(c.cols)).2;
        Some(Slice {
            row0: c.row0,
            rows: c.rows.min(self.m - c.row0),
            col0: c.col0,
            cols: c.cols.min(self.n - c.col0),
            k0: c.k0,
            k1: c.k0.saturating_add(depth).min(self.k),
        })
    }

    /// Moves the cursor past `slice` (which `next` returned).
    pub fn advance(&self, c: &mut Cursor, slice: &Slice) {
        c.k0 = slice.k1;
        if c.k0 >= self.k {
            c.k0 = 0;
            c.col0 = c.col0.saturating_add(c.cols);
            c.cols = 0;
            if c.col0 >= self.n {
                c.col0 = 0;
                c.row0 = c.row0.saturating_add(c.rows);
                c.rows = 0;
            }
        }
    }

    /// FLOPs of the whole job.
    pub fn total_flops(&self) -> f64 {
        flops(self.m, self.n, self.k)
    }

    /// Fraction of the job's FLOPs done before `c`.
    pub fn fraction_done(&self, c: &Cursor) -> f64 {
        let band_rows = c.rows.min(self.m.saturating_sub(c.row0));
        let block_cols = c.cols.min(self.n.saturating_sub(c.col0));
        let done = flops(c.row0.min(self.m), self.n, self.k)
            + flops(band_rows, c.col0, self.k)
            + flops(band_rows, block_cols, c.k0);
        (done / self.total_flops()).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::kernels::shape::{CLASSIC, TILED};

    fn planner(m: u32, n: u32, k: u32) -> Planner {
        Planner { m, n, k, tile: CLASSIC, max_workgroups: 65_535, min_workgroups: 1 }
    }

    /// Walks a whole job and checks every (row, col, inner) cell is covered exactly once.
    fn covers_exactly_once(p: &Planner, budgets: impl Fn(usize) -> f64) {
        let (m, n, k) = (p.m as usize, p.n as usize, p.k as usize);
        let mut seen = vec![0u8; m * n * k];
        let mut c = Cursor::default();
        let mut i = 0;
        while let Some(s) = p.next(&mut c, budgets(i)) {
            assert!(s.rows > 0 && s.cols > 0 && s.k1 > s.k0, "empty slice {s:?}");
            for r in s.row0..s.row0 + s.rows {
                for col in s.col0..s.col0 + s.cols {
                    for q in s.k0..s.k1 {
                        seen[(r as usize * n + col as usize) * k + q as usize] += 1;
                    }
                }
            }
            p.advance(&mut c, &s);
            i += 1;
            assert!(i < 1_000_000, "planner does not terminate");
        }
        assert!(seen.iter().all(|&x| x == 1), "some cell covered {} times", seen.iter().max().unwrap_or(&0));
        assert_eq!(p.fraction_done(&c), 1.0);
    }

    #[test]
    fn slices_tile_the_job_exactly_for_awkward_shapes_and_changing_budgets() {
        for (m, n, k) in [(1, 1, 1), (17, 33, 9), (130, 70, 300), (300, 5, 1000)] {
            let p = planner(m, n, k);
            covers_exactly_once(&p, |_| f64::INFINITY);
            covers_exactly_once(&p, |_| 1.0);
            covers_exactly_once(&p, |i| [5e4, 3e6, 1e3, 8e5][i % 4]);
        }
    }

    #[test]
    fn slices_stay_within_budget_unless_one_tile_is_already_more() {
        let p = planner(4096, 4096, 4096);
        let mut c = Cursor::default();
        let budget = 1e9;
        let s = p.next(&mut c, budget).unwrap_or(Slice { row0: 0, rows: 0, col0: 0, cols: 0, k0: 0, k1: 0 });
        assert!(s.flops() <= budget, "{s:?} = {} FLOP", s.flops());
        assert!(s.k1 - s.k0 >= PREFERRED_MIN_DEPTH, "depth shrinks last: {s:?}");
        let tiny = p.next(&mut Cursor::default(), 1.0).unwrap_or(s);
        assert_eq!((tiny.rows, tiny.cols, tiny.k1 - tiny.k0), (CLASSIC.tile_m, CLASSIC.tile_n, CLASSIC.tile_k));
    }

    #[test]
    fn slices_fill_the_gpu_and_cut_k_only_when_a_filling_block_exceeds_the_budget() {
        let tile = TILED[3]; // 128×128
        let p = Planner { m: 4096, n: 4096, k: 4096, tile, max_workgroups: 65_535, min_workgroups: 512 };
        let workgroups = |s: &Slice| s.rows.div_ceil(tile.tile_m) * s.cols.div_ceil(tile.tile_n);
        // 512 workgroups × 128² outputs × 4096 deep = 68.7 GFLOP: a larger budget keeps k whole.
        let s = p.next(&mut Cursor::default(), 1e11).unwrap_or_else(|| unreachable!());
        assert_eq!((s.k0, s.k1), (0, 4096), "{s:?}");
        assert!(workgroups(&s) >= 512, "{s:?}");
        assert!(s.flops() <= 1e11);
        // A smaller one cuts k but still spans the whole GPU.
        let s = p.next(&mut Cursor::default(), 2e10).unwrap_or_else(|| unreachable!());
        assert!(s.k1 - s.k0 < 4096 && s.k1 - s.k0 >= PREFERRED_MIN_DEPTH, "{s:?}");
        assert!(workgroups(&s) >= 512, "{s:?}");
        assert!(s.flops() <= 2e10);
        covers_exactly_once(&Planner { m: 300, n: 200, k: 50, tile, max_workgroups: 65_535, min_workgroups: 4 }, |i| {
            [1e5, 3e6, 1e4][i % 3]
        });
    }

    #[test]
    fn fraction_done_grows_monotonically() {
        let p = planner(200, 150, 700);
        let mut c = Cursor::default();
        let mut last = 0.0;
        while let Some(s) = p.next(&mut c, 2e5) {
            p.advance(&mut c, &s);
            let f = p.fraction_done(&c);
            assert!(f > last, "{f} after {last}");
            last = f;
        }
        assert_eq!(last, 1.0);
    }

    #[test]
    fn rate_estimator_believes_slowdowns_at_once_and_speedups_gradually() {
        let mut r = RateEstimator::new(1e9);
        r.observe(1e7, Duration::from_millis(100)); // 1e8 FLOP/s
        assert!((r.flops_per_s() - 1e8).abs() < 1.0);
        r.observe(1e10, Duration::from_millis(1)); // claims 1e13
        assert!((r.flops_per_s() - 2e8).abs() < 1.0, "capped at 2x: {}", r.flops_per_s());
        assert!((r.budget(Duration::from_millis(10)) - 2e6).abs() < 1.0);
    }
}
