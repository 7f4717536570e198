#!/usr/bin/env python3
"""Side-by-side timings: Ember's microbenchmarks against the same workloads in PyTorch (CPU).

    scripts/compare_torch.py [--json FILE] [--threads N] [--repetitions N] [--torch-only] [FILTER]

Our figures come from FILE (written by `scripts/bench.sh --json FILE`), or from running
scripts/bench.sh when no FILE is given. PyTorch runs in this process with torch.set_num_threads(N)
(default 2, or OMP_NUM_THREADS when set, to match Ember's OpenMP threads). Prints one row per
workload: ember ms, torch ms (medians) and torch/ember (above 1: Ember is faster).
FILTER (a regex, searched in the names) limits both sides to matching workloads; --torch-only
skips Ember (for interleaving runs: `scripts/bench.sh train_step; scripts/compare_torch.py
--torch-only train_step; ...`).
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


# ---- whole training steps (issue 3, "Speed"); twins of test/bench/bench_train_step.cpp (the zoo's
# resnet18 / vit_tiny / mlp with optim::SGD)
def _sgd_train_step(torch, model, x, target):
    """zero_grad, forward, cross-entropy, backward, SGD momentum step: one iteration."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), target).backward()
        optimizer.step()
    return step


def _resnet18_cifar(torch):
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + identity)

    layers, cin = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()], 64
    for width in (64, 128, 256, 512):
        for b in range(2):
            layers.append(BasicBlock(cin, width, 2 if b == 0 and width != 64 else 1))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


def _vit_tiny_p4(torch, dim=192, depth=6, heads=3, patch=4, image=32, classes=10):
    nn = torch.nn

    class Block(nn.Module):  # pre-norm, qkv Linear, naive attention (PyTorch 1.13 has no fused SDPA)
        def __init__(self):
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
            self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
            self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

        def forward(self, x):
            n, t, d = x.shape
            q, k, v = self.qkv(self.norm1(x)).reshape(n, t, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
            attn = torch.softmax(q @ k.transpose(-2, -1) * (d // heads) ** -0.5, dim=-1)
            x = x + self.proj((attn @ v).transpose(1, 2).reshape(n, t, d))
            return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.norm2(x))))

    class Vit(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch = nn.Conv2d(3, dim, patch, patch)
            self.pos = nn.Parameter(torch.randn(1, (image // patch) ** 2, dim) * 0.02)
            self.blocks = nn.Sequential(*[Block() for _ in range(depth)])
            self.fc_norm, self.head = nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, classes)

        def forward(self, x):  # mean pooling, then the final norm (timm's global_pool="avg", as the zoo)
            h = self.patch(x).flatten(2).transpose(1, 2) + self.pos
            return self.head(self.fc_norm(self.blocks(h).mean(1)))
    return Vit()


def resnet18_cifar_b32_train_step(torch):
    return _sgd_train_step(torch, _resnet18_cifar(torch), torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,)))


def vit_tiny_p4_b32_train_step(torch):
    return _sgd_train_step(torch, _vit_tiny_p4(torch), torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,)))


def mlp_fmnist_b128_train_step(torch):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    return _sgd_train_step(torch, model, torch.randn(128, 784), torch.randint(0, 10, (128,)))


WORKLOADS = {f.__name__: f for f in (gemm_f32_1024, conv2d_f32_b32_c64_hw32_k3_fwdbwd,
                                     layer_norm_f32_4096x768_fwdbwd, softmax_attn_b4h4_L4096_d64_fwdbwd,
                                     softmax_attn_b4h4_L1024_d64_fwd, resnet18_cifar_b32_train_step,
                                     vit_tiny_p4_b32_train_step, mlp_fmnist_b128_train_step)}


def load_workload_modules():
    """Adds the builders of scripts/torch_workloads/*.py: every public function there (one
    module per op family, so each family's workloads sit beside nothing else)."""
    import importlib.util
    import inspect
    folder = os.path.join(ROOT, "scripts", "torch_workloads")
    for file in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not file.endswith(".py") or file.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location("torch_workloads_" + file[:-3], os.path.join(folder, file))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and fn.__module__ == module.__name__:
                WORKLOADS[name] = fn


load_workload_modules()


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


def run_bench(json_path, name_filter):
    subprocess.run([os.path.join(ROOT, "scripts", "bench.sh"), "--json", json_path]
                   + ([name_filter] if name_filter else []), check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="Ember figures from `scripts/bench.sh --json FILE` (default: run it)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "2")))
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--torch-only", action="store_true", help="time PyTorch only")
    parser.add_argument("filter", nargs="?", default="", help="regex: only workloads whose names match")
    args = parser.parse_args()

    torch = import_torch()
    if torch is None and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) \
            and os.path.exists(SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)  # torch may live in the system python
    if torch is None:
        print(f"PyTorch is not importable by {SYSTEM_PYTHON}: nothing to compare "
              "(install python3-torch to get the side-by-side table).")
        return 0

    if args.torch_only:
        ours = {}
    elif args.json:
        ours = ember_medians(args.json)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ember.json")
            os.environ["OMP_NUM_THREADS"] = str(args.threads)
            run_bench(path, args.filter)
            ours = ember_medians(path)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, {args.threads} threads; medians in ms")
    header = f"{'workload':<40} {'ember ms':>12} {'torch ms':>12} {'torch/ember':>12}"
    print(header)
    print("-" * len(header))
    for name in sorted(set(WORKLOADS) | set(ours)):
        if not re.search(args.filter, name):
            continue
        ember_ms = ours.get(name)
        torch_ms = time_torch(torch, WORKLOADS[name], args.repetitions) if name in WORKLOADS else None
        ratio = f"{torch_ms / ember_ms:.2f}" if ember_ms and torch_ms else "-"
        ember_text = f"{ember_ms:.3f}" if ember_ms is not None else "-"
        torch_text = f"{torch_ms:.3f}" if torch_ms is not None else "-"
        print(f"{name:<40} {ember_text:>12} {torch_text:>12} {ratio:>12}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
