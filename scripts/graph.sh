#!/usr/bin/env bash
# Renders the backward graph of the README's example to docs/images/readme_graph.svg and .png:
# examples/readme_example prints `to_dot(loss)` (autograd/dot.h) and Graphviz's `dot` draws it.
#   scripts/graph.sh [BUILD_DIR]        # default build dir: build
# Any DOT text renders the same way: `to_dot(t)` into a file, then `dot -Tsvg file -o out.svg`.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
out_dir=docs/images

scripts/setup.sh  # installs graphviz with the rest
if [ -f "$build_dir/build.ninja" ]; then
  ninja -C "$build_dir" -j "${EMBER_BUILD_JOBS:-$(nproc)}" examples/readme_example >/dev/null
else
  scripts/configure.sh "$build_dir"
fi

dot_file="$(mktemp --suffix=.dot)"
trap 'rm -f "$dot_file"' EXIT
# The example prints its results, then the graph (the `digraph ... }` block) when run without --quick.
"$build_dir/examples/readme_example" | sed -n '/^digraph/,/^}/p' >"$dot_file"
if [ ! -s "$dot_file" ]; then
  echo "graph.sh: readme_example printed no DOT graph" >&2
  exit 1
fi
mkdir -p "$out_dir"
dot -Tsvg "$dot_file" -o "$out_dir/readme_graph.svg"
dot -Tpng -Gdpi=96 "$dot_file" -o "$out_dir/readme_graph.png"
echo "graph.sh: wrote $out_dir/readme_graph.svg and $out_dir/readme_graph.png"
