#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the embedded default:
# an MLP trained on Fashion-MNIST (from Debian's dataset-fashion-mnist), written with ops and
# autograd only. Extra arguments go to the program (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/configure.sh build
exec build/examples/mnist_mlp "$@"
