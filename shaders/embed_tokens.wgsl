// First step of the embedding model: X[t] = LayerNorm(word[id] + position[t mod L] +
// type[0]), one workgroup of 64 invocations per token ("unit"). Padded positions hold
// id 0 and are computed like any token; attention and pooling ignore them.
// CPU reference: idlewatt::embed::reference::embed_tokens.

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
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> word: array<f32>;
@group(0) @binding(3) var<storage, read> position: array<f32>;
// Token-type row 0, then the layer norm's gamma and beta: [3, hidden].
@group(0) @binding(4) var<storage, read> type_norm: array<f32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;

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
    let id = ids[t];
    let pos = t % p.seq_len;
    let base = t * h;
    var sum = 0.0;
    for (var d = tid; d < h; d += EMB_WG) {
        let v = word[id * h + d] + position[pos * h + d] + type_norm[d];
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
        x[base + d] = (x[base + d] - mean) * inv * type_norm[h + d] + type_norm[2u * h + d];
    }
}
