// Dense layer of the embedding model: Y = X·Wᵀ + b (GELU fused on the last k-chunk),
// X [tokens, k] and W [n, k] row-major (PyTorch's layout). One workgroup computes one
// 64×64 output tile ("unit"); a dispatch runs units unit0..unit0+units over the inner
// range k0..k1, accumulating into Y, so the host can cut any layer into short dispatches.
// CPU reference: idlewatt::embed::reference::linear.

const EMB_TILE: u32 = 64u;
const EMB_TILE_K: u32 = 16u;
const FLAG_ACCUMULATE: u32 = 1u;
const FLAG_GELU: u32 = 2u;

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
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

// Panels staged transposed: xs[kk][row], ws[kk][col].
var<workgroup> xs: array<array<f32, 64>, 16>;
var<workgroup> ws: array<array<f32, 64>, 16>;

// erf to ~1.5e-7 (Abramowitz & Stegun 7.1.26), enough for f32.
fn erf_approx(v: f32) -> f32 {
    let a = abs(v);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let r = 1.0 - poly * exp(-a * a);
    return select(r, -r, v < 0.0);
}

fn gelu(v: f32) -> f32 {
    return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752));
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let unit = p.unit0 + wid.x;
    let row0 = (unit / p.tiles_n) * EMB_TILE;
    let col0 = (unit % p.tiles_n) * EMB_TILE;
    let tid = lid.y * 16u + lid.x;

    var acc: array<array<f32, 4>, 4>;
    for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
            acc[i][j] = 0.0;
        }
    }

    for (var kt = p.k0; kt < p.k1; kt += EMB_TILE_K) {
        // 64×16 values per panel, 4 per invocation: row = tid/4 + 64*(0..), kk = tid%4*4..
        for (var e = 0u; e < 4u; e++) {
            let flat = tid * 4u + e;
            let r = flat / EMB_TILE_K;
            let kk = flat % EMB_TILE_K;
            let kg = kt + kk;
            let xr = row0 + r;
            let wr = col0 + r;
            var xv = 0.0;
            var wv = 0.0;
            if (kg < p.k1) {
                if (xr < p.tokens) {
                    xv = x[xr * p.k + kg];
                }
                if (wr < p.n) {
                    wv = w[wr * p.k + kg];
                }
            }
            xs[kk][r] = xv;
            ws[kk][r] = wv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < EMB_TILE_K; kk++) {
            var a: array<f32, 4>;
            var b: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                a[i] = xs[kk][lid.y * 4u + i];
                b[i] = ws[kk][lid.x * 4u + i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
                }
            }
        }
        workgroupBarrier();
    }

    let last = p.k1 >= p.k;
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + lid.y * 4u + i;
        if (r >= p.tokens) {
            continue;
        }
        for (var j = 0u; j < 4u; j++) {
            let c = col0 + lid.x * 4u + j;
            if (c >= p.n) {
                continue;
            }
            let at = r * p.n + c;
            var v = acc[i][j];
            if ((p.flags & FLAG_ACCUMULATE) != 0u) {
                v += y[at];
            } else {
                v += bias[c];
            }
            if (last && (p.flags & FLAG_GELU) != 0u) {
                v = gelu(v);
            }
            y[at] = v;
        }
    }
}
