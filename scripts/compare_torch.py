#!/usr/bin/env python3
"""Side-by-side timings: Ember's microbenchmarks against the same workloads in PyTorch (CPU).

    scripts/compare_torch.py [--json FILE] [--threads N] [--repetitions N]

Our figures come from FILE (written by `scripts/bench.sh --json FILE`), or from running
scripts/bench.sh when no FILE is given. PyTorch runs in this process with torch.set_num_threads(N)
(default 2, or OMP_NUM_THREADS when set, to match Ember's OpenMP threads). Prints one row per
workload: ember ms, torch ms (medians) and torch/ember (above 1: Ember is faster).
Without an importable PyTorch it says so and exits 0. Standard library only, apart from torch.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

SYSTEM_PYTHON = "/usr/bin/python3"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
MODIFIER = re.compile(r"/(iterations:\d+|repeats:\d+|real_time|manual_time|process_time|min_time:[^/]+|min_warmup_time:[^/]+)")


def import_torch():
    try:
        import torch  # noqa: F401
        return torch
    except ImportError:
        return None


# ---------------------------------------------------------------- PyTorch workloads
# Each builder returns a zero-argument callable that runs one iteration, mirroring test/bench/.

def gemm_f32_1024(torch):
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    return lambda: torch.mm(a, b)


def conv2d_f32_b32_c64_hw32_k3_fwdbwd(torch):
    x = torch.randn(32, 64, 32, 32, requires_grad=True)
    w = torch.randn(64, 64, 3, 3, requires_grad=True)

    def step():
        x.grad = w.grad = None
        torch.nn.functional.conv2d(x, w, padding=1).sum().backward()
    return step


def layer_norm_f32_4096x768_fwdbwd(torch):
    x = torch.randn(4096, 768, requires_grad=True)
    weight = torch.randn(768, requires_grad=True)
    bias = torch.randn(768, requires_grad=True)

    def step():
        x.grad = weight.grad = bias.grad = None
        torch.nn.functional.layer_norm(x, (768,), weight, bias).sum().backward()
    return step


def softmax_attn_b4h4_L4096_d64_fwdbwd(torch):
    # Naive causal attention, as PyTorch 1.13 (no fused scaled_dot_product_attention) runs it.
    shape = (4, 4, 4096, 64)
    q, k, v = (torch.randn(*shape, requires_grad=True) for _ in range(3))
    keep = torch.ones(4096, 4096, dtype=torch.bool).tril()

    def step():
        q.grad = k.grad = v.grad = None
        scores = q @ k.transpose(-2, -1) / 64 ** 0.5
        scores = scores.masked_fill(~keep, float("-inf"))
        (torch.softmax(scores, dim=-1) @ v).sum().backward()
    return step


def softmax_attn_b4h4_L1024_d64_fwd(torch):
    q, k, v = (torch.randn(4, 4, 1024, 64) for _ in range(3))

    def step():
        with torch.no_grad():
            torch.softmax(q @ k.transpose(-2, -1) / 64 ** 0.5, dim=-1) @ v
    return step


WORKLOADS = {f.__name__: f for f in (gemm_f32_1024, conv2d_f32_b32_c64_hw32_k3_fwdbwd,
                                     layer_norm_f32_4096x768_fwdbwd, softmax_attn_b4h4_L4096_d64_fwdbwd,
                                     softmax_attn_b4h4_L1024_d64_fwd)}


def time_torch(torch, builder, repetitions):
    step = builder(torch)
    start = time.perf_counter()
    step()  # warm-up (allocations, oneDNN primitive creation)
    first_s = time.perf_counter() - start
    # Slow workloads (seconds per step) get fewer repetitions, as scripts/bench.sh does.
    count = repetitions if first_s < 5.0 else min(repetitions, 3)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


# ---------------------------------------------------------------- Ember figures
def ember_medians(json_path):
    with open(json_path) as f:
        data = json.load(f)
    if isinstance(data.get("medians_ms"), dict) and data["medians_ms"]:
        return {name: float(ms) for name, ms in data["medians_ms"].items()}
    samples = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = MODIFIER.sub("", b.get("run_name", b["name"]))
        samples.setdefault(name, []).append(b["real_time"] * UNIT_TO_MS[b["time_unit"]])
    return {name: statistics.median(times) for name, times in samples.items()}


def run_bench(json_path):
    subprocess.run([os.path.join(ROOT, "scripts", "bench.sh"), "--json", json_path], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="Ember figures from `scripts/bench.sh --json FILE` (default: run it)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "2")))
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()

    torch = import_torch()
    if torch is None and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) \
            and os.path.exists(SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)  # torch may live in the system python
    if torch is None:
        print(f"PyTorch is not importable by {SYSTEM_PYTHON}: nothing to compare "
              "(install python3-torch to get the side-by-side table).")
        return 0

    if args.json:
        ours = ember_medians(args.json)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ember.json")
            os.environ["OMP_NUM_THREADS"] = str(args.threads)
            run_bench(path)
            ours = ember_medians(path)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, {args.threads} threads; medians in ms")
    header = f"{'workload':<40} {'ember ms':>12} {'torch ms':>12} {'torch/ember':>12}"
    print(header)
    print("-" * len(header))
    for name in sorted(set(WORKLOADS) | set(ours)):
        ember_ms = ours.get(name)
        torch_ms = time_torch(torch, WORKLOADS[name], args.repetitions) if name in WORKLOADS else None
        ratio = f"{torch_ms / ember_ms:.2f}" if ember_ms and torch_ms else "-"
        ember_text = f"{ember_ms:.3f}" if ember_ms is not None else "-"
        torch_text = f"{torch_ms:.3f}" if torch_ms is not None else "-"
        print(f"{name:<40} {ember_text:>12} {torch_text:>12} {ratio:>12}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
