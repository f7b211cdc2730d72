// Pooling of the embedding model, one workgroup per sequence ("unit"): the mean of the
// sequence's real tokens (or its first, [CLS], token), then L2 normalisation as
// torch.nn.functional.normalize (divide by max(norm, 1e-12)).
// CPU reference: idlewatt::embed::reference::pool.

const EMB_WG: u32 = 64u;
const FLAG_CLS: u32 = 4u;
const FLAG_NORMALIZE: u32 = 8u;

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
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> lens: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

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
    let seq = p.unit0 + wid.x;
    let h = p.hidden;
    let first = seq * p.seq_len;
    let cls = (p.flags & FLAG_CLS) != 0u;
    let len = select(max(min(lens[seq], p.seq_len), 1u), 1u, cls);
    var sq = 0.0;
    for (var d = tid; d < h; d += EMB_WG) {
        var acc = 0.0;
        for (var i = 0u; i < len; i++) {
            acc += x[(first + i) * h + d];
        }
        let v = acc / f32(len);
        out[seq * h + d] = v;
        sq += v * v;
    }
    let norm = sqrt(reduce_sum(tid, sq));
    if ((p.flags & FLAG_NORMALIZE) != 0u) {
        let inv = 1.0 / max(norm, 1e-12);
        for (var d = tid; d < h; d += EMB_WG) {
            out[seq * h + d] = out[seq * h + d] * inv;
        }
    }
}
