//! Generates the unrolled parts of `shaders/matmul_tiled.wgsl` from a [`TileShape`]:
//! accumulator and load registers as named `vec4` variables, the global→register
//! loads (vec4 interior path and checked edge path), the register→panel stores, the
//! fully unrolled inner products of one k-tile, and the epilogue. Generated rather
//! than written as loops so every register index is a constant: per-invocation arrays
//! indexed at run time are what drivers demote to (slow) local memory.

use std::fmt::Write as _;

use super::TileShape;

const XYZW: [&str; 4] = ["x", "y", "z", "w"];

/// vec4 loads of A's panel per k-tile (all invocations together).
pub(crate) const fn a_vecs(t: &TileShape) -> u32 {
    t.tile_m * t.tile_k / 4
}

/// vec4 loads of B's panel per k-tile (all invocations together).
pub(crate) const fn b_vecs(t: &TileShape) -> u32 {
    t.tile_k * t.tile_n / 4
}

/// Loads per invocation of each panel.
fn per_thread(total: u32, threads: u32) -> u32 {
    total.div_ceil(threads)
}

/// `(marker, generated code)` for every `//@ NAME` line of the template.
pub(crate) fn sections(t: &TileShape) -> Vec<(&'static str, String)> {
    vec![
        ("DECLARE", declare(t)),
        ("LOAD", load(t)),
        ("STORE", store(t)),
        ("COMPUTE", compute(t)),
        ("EPILOGUE", epilogue(t)),
    ]
}

fn declare(t: &TileShape) -> String {
    let mut s = String::new();
    let threads = t.invocations();
    for i in 0..t.micro_m {
        for j in 0..t.micro_n / 4 {
            let _ = writeln!(s, "    var acc_{i}_{j} = vec4<f32>();");
        }
    }
    for j in 0..per_thread(a_vecs(t), threads) {
        let _ = writeln!(s, "    var la{j} = vec4<ELEM>();");
        let _ = writeln!(s, "    let ai{j} = li + {}u;", j * threads);
        let _ = writeln!(s, "    let ar{j} = ai{j} / {}u;", t.tile_k / 4);
        let _ = writeln!(s, "    let ak{j} = (ai{j} % {}u) * 4u;", t.tile_k / 4);
    }
    for j in 0..per_thread(b_vecs(t), threads) {
        let _ = writeln!(s, "    var lb{j} = vec4<ELEM>();");
        let _ = writeln!(s, "    let bi{j} = li + {}u;", j * threads);
        let _ = writeln!(s, "    let br{j} = bi{j} / {}u;", t.tile_n / 4);
        let _ = writeln!(s, "    let bc{j} = (bi{j} % {}u) * 4u;", t.tile_n / 4);
    }
    s
}

/// `if (guard) {` … `}` around a load or store when the panel's vec4s do not divide
/// evenly among the invocations.
fn guarded(body: String, index: &str, total: u32, threads: u32, j: u32) -> String {
    if (j + 1) * threads <= total { body } else { format!("        if ({index} < {total}u) {{\n{body}        }}\n") }
}

fn load(t: &TileShape) -> String {
    let threads = t.invocations();
    let (na, nb) = (per_thread(a_vecs(t), threads), per_thread(b_vecs(t), threads));
    let mut interior = String::new();
    let mut edge = String::new();
    for j in 0..na {
        let body = format!("        la{j} = a[(tile_row + ar{j}) * k4 + (kt + ak{j}) / 4u];\n");
        interior.push_str(&guarded(body, &format!("ai{j}"), a_vecs(t), threads, j));
        let mut e = format!(
            "        {{\n            let gr = tile_row + ar{j};\n            let gk = kt + ak{j};\n            var v = vec4<ELEM>();\n"
        );
        for (q, comp) in XYZW.iter().enumerate() {
            let _ = writeln!(
                e,
                "            if (gr < p.row1 && gk + {q}u < p.k1) {{ v.{comp} = a_at(gr * p.k + gk + {q}u); }}"
            );
        }
        let _ = writeln!(e, "            la{j} = v;\n        }}");
        edge.push_str(&guarded(e, &format!("ai{j}"), a_vecs(t), threads, j));
    }
    for j in 0..nb {
        let body = format!("        lb{j} = b[(kt + br{j}) * n4 + (tile_col + bc{j}) / 4u];\n");
        interior.push_str(&guarded(body, &format!("bi{j}"), b_vecs(t), threads, j));
        let mut e = format!(
            "        {{\n            let gk = kt + br{j};\n            let gc = tile_col + bc{j};\n            var v = vec4<ELEM>();\n"
        );
        for (q, comp) in XYZW.iter().enumerate() {
            let _ = writeln!(
                e,
                "            if (gk < p.k1 && gc + {q}u < p.col1) {{ v.{comp} = b_at(gk * p.n + gc + {q}u); }}"
            );
        }
        let _ = writeln!(e, "            lb{j} = v;\n        }}");
        edge.push_str(&guarded(e, &format!("bi{j}"), b_vecs(t), threads, j));
    }
    format!(
        "        if (full && kt + TILE_K <= p.k1 && p.col0 % 4u == 0u) {{\n{interior}        }} else {{\n{edge}        }}\n"
    )
}

