#!/usr/bin/env bash
# The main job: the BOCB backbone × optimizer grid (papers.md §1) on real Fashion-MNIST,
# `bocb --preset quick`: a classic CNN (ResNet-8, width 8), a small ViT (2 blocks, patch 7) and an
# MLP, each trained with two optimizers of each of the paper's four categories (SGD, LION | AdamW,
# LAMB | LARS, AdaBelief | AdaGrad, RMSProp) with the tuned lr / wd of §1.5, then Table 1 for this
# grid (failures and top-4 marked), per-layer parameter statistics and their ridge / box plots.
# It is there to show the coupling: in the smaller grid measured so far SGD was the CNN's second
# best and the ViT's worst (23 points behind AdamW). Budget: ~28 CPU-minutes estimated from measured
# per-image CPU time, two cells at a time (one thread each): ~15 minutes on an idle 2-core machine
# (experiments/README.md has the measurements).
# Installs what is missing and builds first. It prints the grid folder (results.md, results.jsonl,
# layer_stats.csv, layer_*.png, cells/<cell>/ with each cell's metrics and checkpoints); kill it and
# rerun the same command to continue cell by cell.
# Extra arguments go to the bocb binary (try --help), e.g. `scripts/run.sh --hp-search --name search`.
# The single-model job of before: the `train` command in README.md (--quick: a smoke run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/configure.sh build
exec build/experiments/bocb --preset quick "$@"
