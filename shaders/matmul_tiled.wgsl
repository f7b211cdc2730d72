// Dense matmul for throughput, C = A·B (row-major), f32 accumulation; A and B are f32
// or f16 (ELEM, see below). The engine's `f32` and `f16` paths.
//
// One dispatch computes one slice: output rows [row0, row1), columns [col0, col1), inner
// range [k0, k1); `accumulate` adds to what C holds (see `compute::slicing`). Each
// workgroup owns a TILE_M × TILE_N block of C; each invocation a MICRO_M × MICRO_N block
// of accumulators kept in registers (plain `vec4` variables, never an array indexed at
// run time, so no driver can demote them to local memory).
//
// - Global loads are 16-byte `vec4`s (A along k, B along n) on interior tiles: a tile
//   whose rows, columns and depth lie inside the slice, with k and n multiples of 4.
//   Edge tiles take the checked scalar path; the choice is per workgroup and k-tile, so
//   it never diverges inside a workgroup.
// - Panels are double-buffered in workgroup memory: the loads of k-tile t+1 are in
//   flight (in registers) while tile t is multiplied, and one barrier per k-tile
//   separates the two buffers.
// - A's panel is stored k-major and padded by one vec4 per k row (A_STRIDE), so the
//   transposing stores of 4 rows' worth of k do not all land in one bank; B's panel is
//   stored as loaded (rows of n), conflict-free.
// - An invocation's rows are MICRO_M/4 groups of 4 rows strided by 4·THREADS_Y, its
//   columns MICRO_N/4 groups of 4 strided by 4·THREADS_X: neighbouring invocations read
//   neighbouring vec4s of a panel row (no bank conflicts) and write neighbouring
//   columns of C (coalesced).
// - The k-tile's inner products are fully unrolled (generated code below).
//
// Lines `//@ NAME` are replaced by code generated from the tile shape
// (`compute::kernels::tiled`); the constants (and `enable f16;` with ELEM = f16) are
// prepended from the same `TileShape`.
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
@group(0) @binding(1) var<storage, read> a: array<vec4<ELEM>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<ELEM>>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const THREADS: u32 = THREADS_X * THREADS_Y;
// Elements of one k row of A's panel (TILE_M + one vec4 of padding).
const A_STRIDE: u32 = TILE_M + 4u;
// vec4s of one panel buffer.
const A_PANEL: u32 = TILE_K * A_STRIDE / 4u;
const B_PANEL: u32 = TILE_K * TILE_N / 4u;

// Two buffers each (double buffering).
var<workgroup> a_panel: array<vec4<ELEM>, 2u * A_PANEL>;
var<workgroup> b_panel: array<vec4<ELEM>, 2u * B_PANEL>;

// Element i of A or B (edge path).
fn a_at(i: u32) -> ELEM {
    return a[i / 4u][i % 4u];
}
fn b_at(i: u32) -> ELEM {
    return b[i / 4u][i % 4u];
}

// Writes or adds one finished value of C.
fn put(i: u32, v: f32) {
    if (p.accumulate != 0u) {
        c[i] = c[i] + v;
    } else {
        c[i] = v;
    }
}

@compute @workgroup_size(THREADS, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let tile_row = p.row0 + wg.y * TILE_M;
    let tile_col = p.col0 + wg.x * TILE_N;
    let tx = li % THREADS_X;
    let ty = li / THREADS_X;
    // Uniform over the workgroup: may this tile take the vec4 path?
    let full = tile_row + TILE_M <= p.row1 && tile_col + TILE_N <= p.col1
        && p.k % 4u == 0u && p.n % 4u == 0u && p.k0 % 4u == 0u;
    let k4 = p.k / 4u;
    let n4 = p.n / 4u;

//@ DECLARE

    let tiles = (p.k1 - p.k0 + TILE_K - 1u) / TILE_K;
    // Prologue: k-tile 0 into buffer 0.
    {
        let kt = p.k0;
//@ LOAD
        let a_dst = 0u;
        let b_dst = 0u;
//@ STORE
    }
    workgroupBarrier();
    for (var t = 0u; t < tiles; t++) {
        let cur = t % 2u;
        let has_next = t + 1u < tiles;
        if (has_next) {
            let kt = p.k0 + (t + 1u) * TILE_K;
//@ LOAD
        }
        let a_base = cur * A_PANEL;
        let b_base = cur * B_PANEL;
//@ COMPUTE
        if (has_next) {
            let a_dst = (1u - cur) * A_PANEL;
            let b_dst = (1u - cur) * B_PANEL;
//@ STORE
        }
        workgroupBarrier();
    }

//@ EPILOGUE
}
