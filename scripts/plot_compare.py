#!/usr/bin/env python3
"""Plots the variants of a comparison run (build/experiments/sema) on shared axes, or the per-layer
statistics of a BOCB grid (build/experiments/bocb).

    scripts/plot_compare.py runs/sema/<name>
    scripts/plot_compare.py --layer-stats runs/bocb/<name>

--layer-stats is scripts/plot.py --layer-stats (ridge and box plots of the grid's layer_stats.csv).

The run folder holds one subfolder per variant (plain, ema, sema, lookahead), each with the
metrics.jsonl the trainer's format uses (kind "train": running training loss; kind "eval": test
loss and top-1). Writes compare_loss.png (training loss thin, test loss with markers, one colour per
variant) and compare_accuracy.png (test top-1), and flatness.png when flatness.csv is there (test
loss along a random direction around each variant's final weights). Needs matplotlib (Debian:
python3-matplotlib). Reuses scripts/plot.py's reader.
"""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot import plot_layer_stats, plt, read_records, series  # noqa: E402  (plot.py selects the Agg backend)


def variants(run_dir):
    names = []
    for name in sorted(os.listdir(run_dir)):
        if os.path.isfile(os.path.join(run_dir, name, "metrics.jsonl")):
            names.append(name)
    order = ["plain", "ema", "sema", "lookahead"]
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def main(argv):
    if len(argv) == 3 and argv[1] == "--layer-stats":
        return plot_layer_stats(argv[2])
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    run_dir = argv[1]
    names = variants(run_dir)
    if not names:
        print(f"plot_compare.py: no <variant>/metrics.jsonl under {run_dir}", file=sys.stderr)
        return 1
    records = {n: read_records(os.path.join(run_dir, n, "metrics.jsonl")) for n in names}
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    figure, axes = plt.subplots(figsize=(8, 5))
    for i, name in enumerate(names):
        colour = colours[i % len(colours)]
        steps, losses = series(records[name], "train", "loss")
        if steps:
            # Variants train identically until they first differ: distinct dashes keep overlaps visible.
            dash = ["-", "--", ":", "-."][i % 4]
            axes.plot(steps, losses, dash, color=colour, alpha=0.6, linewidth=1, label=f"{name} train")
        steps, losses = series(records[name], "eval", "loss")
        if steps:
            axes.plot(steps, losses, "o-", color=colour, markersize=4, label=f"{name} test")
    axes.set_xlabel("step")
    axes.set_ylabel("cross-entropy loss")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(os.path.join(run_dir, "compare_loss.png"), dpi=110)
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(8, 5))
    for i, name in enumerate(names):
        steps, accuracy = series(records[name], "eval", "acc")
        if steps:
            axes.plot(steps, [100 * a for a in accuracy], "o-", color=colours[i % len(colours)], markersize=4, label=name)
    axes.set_xlabel("step")
    axes.set_ylabel("test top-1 (%)")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(os.path.join(run_dir, "compare_accuracy.png"), dpi=110)
    plt.close(figure)
    written = ["compare_loss.png", "compare_accuracy.png"]

    flatness = os.path.join(run_dir, "flatness.csv")
    if os.path.isfile(flatness):
        curves = {}
        with open(flatness) as f:
            for row in csv.DictReader(f):
                curves.setdefault(row["variant"], []).append((float(row["alpha"]), float(row["loss"])))
        figure, axes = plt.subplots(figsize=(7, 4.5))
        for name, points in curves.items():
            points.sort()
            axes.plot([p[0] for p in points], [p[1] for p in points], "o-", markersize=3, label=name)
        axes.set_xlabel("α (step along a random filter-normalised direction)")
        axes.set_ylabel("test loss")
        axes.grid(True, alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(os.path.join(run_dir, "flatness.png"), dpi=110)
        plt.close(figure)
        written.append("flatness.png")
    print("plots: " + ", ".join(os.path.join(run_dir, w) for w in written))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
