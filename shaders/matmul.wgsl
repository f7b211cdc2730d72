// Dense f32 matrix multiply, C = A·B, for any m, n, k (row-major).
//
// The first kernel, kept as the baseline every benchmark compares against and as a
// tuning candidate (`compute::kernels::KernelChoice::CLASSIC`); see matmul_tiled.wgsl
// for the throughput kernel and docs/kernels.md for why this one is slow on real GPUs.
//
// One dispatch computes one slice: the output rows [row0, row1) and columns
// [col0, col1) over the inner range [k0, k1). `accumulate` adds to what C already
// holds, so a long job is cut into short dispatches along k as well as along rows and
// columns (see `compute::matmul::plan`). Each workgroup computes a TILE_M × TILE_N block of C,
// staging TILE_K-deep panels of A and B in workgroup memory; each invocation keeps a
// MICRO_M × MICRO_N block of accumulators in registers.
//
// TILE_M, TILE_N, TILE_K, MICRO_M, MICRO_N, THREADS_X and THREADS_Y are not defined here:
// the engine prepends them from `compute::kernels::TileShape`, the one place they live.
//
// CPU reference: `idlewatt::compute::reference::matmul`.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    row0: u32,
    col0: u32,
    row1: u32,
    col1: u32,
    k0: u32,
    k1: u32,
    accumulate: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const THREADS: u32 = THREADS_X * THREADS_Y;

// Panels in workgroup memory, k-major so the inner loop reads consecutive words.
var<workgroup> a_panel: array<f32, TILE_K * TILE_M>;
var<workgroup> b_panel: array<f32, TILE_K * TILE_N>;

@compute @workgroup_size(THREADS_X, THREADS_Y, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let tile_row = p.row0 + wg.y * TILE_M;
    let tile_col = p.col0 + wg.x * TILE_N;
    let my_row = lid.y * MICRO_M;
    let my_col = lid.x * MICRO_N;

    var acc: array<f32, MICRO_M * MICRO_N>;
    for (var i = 0u; i < MICRO_M * MICRO_N; i++) {
        acc[i] = 0.0;
    }

    for (var kt = p.k0; kt < p.k1; kt += TILE_K) {
        for (var i = li; i < TILE_M * TILE_K; i += THREADS) {
            let r = i / TILE_K;
            let kk = i % TILE_K;
            let gr = tile_row + r;
            let gk = kt + kk;
            var v = 0.0;
            if (gr < p.row1 && gk < p.k1) {
                v = a[gr * p.k + gk];
            }
            a_panel[kk * TILE_M + r] = v;
        }
        for (var i = li; i < TILE_K * TILE_N; i += THREADS) {
            let kk = i / TILE_N;
            let col = i % TILE_N;
            let gk = kt + kk;
            let gc = tile_col + col;
            var v = 0.0;
            if (gk < p.k1 && gc < p.col1) {
                v = b[gk * p.n + gc];
            }
            b_panel[kk * TILE_N + col] = v;
        }
        workgroupBarrier();

        for (var kk = 0u; kk < TILE_K; kk++) {
            var a_reg: array<f32, MICRO_M>;
            var b_reg: array<f32, MICRO_N>;
            for (var i = 0u; i < MICRO_M; i++) {
                a_reg[i] = a_panel[kk * TILE_M + my_row + i];
            }
            for (var j = 0u; j < MICRO_N; j++) {
                b_reg[j] = b_panel[kk * TILE_N + my_col + j];
            }
            for (var i = 0u; i < MICRO_M; i++) {
                for (var j = 0u; j < MICRO_N; j++) {
                    acc[i * MICRO_N + j] = fma(a_reg[i], b_reg[j], acc[i * MICRO_N + j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < MICRO_M; i++) {
        let gr = tile_row + my_row + i;
        if (gr >= p.row1) {
            break;
        }
        for (var j = 0u; j < MICRO_N; j++) {
            let gc = tile_col + my_col + j;
            if (gc < p.col1) {
                let idx = gr * p.n + gc;
                if (p.accumulate != 0u) {
                    c[idx] = c[idx] + acc[i * MICRO_N + j];
                } else {
                    c[idx] = acc[i * MICRO_N + j];
                }
            }
        }
    }
}
