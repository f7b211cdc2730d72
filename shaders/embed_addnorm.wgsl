// Residual and layer norm of the embedding model: X[t] = LayerNorm(X[t] + R[t]), one
// workgroup of 64 invocations per token ("unit").
// CPU reference: idlewatt::embed::reference::add_norm.

const EMB_WG: u32 = 64u;

struct Params {
    tokens: u32,
    seq_len: u32,
    hidden: u32,
    n: u32,
    k: u32,
    unit0: u32,
    units: u32,
    k0: u32,
    k1: u32,
    flags: u32,
    heads: u32,
    head_dim: u32,
    tiles_n: u32,
    eps: f32,
    scale: f32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> r: array<f32>;
// gamma then beta: [2, hidden].
@group(0) @binding(3) var<storage, read> norm: array<f32>;

var<workgroup> red: array<f32, 64>;

fn reduce_sum(tid: u32, v: f32) -> f32 {
    red[tid] = v;
    workgroupBarrier();
    for (var s = EMB_WG / 2u; s > 0u; s >>= 1u) {
        if (tid < s) {
            red[tid] += red[tid + s];
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let t = p.unit0 + wid.x;
    let h = p.hidden;
    let base = t * h;
    var sum = 0.0;
    for (var d = tid; d < h; d += EMB_WG) {
        let v = x[base + d] + r[base + d];
        x[base + d] = v;
        sum += v;
    }
    let mean = reduce_sum(tid, sum) / f32(h);
    var sq = 0.0;
    for (var d = tid; d < h; d += EMB_WG) {
        let dv = x[base + d] - mean;
        sq += dv * dv;
    }
    let inv = inverseSqrt(reduce_sum(tid, sq) / f32(h) + p.eps);
    for (var d = tid; d < h; d += EMB_WG) {
        x[base + d] = (x[base + d] - mean) * inv * norm[d] + norm[h + d];
    }
}
