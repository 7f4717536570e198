#!/usr/bin/env python3
"""Plots a run's metrics.jsonl into loss.png and accuracy.png in the run folder.

    scripts/plot.py runs/<experiment>/<name>        # or the path of a metrics.jsonl

Records are those the trainer writes (experiments/trainer/trainer.cpp): kind "train" (running
means within an epoch, every --log-every steps), "epoch" (the epoch's training means) and "eval"
(test loss, top-1, top-5). The x axis is the optimizer step. Needs matplotlib (Debian:
python3-matplotlib); the trainer runs this with /usr/bin/python3 at the end of a run.
"""
import json
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


def main(argv):
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
