#!/usr/bin/env python3
"""Log-log plots of a sequence-scaling run (build/experiments/seq_scaling).

    scripts/plot_scaling.py runs/seq_scaling/<name>      # or the path of a scaling.csv

Reads scaling.csv (method,length,seconds,peak_mb) and writes scaling_time.png (seconds of one
forward + backward vs sequence length) and scaling_memory.png (peak MiB vs length) next to it, one
line per method, with dotted O(L) and O(L^2) guides through the first point of the first method.
Needs matplotlib (Debian: python3-matplotlib).
"""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot import plt  # noqa: E402  (plot.py selects the Agg backend)


def read_scaling(path):
    """{method: [(length, seconds, peak_mb), ...]} in file order."""
    runs = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            runs.setdefault(row["method"], []).append(
                (int(row["length"]), float(row["seconds"]), float(row["peak_mb"])))
    return runs


def plot_scaling(runs, out_path, column, ylabel):
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for method, points in runs.items():
        axes.plot([p[0] for p in points], [p[column] for p in points], "o-", label=method, markersize=4)
    first = next((points for points in runs.values() if points), None)
    if first and first[0][column] > 0:
        lengths = sorted({p[0] for points in runs.values() for p in points})
        l0, y0 = first[0][0], first[0][column]
        for power, name in ((1, "O(L)"), (2, "O(L²)")):
            axes.plot(lengths, [y0 * (l / l0) ** power for l in lengths], ":", color="grey", linewidth=1)
            axes.annotate(name, (lengths[-1], y0 * (lengths[-1] / l0) ** power), color="grey", fontsize=8)
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("sequence length L")
    axes.set_ylabel(ylabel)
    axes.grid(True, which="both", alpha=0.3)
    if axes.lines:
        axes.legend()
    figure.tight_layout()
    figure.savefig(out_path, dpi=110)
    plt.close(figure)


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    path = argv[1]
    if os.path.isdir(path):
        path = os.path.join(path, "scaling.csv")
    if not os.path.isfile(path):
        print(f"plot_scaling.py: {path} not found", file=sys.stderr)
        return 1
    runs = read_scaling(path)
    folder = os.path.dirname(os.path.abspath(path))
    plot_scaling(runs, os.path.join(folder, "scaling_time.png"), 1, "seconds per forward + backward")
    plot_scaling(runs, os.path.join(folder, "scaling_memory.png"), 2, "peak memory (MiB)")
    print(f"plots: {folder}/scaling_time.png, scaling_memory.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
