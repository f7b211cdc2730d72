"""The body of scripts/gpu-bench: Idlewatt's matmul kernels next to cuBLAS, in one run.

For each precision (f32, f16) and size it runs `idlewatt-node bench --json` twice: once
to learn the time of one product, then with `--repeat` so the kernel works for about
--seconds while nvidia-smi samples the GPU's power (the node reports the window its
repeats ran in, in unix ms, so only samples inside it count). Then, if torch with CUDA
is importable, the same product through torch.matmul (cuBLAS; f32 with TF32 off, and
fp16) for the same time, with the same sampling. GFLOP per joule = work / (mean power x
window). NVML averages power over up to a second, so short windows are indicative only.
Standard library only (plus torch when present).
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time


def find_node(explicit):
    candidates = [explicit, os.environ.get("IDLEWATT_NODE"), "./idlewatt-node"]
    for base in [os.environ.get("CARGO_TARGET_DIR"), "target", os.path.expanduser("~/.cache/idlewatt-target")]:
        if base:
            candidates += [os.path.join(base, "release", "idlewatt-node"), os.path.join(base, "debug", "idlewatt-node")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    return None


class PowerSampler:
    """nvidia-smi power.draw every 50 ms in a thread, stamped with local unix time."""

    def __init__(self):
        self.samples = []  # (unix_ms, watts)
        self.proc = None
        self.why = None
        smi = shutil.which("nvidia-smi")
        if not smi:
            self.why = "nvidia-smi not found"
            return
        try:
            self.proc = subprocess.Popen(
                [smi, "--query-gpu=power.draw", "--format=csv,noheader,nounits", "-lms", "50", "-i", "0"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        except OSError as e:
            self.why = f"nvidia-smi failed: {e}"
            return
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.samples.append((time.time() * 1e3, float(line.strip())))
            except ValueError:
                pass

    def mean_watts(self, start_ms, end_ms):
        """Mean power in [start, end]; the nearest sample when none falls inside."""
        if not self.samples:
            return None
        inside = [w for t, w in self.samples if start_ms <= t <= end_ms]
        if inside:
            return sum(inside) / len(inside)
        mid = (start_ms + end_ms) / 2
        return min(self.samples, key=lambda s: abs(s[0] - mid))[1]

    def stop(self):
        if self.proc:
            self.proc.terminate()


def node_bench(node, data, size, precision, repeat, allow_software):
    args = [node, "bench", "--json", "--sizes", str(size), "--precision", precision, "--repeat", str(repeat)]
    if allow_software:
        args.append("--allow-software")
    env = dict(os.environ, IDLEWATT_DATA_DIR=data)
    out = subprocess.run(args, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"idlewatt-node bench failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def load_torch():
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return None, "torch missing: no cuBLAS reference (pip install torch)"
    if not torch.cuda.is_available():
        return None, "torch has no CUDA device: no cuBLAS reference"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return torch, None


def torch_bench(torch, size, precision, seconds, power):
    dtype = torch.float32 if precision == "f32" else torch.float16
    a = torch.rand(size, size, device="cuda", dtype=dtype) * 2 - 1
    b = torch.rand(size, size, device="cuda", dtype=dtype) * 2 - 1
    torch.matmul(a, b)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    torch.matmul(a, b)
    torch.cuda.synchronize()
    one = max(time.perf_counter() - t0, 1e-6)
    iters = max(1, math.ceil(seconds / one))
    start_ms = time.time() * 1e3
    t0 = time.perf_counter()
    for _ in range(iters):
        torch.matmul(a, b)
    torch.cuda.synchronize()
    elapsed = time.perf_counter() - t0
    end_ms = time.time() * 1e3
    flops = 2.0 * size ** 3
    watts = power.mean_watts(start_ms, end_ms) if power else None
    return {
        "gflops": flops * iters / elapsed / 1e9,
        "gflop_per_j": (flops * iters / 1e9) / (watts * elapsed) if watts else None,
        "watts": watts,
    }


def fmt(x, spec, missing="-"):
    return missing if x is None else format(x, spec)


def table(rows, notes):
    """The one table (a list of lines); rows are dicts as `main` builds them."""
    head = ["size", "prec", "idlewatt kernel", "GFLOP/s", "cuBLAS GFLOP/s", "ratio", "W", "GFLOP/J",
            "cuBLAS W", "cuBLAS GFLOP/J", "slice p50/max ms", "max rel err"]
    body = []
    for r in rows:
        iw, cu = r.get("idlewatt") or {}, r.get("cublas") or {}
        ratio = iw["gflops"] / cu["gflops"] if iw.get("gflops") and cu.get("gflops") else None
        body.append([
            str(r["size"]), r["precision"], iw.get("kernel", r.get("error", "-")), fmt(iw.get("gflops"), ",.0f"),
            fmt(cu.get("gflops"), ",.0f"), fmt(ratio, ".3f"), fmt(iw.get("watts"), ".0f"),
            fmt(iw.get("gflop_per_j"), ".2f"), fmt(cu.get("watts"), ".0f"), fmt(cu.get("gflop_per_j"), ".2f"),
            f"{iw['slice_p50_ms']:.2f}/{iw['slice_max_ms']:.2f}" if iw else "-",
            fmt(iw.get("max_rel_err"), ".1e"),
        ])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i != 2 else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return [line(head)] + [line(b) for b in body] + [f"note: {n}" for n in notes]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="gpu-bench", description=__doc__.splitlines()[0])
    ap.add_argument("--node", help="path of the built idlewatt-node")
    ap.add_argument("--sizes", default="1024,2048,4096,8192")
    ap.add_argument("--precisions", default="f32,f16")
    ap.add_argument("--seconds", type=float, default=1.5, help="time each measurement works for (power sampling)")
    ap.add_argument("--json", help="also write the rows as JSON to this file")
    ap.add_argument("--allow-software", action="store_true", help="allow lavapipe (to test this script)")
    args = ap.parse_args(argv)

    node = find_node(args.node)
    if not node:
        print("gpu-bench: idlewatt-node not found: pass --node PATH or set IDLEWATT_NODE", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    asked = [p.strip() for p in args.precisions.split(",") if p.strip()]
    notes = []
    data = tempfile.mkdtemp(prefix="idlewatt-gpu-bench-")
    power = PowerSampler()
    if power.why:
        notes.append(f"{power.why}: no power or energy figures")
    torch, why = load_torch()
    if why:
        notes.append(why)
    try:
        # Tune once (cached in `data`), and learn which precisions this GPU has.
        first = node_bench(node, data, 64, "all", 1, args.allow_software)
        have = first["precisions"]
        gpu = first["hardware"]["gpu"]
        tuned = {t["precision"]: t["label"] for t in (first.get("tuning") or {}).get("results", [])}
        print(f"GPU: {gpu['name']} ({gpu['backend']}, driver {gpu['driver']} {gpu['driver_info']}); "
              f"paths {', '.join(first['paths'])}; tuned: {tuned}", flush=True)
        rows = []
        for precision in asked:
            for size in sizes:
                row = {"size": size, "precision": precision}
                rows.append(row)
                if precision not in have:
                    row["error"] = f"no {precision} path on this GPU"
                    continue
                probe = node_bench(node, data, size, precision, 1, args.allow_software)["results"][0]
                repeat = max(1, min(100000, math.ceil(args.seconds * 1e3 / max(probe["gpu_ms"], 1e-3))))
                r = node_bench(node, data, size, precision, repeat, args.allow_software)["results"][0]
                start, end = r["window_start_unix_ms"], r["window_end_unix_ms"]
                watts = power.mean_watts(start, end) if power.proc else None
                work = 2.0 * size ** 3 * r["repeats"] / 1e9
                row["idlewatt"] = {
                    "kernel": f"{r['path']} {r['shape']}", "gflops": r["gpu_gflops"], "watts": watts,
                    "gflop_per_j": work / (watts * (end - start) / 1e3) if watts and end > start else None,
                    "slice_p50_ms": r["median_slice_ms"], "slice_max_ms": r["max_slice_ms"],
                    "max_rel_err": r["max_relative_error"], "repeats": r["repeats"],
                }
                if torch:
                    row["cublas"] = torch_bench(torch, size, precision, args.seconds, power if power.proc else None)
                print(f"  {precision} {size}: done", file=sys.stderr, flush=True)
    finally:
        power.stop()
        shutil.rmtree(data, ignore_errors=True)
    print("\n".join(table(rows, notes)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"gpu": gpu, "rows": rows, "notes": notes}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