fn store(t: &TileShape) -> String {
    let threads = t.invocations();
    let mut s = String::new();
    for j in 0..per_thread(a_vecs(t), threads) {
        let mut body = String::new();
        // Row ar of A at depths ak..ak+3 goes to 4 k rows of the k-major panel.
        for (q, comp) in XYZW.iter().enumerate() {
            let _ = writeln!(
                body,
                "        a_panel[a_dst + (ak{j} + {q}u) * (A_STRIDE / 4u) + ar{j} / 4u][ar{j} % 4u] = la{j}.{comp};"
            );
        }
        s.push_str(&guarded(body, &format!("ai{j}"), a_vecs(t), threads, j));
    }
    for j in 0..per_thread(b_vecs(t), threads) {
        let body = format!("        b_panel[b_dst + br{j} * (TILE_N / 4u) + bc{j} / 4u] = lb{j};\n");
        s.push_str(&guarded(body, &format!("bi{j}"), b_vecs(t), threads, j));
    }
    s
}

fn compute(t: &TileShape) -> String {
    let (rg, cg) = (t.micro_m / 4, t.micro_n / 4);
    let mut s = String::new();
    for kk in 0..t.tile_k {
        s.push_str("        {\n");
        for g in 0..rg {
            let _ = writeln!(
                s,
                "            let a{g} = vec4<f32>(a_panel[a_base + {}u + {g}u * THREADS_Y + ty]);",
                kk * (t.tile_m + 4) / 4
            );
        }
        for g in 0..cg {
            let _ = writeln!(
                s,
                "            let b{g} = vec4<f32>(b_panel[b_base + {}u + {g}u * THREADS_X + tx]);",
                kk * t.tile_n / 4
            );
        }
        for i in 0..t.micro_m {
            let (g, comp) = (i / 4, XYZW[(i % 4) as usize]);
            for j in 0..cg {
                let _ = writeln!(s, "            acc_{i}_{j} = fma(vec4<f32>(a{g}.{comp}), b{j}, acc_{i}_{j});");
            }
        }
        s.push_str("        }\n");
    }
    s
}

fn epilogue(t: &TileShape) -> String {
    let cg = t.micro_n / 4;
    let mut full = String::new();
    let mut edge = String::new();
    for i in 0..t.micro_m {
        let row = format!("tile_row + {}u * THREADS_Y + ty * 4u + {}u", (i / 4) * 4, i % 4);
        for j in 0..cg {
            let col = format!("tile_col + {}u * THREADS_X + tx * 4u", j * 4);
            let _ = writeln!(full, "        {{\n            let o = ({row}) * p.n + {col};");
            let _ = writeln!(edge, "        {{\n            let r = {row};\n            let col = {col};");
            let _ = writeln!(edge, "            let o = r * p.n + col;");
            for (q, comp) in XYZW.iter().enumerate() {
                let _ = writeln!(full, "            put(o + {q}u, acc_{i}_{j}.{comp});");
                let _ = writeln!(
                    edge,
                    "            if (r < p.row1 && col + {q}u < p.col1) {{ put(o + {q}u, acc_{i}_{j}.{comp}); }}"
                );
            }
            full.push_str("        }\n");
            edge.push_str("        }\n");
        }
    }
    format!("    if (full) {{\n{full}    }} else {{\n{edge}    }}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::kernels::shape::TILED;

    #[test]
    fn every_register_index_is_a_constant() {
        for t in TILED {
            let code: String = sections(&t).into_iter().map(|(_, c)| c).collect();
            assert!(!code.contains("for ("), "{t:?}: generated code must be unrolled");
            let accs = code.matches("var acc_").count() as u32;
            assert_eq!(accs, t.micro_m * t.micro_n / 4, "{t:?}");
            // One vec4 FMA per (row, column group) per k step.
            assert_eq!(code.matches("= fma(").count() as u32, t.tile_k * t.micro_m * t.micro_n / 4, "{t:?}");
        }
    }

    #[test]
    fn loads_are_guarded_only_when_the_panel_does_not_divide_evenly() {
        let small = TileShape { tile_m: 64, tile_n: 64, tile_k: 8, micro_m: 4, micro_n: 4 };
        // 64·8/4 = 128 vec4s for 256 invocations: half of them load.
        assert!(load(&small).contains("if (ai0 < 128u)"));
        let big = TileShape { tile_m: 128, tile_n: 128, tile_k: 16, micro_m: 8, micro_n: 8 };
        assert!(!load(&big).contains("if (ai"));
    }
}
