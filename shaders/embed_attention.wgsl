// Self-attention of the embedding model for one (token, head) pair per workgroup
// ("unit" = token·heads + head): scores q·k·scale against the real keys of the token's
// sequence only (the padding mask: key j counts when j < lens[sequence]), a softmax, and
// the weighted sum of the values. QKV is [tokens, 3·hidden] (query | key | value).
// CPU reference: idlewatt::embed::reference::attention.

const EMB_WG: u32 = 64u;
const EMB_MAX_SEQ: u32 = 512u;

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
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> lens: array<u32>;
@group(0) @binding(3) var<storage, read_write> ctx: array<f32>;

var<workgroup> scores: array<f32, 512>;
var<workgroup> red: array<f32, 64>;
// Partial sums of the weighted values: [EMB_WG] lanes, one head_dim column each.
var<workgroup> part: array<f32, 64>;

fn reduce(tid: u32, v: f32, take_max: bool) -> f32 {
    red[tid] = v;
    workgroupBarrier();
    for (var s = EMB_WG / 2u; s > 0u; s >>= 1u) {
        if (tid < s) {
            red[tid] = select(red[tid] + red[tid + s], max(red[tid], red[tid + s]), take_max);
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
    let unit = p.unit0 + wid.x;
    let t = unit / p.heads;
    let head = unit % p.heads;
    let seq = t / p.seq_len;
    let len = min(lens[seq], p.seq_len);
    let h = p.hidden;
    let hd = p.head_dim;
    let stride = 3u * h;
    let q = t * stride + head * hd;
    let first = seq * p.seq_len;

    var local_max = -3.0e38;
    for (var j = tid; j < len; j += EMB_WG) {
        let kb = (first + j) * stride + h + head * hd;
        var s = 0.0;
        for (var d = 0u; d < hd; d++) {
            s = fma(qkv[q + d], qkv[kb + d], s);
        }
        s *= p.scale;
        scores[j] = s;
        local_max = max(local_max, s);
    }
    let m = reduce(tid, local_max, true);
    var local_sum = 0.0;
    for (var j = tid; j < len; j += EMB_WG) {
        let e = exp(scores[j] - m);
        scores[j] = e;
        local_sum += e;
    }
    let total = reduce(tid, local_sum, false);

    // Output columns in chunks of EMB_WG: lanes split the keys when head_dim < EMB_WG.
    let lanes = max(EMB_WG / max(hd, 1u), 1u);
    for (var d0 = 0u; d0 < hd; d0 += EMB_WG) {
        let d = d0 + tid % min(hd, EMB_WG);
        let lane = tid / min(hd, EMB_WG);
        var acc = 0.0;
        if (d < hd && lane < lanes) {
            for (var j = lane; j < len; j += lanes) {
                acc = fma(scores[j], qkv[(first + j) * stride + 2u * h + head * hd + d], acc);
            }
        }
        part[tid] = acc;
        workgroupBarrier();
        if (lane == 0u && d < hd) {
            var sum = 0.0;
            for (var l = 0u; l < lanes; l++) {
                sum += part[l * min(hd, EMB_WG) + tid];
            }
            ctx[t * h + head * hd + d] = sum / total;
        }
        workgroupBarrier();
    }
}
