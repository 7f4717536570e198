#!/usr/bin/env python3
"""Plots a run's metrics.jsonl into loss.png and accuracy.png in the run folder, or the per-layer
parameter statistics of a BOCB grid (build/experiments/bocb) as ridge and box plots.

    scripts/plot.py runs/<experiment>/<name>        # or the path of a metrics.jsonl
    scripts/plot.py --layer-stats runs/bocb/<name>  # reads layer_stats.csv

--layer-stats writes, for each statistic (PL exponent alpha of the ESD, weight-histogram entropy, L2
norm, top-4 PCA energy; papers.md §1.1 (C)), layer_<statistic>_ridge.png (the paper's Fig. 6 / A2
style: per backbone, one density curve per optimizer over the layers of its trained models,
stacked) and layer_<statistic>.png (the same values as one box per optimizer).

Records are those the trainer writes (experiments/trainer/trainer.cpp): kind "train" (running
means within an epoch, every --log-every steps), "epoch" (the epoch's training means) and "eval"
(test loss, top-1, top-5). The x axis is the optimizer step. Needs matplotlib (Debian:
python3-matplotlib); the trainer runs this with /usr/bin/python3 at the end of a run.
"""
import csv
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server
import matplotlib.pyplot as plt  # noqa: E402


def read_records(path):
    records = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                # A run killed mid-write can leave a torn last line; everything before it is good.
                print(f"plot.py: {path}:{number}: skipping a line that is not JSON", file=sys.stderr)
    return records


def series(records, kind, key):
    points = [(r["step"], r[key]) for r in records if r.get("kind") == kind and key in r and "step" in r]
    return [p[0] for p in points], [p[1] for p in points]


def plot(records, out_path, key, ylabel, scale=1.0):
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for kind, label, style in (("train", "train (running mean)", "-"), ("epoch", "train (epoch)", "o"),
                               ("eval", "test", "s-")):
        steps, values = series(records, kind, key)
        if steps:
            axes.plot(steps, [v * scale for v in values], style, label=label, markersize=4)
    axes.set_xlabel("step")
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    if axes.lines:
        axes.legend()
    figure.tight_layout()
    figure.savefig(out_path, dpi=110)
    plt.close(figure)


LAYER_STATISTICS = (("alpha", "PL exponent α of the ESD"), ("entropy", "weight-histogram entropy (nats)"),
                    ("l2_norm", "L2 norm"), ("pca_energy_top4", "top-4 PCA energy ratio"))


def density(values, xs):
    """Gaussian kernel density of values at xs (Scott's bandwidth; a spike's width when all are equal)."""
    n = len(values)
    mean = sum(values) / n
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / max(1, n - 1))
    span = (max(xs) - min(xs)) or 1.0
    bandwidth = max(spread * n ** (-1 / 5), span / 100)
    norm = 1 / (n * bandwidth * math.sqrt(2 * math.pi))
    return [norm * sum(math.exp(-0.5 * ((x - v) / bandwidth) ** 2) for v in values) for x in xs]


def plot_layer_stats(grid_dir):
    path = os.path.join(grid_dir, "layer_stats.csv")
    if not os.path.isfile(path):
        print(f"plot.py: {path} not found", file=sys.stderr)
        return 1
    with open(path) as f:
        rows = list(csv.DictReader(f))
    backbones = list(dict.fromkeys(r["backbone"] for r in rows))
    optimizers = list(dict.fromkeys(r["optimizer"] for r in rows))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    written = []
    for key, label in LAYER_STATISTICS:
        # values[backbone][optimizer]: the statistic over every layer (and seed) of that cell.
        values = {b: {o: [float(r[key]) for r in rows if r["backbone"] == b and r["optimizer"] == o and r.get(key)]
                      for o in optimizers} for b in backbones}
        width = max(6, 1 + 0.6 * len(optimizers))
        box, box_axes = plt.subplots(1, len(backbones), figsize=(width * len(backbones), 4.5), squeeze=False)
        ridge, ridge_axes = plt.subplots(1, len(backbones), figsize=(4.5 * len(backbones), 1 + 0.55 * len(optimizers)),
                                         squeeze=False)
        for axes, ridge_axis, backbone in zip(box_axes[0], ridge_axes[0], backbones):
            names = [o for o in optimizers if values[backbone][o]]
            if names:
                axes.boxplot([values[backbone][o] for o in names])
                axes.set_xticks(range(1, len(names) + 1))
                axes.set_xticklabels(names, rotation=45, ha="right")
                everything = [v for o in names for v in values[backbone][o]]
                low, high = min(everything), max(everything)
                pad = 0.1 * (high - low) or 0.5 * abs(low) or 1.0
                xs = [low - pad + (high - low + 2 * pad) * i / 199 for i in range(200)]
                curves = [density(values[backbone][o], xs) for o in names]
                scale = 1.6 / max(max(c) for c in curves)  # the tallest ridge overlaps its neighbours a little
                # The first optimizer on top, as the table reads; each ridge filled over the ones below.
                for i, (name, curve) in enumerate(zip(names, curves)):
                    base = len(names) - 1 - i
                    ys = [base + scale * c for c in curve]
                    colour = colours[i % len(colours)]
                    ridge_axis.fill_between(xs, base, ys, color=colour, alpha=0.55, zorder=2 * i)
                    ridge_axis.plot(xs, ys, color=colour, linewidth=1, zorder=2 * i + 1)
                ridge_axis.set_yticks([len(names) - 1 - i for i in range(len(names))])
                ridge_axis.set_yticklabels(names)
            axes.set_title(backbone)
            axes.set_ylabel(label)
            axes.grid(True, alpha=0.3)
            ridge_axis.set_title(backbone)
            ridge_axis.set_xlabel(label)
            ridge_axis.grid(True, axis="x", alpha=0.3)
        for figure, name in ((box, f"layer_{key}.png"), (ridge, f"layer_{key}_ridge.png")):
            figure.tight_layout()
            out = os.path.join(grid_dir, name)
            figure.savefig(out, dpi=110)
            plt.close(figure)
            written.append(out)
    print("plots: " + ", ".join(written))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--layer-stats":
        return plot_layer_stats(argv[2])
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    target = argv[1]
    jsonl = target if target.endswith(".jsonl") else os.path.join(target, "metrics.jsonl")
    if not os.path.isfile(jsonl):
        print(f"plot.py: {jsonl} not found (pass a run folder holding metrics.jsonl)", file=sys.stderr)
        return 1
    run_dir = os.path.dirname(os.path.abspath(jsonl))
    records = read_records(jsonl)
    plot(records, os.path.join(run_dir, "loss.png"), "loss", "cross-entropy loss")
    plot(records, os.path.join(run_dir, "accuracy.png"), "acc", "top-1 accuracy (%)", scale=100.0)
    print(f"plots: {os.path.join(run_dir, 'loss.png')}, {os.path.join(run_dir, 'accuracy.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
