#!/usr/bin/env bash
# Runs the attention kernels (cuda/attention.cu, cuda/linear_attention.cu) on the CPU: each CUDA
# thread is a std::thread, __syncthreads a std::barrier, warp shuffles go through a buffer (emu.h),
# and launches are rewritten to emu::launch (rewrite.py). It checks the kernels' logic (indexing,
# barriers, online softmax, masks, dropout, chunked scans, 16-bit conversions) against naive
# double-precision references without a GPU; it cannot check timing, occupancy or real-hardware
# races beyond what a barrier-faithful interleaving exposes. Not part of the meson build (g++ only).
#   test/cuda/emulator/run.sh       (from the repository root; ~1 min, spawns 256 threads per block)
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
here="$root/test/cuda/emulator"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/inc/cuda"
python3 "$here/rewrite.py" "$root/cuda/smem_tiles.cuh" "$work/inc/cuda/smem_tiles.cuh"
python3 "$here/rewrite.py" "$root/cuda/attention.cu" "$work/attention_emu.inc"
python3 "$here/rewrite.py" "$root/cuda/linear_attention.cu" "$work/linear_emu.inc"
for program in emu_attn emu_linear; do
  g++ -std=c++20 -O1 -w -I"$work" -I"$work/inc" -I"$here" -I"$root" -I/usr/local/cuda/include \
    "$here/$program.cpp" -o "$work/$program" -lpthread
  "$work/$program"
done
