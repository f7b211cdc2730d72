// Dense matmul on the GPU's matrix units, C = A·B (row-major): A and B in f16, products
// accumulated in f32, through wgpu's cooperative matrices (`enable
// wgpu_cooperative_matrix`: Vulkan VK_KHR_cooperative_matrix on NVIDIA tensor cores
// and AMD/Intel matrix cores, Metal simdgroup matrices). The engine's `f16-coopmat`
// path.
//
// A workgroup is one subgroup (SUBGROUP invocations, the adapter's fixed subgroup
// size) and owns a TILE_M × TILE_N block of C as 16×16 fragments, loaded, multiplied
// and stored cooperatively. Cooperative operations must be in uniform control flow and
// read whole fragments, so there is no edge path: the engine pads A, B and C with zeros
// to multiples of the block and of 16 (`compute::kernels::coopmat::Padded`), and every
// slice covers whole blocks. m, n and k in Params are the padded sizes.
//
// Lines `//@ NAME` are replaced by code generated from the tile shape
// (`compute::kernels::coopmat`); the constants and `enable` lines are prepended.
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
@group(0) @binding(1) var<storage, read> a: array<f16>;
@group(0) @binding(2) var<storage, read> b: array<f16>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(SUBGROUP, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>) {
    let tile_row = p.row0 + wg.y * TILE_M;
    let tile_col = p.col0 + wg.x * TILE_N;
    let lda = p.k;
    let ldb = p.n;
    let ldc = p.n;
//@ DECLARE
    for (var kt = p.k0; kt < p.k1; kt += TILE_K) {
//@ COMPUTE
    }
//@ EPILOGUE
}
