#!/usr/bin/env bash
# Runs Ember's CUDA kernels on the CPU, without a GPU: emu.h emulates the execution model (each
# CUDA thread a std::thread, __syncthreads a std::barrier, warp shuffles through a buffer, atomics
# through std::atomic_ref) and rewrite.py turns each cuda/<family>.cu into host C++ (launches ->
# emu::launch, __shared__ -> statics); each emu_<family>.cpp includes its rewritten .cu, calls the
# launchers (cuda/<family>_launch.h) on host memory and compares with naive double-precision
# references or the engine's CPU formulas. It checks the kernels' logic (indexing, strides, barriers,
# warp and block reductions, masks, 16-bit conversions); it cannot check timing, occupancy,
# real-hardware races beyond what a barrier-faithful interleaving exposes, nor the library calls
# (cuBLAS, cuDNN, cuFFT; CUB's sorts are host stand-ins in emu.h). Shared memory is filled with 0xff
# before every block. docs/GPU.md "The host emulator" lists the programs. Not part of the meson
# build or CI (it spawns 256-1024 threads per block).
#   test/cuda/emulator/run.sh              every program (~5 min on two shared cores, mostly compiling)
#   test/cuda/emulator/run.sh copy optim   some of them (names: the emu_<name>.cpp files)
#   EMU_VERBOSE=1 test/cuda/emulator/run.sh ...   prints every case, not only the failures
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
here="$root/test/cuda/emulator"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/inc/cuda"
# the device headers (some hold __shared__ arrays or launches), rewritten where the .cu files include them
for header in "$root"/cuda/*.cuh; do
  python3 "$here/rewrite.py" "$header" "$work/inc/cuda/$(basename "$header")"
done
# the engine's Philox functions, verbatim, for emu_dropout's reference
{ sed -n '/^std::array<uint32_t, 4> philox4x32_block(/,/^}$/p; /^std::array<uint32_t, 4> philox4x32(/,/^}$/p' "$root/engine/random.cpp"
  sed -n '/^inline uint64_t bits53_from_lanes/,/^}$/p; /^inline double uniform_from_bits/,/^}$/p' "$root/engine/random.h"; } > "$work/engine_philox.inc"
# every kernel file, rewritten as <family>_emu.inc (a program may include more than one)
for source in "$root"/cuda/*.cu; do
  python3 "$here/rewrite.py" "$source" "$work/$(basename "$source" .cu)_emu.inc"
done
programs=("$@")
if [ ${#programs[@]} -eq 0 ]; then
  programs=(attn linear copy optim reduce softmax norm loss dropout embedding vq short_conv damped_ema long_conv
            elementwise unary activation sort pool index shape fold interpolate fft)
fi
# compile two programs at a time (the house limit), then run them one after another
for program in "${programs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
  opt=-O0  # the programs wait on barriers; -O0 halves the compile time
  case "$program" in attn|linear) opt=-O1 ;; esac  # these two do real arithmetic
  g++ -std=c++20 $opt -w -I"$work" -I"$work/inc" -I"$here" -I"$root" -I/usr/local/cuda/include \
    "$here/emu_$program.cpp" -o "$work/emu_$program" -lpthread &
done
wait
failed=()
for program in "${programs[@]}"; do
  # a deadlock (a barrier some thread never reaches) shows as a timeout
  if [ ! -x "$work/emu_$program" ] || ! timeout 300 "$work/emu_$program"; then failed+=("$program"); fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "emulator: FAILED: ${failed[*]}"
  exit 1
fi
echo "emulator: all programs passed"
