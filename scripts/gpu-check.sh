#!/usr/bin/env bash
# The one command a session lent a GPU runs (issue 5, docs/GPU.md "How a GPU session verifies").
#
#   scripts/gpu-check.sh --prepare   # HERE (a build machine with nvcc, meson and the Debian packages):
#                                    # builds build-gpu-meson/ (-Dcuda=enabled -Dnative=false), then
#                                    # packs the self-contained bundle build-gpu/ (stripped test and
#                                    # bench binaries + every non-CUDA shared library they need)
#   scripts/gpu-check.sh             # THERE (the GPU machine: no Debian packages, no network): runs the
#                                    # carried build-gpu/: the CUDA suite, every bundled suite's device
#                                    # cases, the GPU benchmarks; logs to $OUT/gpu-check-<date> (or
#                                    # runs/gpu-check-<date>); prints a summary table last
#
# Exit status: 0 all passed; 1 a test or benchmark failed; 2 no CUDA device; 3 the bundle is
# missing or cannot load its libraries. Sized for the lent machine: well under 8 minutes.
# Environment: EMBER_BUILD_JOBS (prepare, default 2), EMBER_GPU_SUITES (prepare: test suites to
# bundle besides cuda, e.g. "models"), EMBER_GPU_MESON_DIR (prepare: the build to bundle, default
# build-gpu-meson), EMBER_GPU_BUNDLE (default build-gpu),
# EMBER_GPU_TEST_TIMEOUT / EMBER_GPU_BENCH_TIMEOUT (seconds, defaults 270 / 110: with a crashed
# suite's sync_debug rerun (90 s) the worst case stays near 6.5 minutes).
set -uo pipefail
cd "$(dirname "$0")/.."

bundle="${EMBER_GPU_BUNDLE:-build-gpu}"
# The meson build --prepare uses; EMBER_GPU_MESON_DIR=build-cuda bundles an existing CUDA build
# instead (to try the bundling: the MANIFEST then says the binaries use -march=native).
meson_dir="${EMBER_GPU_MESON_DIR:-build-gpu-meson}"
max_bundle_bytes=$((60 * 1024 * 1024))

die() {
  echo "gpu-check: $2" >&2
  exit "$1"
}

# ---------------------------------------------------------------- --prepare (build machine)
# Shared libraries the GPU machine provides itself: glibc's, the driver's, and the CUDA toolkit's
# big libraries (cuBLAS, cuDNN, cuFFT, NCCL: hundreds of MB, never carried). Everything else
# ldd reports is copied into the bundle.
is_provided_there() {
  case "$1" in
    linux-vdso.so* | ld-linux* | libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so*) return 0 ;;
    libcuda.so* | libnvidia* | libcublas* | libcublasLt* | libcudnn* | libcufft* | libnccl* | libnvrtc* | libnvJitLink*) return 0 ;;
    libcurand* | libcusolver* | libcusparse* | libcupti* | libnvToolsExt*) return 0 ;;
  esac
  return 1
}

prepare() {
  command -v nvcc >/dev/null || die 3 "--prepare needs nvcc (the CUDA toolkit) on this machine"
  command -v meson >/dev/null || die 3 "--prepare needs meson"
  local jobs="${EMBER_BUILD_JOBS:-2}"
  local suites=(cuda ${EMBER_GPU_SUITES:-})
  if [ ! -f "$meson_dir/build.ninja" ]; then
    # -Dnative=false: the GPU machine's CPU may lack our AVX-512. (meson links the executables
    # through nvcc, so libstdc++ and libgcc_s are bundled below like the other libraries.)
    meson setup "$meson_dir" -Dcuda=enabled -Dnative=false -Dbuildtype=release -Dwerror=true >/dev/null ||
      die 3 "meson setup failed"
  fi
  local targets=(test/bench/ember_bench)
  for s in "${suites[@]}"; do targets+=("test/test_$s"); done
  echo "gpu-check --prepare: building ${targets[*]} in $meson_dir (-j$jobs)"
  if ! ninja -C "$meson_dir" -j "$jobs" "${targets[@]}" >"$meson_dir/gpu-build.log" 2>&1; then
    tail -40 "$meson_dir/gpu-build.log"
    die 3 "build failed (log: $meson_dir/gpu-build.log)"
  fi

  rm -rf "$bundle"
  mkdir -p "$bundle/test/bench" "$bundle/lib"
  local binaries=("$bundle/test/bench/ember_bench")
  strip -o "$bundle/test/bench/ember_bench" "$meson_dir/test/bench/ember_bench"
  for s in "${suites[@]}"; do
    strip -o "$bundle/test/test_$s" "$meson_dir/test/test_$s"
    binaries+=("$bundle/test/test_$s")
  done

  # Every library the binaries (and, transitively, their libraries) load, by soname.
  local name path
  while read -r name path; do
    is_provided_there "$name" && continue
    if [ ! -f "$bundle/lib/$name" ]; then
      cp -L "$path" "$bundle/lib/$name"
      strip --strip-unneeded "$bundle/lib/$name" 2>/dev/null || true
    fi
  done < <(ldd "${binaries[@]}" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u)
  # glibc for a machine whose own is older than ours: only used through its loader (`runner` below).
  mkdir -p "$bundle/lib/glibc"
  ldd "$bundle/test/test_cuda" | awk '$1 ~ /^\/.*ld-linux/ { print $1 } $1 ~ /^lib(c|m)\.so/ { print $3 }' |
    while read -r path; do cp -L "$path" "$bundle/lib/glibc/$(basename "$path")"; done

  local glibc_needed
  glibc_needed=$(objdump -T "${binaries[@]}" "$bundle"/lib/*.so* 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
  {
    echo "ember GPU bundle (scripts/gpu-check.sh --prepare)"
    echo "commit: $(git rev-parse HEAD 2>/dev/null) $(git status --porcelain 2>/dev/null | grep -q . && echo '(with uncommitted changes)')"
    echo "built: $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), nvcc $(nvcc --version | grep -o 'release [0-9.]*')"
    if grep -q -- "-march=native" "$meson_dir/build.ninja"; then
      echo "options: $meson_dir uses -march=native: NOT portable to another CPU (use the default build-gpu-meson)"
    else
      echo "options: -Dcuda=enabled -Dnative=false (no -march=native), -Dbuildtype=release"
    fi
    echo "needs there: glibc >= ${glibc_needed#GLIBC_} (or the bundled lib/glibc), an NVIDIA driver for CUDA $(nvcc --version | grep -o 'release [0-9.]*' | cut -d' ' -f2), and the toolkit's cuBLAS/cuDNN/cuFFT if linked:"
    ldd "${binaries[@]}" | awk '$2 == "=>" { print $1 }' | sort -u | while read -r lib; do
      is_provided_there "$lib" && case "$lib" in libcu* | libnccl* | libnv*) echo "  $lib" ;; esac
    done
    echo "files:"
    (cd "$bundle" && find . -type f -printf '  %p %s\n' | sort)
  } >"$bundle/MANIFEST"

  # Self-contained: with the bundle's lib/ first, every library not provided there resolves inside it.
  echo "gpu-check --prepare: libraries the bundle loads from itself:"
  local outside
  LD_LIBRARY_PATH="$bundle/lib" ldd "${binaries[@]}" 2>/dev/null | awk '$2 == "=>" { print $1, $3 }' | sort -u |
    while read -r name path; do
      if is_provided_there "$name"; then continue; fi
      echo "  $name"
    done
  outside=$(LD_LIBRARY_PATH="$bundle/lib" ldd "${binaries[@]}" 2>/dev/null | awk '$2 == "=>" { print $1, $3 }' |
    sort -u | while read -r name path; do
      is_provided_there "$name" || case "$path" in "$bundle"/lib/*) ;; *) echo "$name => $path" ;; esac
    done)
  [ -z "$outside" ] || die 3 "these libraries would not come from the bundle: $outside"

  local bytes
  bytes=$(du -sb "$bundle" | cut -f1)
  echo "gpu-check --prepare: $bundle is $((bytes / 1024 / 1024)) MiB ($bytes bytes; limit $((max_bundle_bytes / 1024 / 1024)) MiB)"
  if [ "$bytes" -gt "$max_bundle_bytes" ]; then
    # Too big to carry as is: keep the libraries as one gzip archive, unpacked on arrival.
    tar -C "$bundle" -czf "$bundle/lib.tar.gz" lib && rm -rf "$bundle/lib"
    bytes=$(du -sb "$bundle" | cut -f1)
    echo "gpu-check --prepare: libraries packed into lib.tar.gz: now $((bytes / 1024 / 1024)) MiB"
    [ "$bytes" -gt "$max_bundle_bytes" ] && die 3 "$bundle is still over the limit: bundle fewer suites"
  fi
  echo "gpu-check --prepare: done. On the GPU machine: scripts/gpu-check.sh (carry [\"$bundle\"])"
}

# ---------------------------------------------------------------- run (GPU machine)
lib_dir=""
runner=()  # the bundled glibc's loader, when this machine's glibc is too old

# Where the CUDA toolkit's libraries may live when they are not in the loader's cache.
cuda_library_dirs() {
  local d
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    [ -d "$d" ] && echo "$d"
  done
  # pip wheels (PyTorch's nvidia-* packages) carry cuBLAS/cuDNN/... under site-packages/nvidia/*/lib.
  if command -v python3 >/dev/null; then
    python3 - 2>/dev/null <<'EOF'
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
for root in roots:
    for d in sorted(glob.glob(os.path.join(root, "nvidia", "*", "lib"))):
        print(d)
EOF
  fi
}

setup_libraries() {
  [ -d "$bundle" ] || die 3 "no bundle at $bundle/: run 'scripts/gpu-check.sh --prepare' on a build machine and carry [\"$bundle\"]"
  lib_dir="$bundle/lib"
  if [ -f "$bundle/lib.tar.gz" ]; then
    local unpack="${TMPDIR:-/tmp}/ember-gpu-bundle-$$"
    mkdir -p "$unpack" && tar -C "$unpack" -xzf "$bundle/lib.tar.gz" || die 3 "cannot unpack $bundle/lib.tar.gz"
    trap "rm -rf '$unpack'" EXIT
    lib_dir="$unpack/lib"
  fi
  local extra
  extra=$(cuda_library_dirs | paste -sd: -)
  export LD_LIBRARY_PATH="$lib_dir${extra:+:$extra}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # A glibc older than the build machine's: run through the bundled loader and libc instead.
  if "$bundle/test/test_cuda" --help 2>&1 | grep -q "GLIBC_.*not found"; then
    [ -x "$lib_dir/glibc/ld-linux-x86-64.so.2" ] || die 3 "this machine's glibc is too old and the bundle has no lib/glibc"
    runner=("$lib_dir/glibc/ld-linux-x86-64.so.2" --library-path "$lib_dir/glibc:$LD_LIBRARY_PATH")
  fi
}

# "passed failed" from a Catch2 log ("All tests passed (A assertions in N test cases)" or
# "test cases: N | P passed | F failed"); no summary (a crash or a timeout) counts as one failure.
catch2_counts() {
  local log="$1" status="$2" passed=0 failed=1
  if grep -q "^All tests passed" "$log"; then
    passed=$(grep "^All tests passed" "$log" | sed -E 's/.* in ([0-9]+) test case.*/\1/')
    failed=0
  elif grep -q "^test cases:" "$log"; then
    passed=$(grep "^test cases:" "$log" | sed -E 's/.*\| *([0-9]+) passed.*/\1/')
    failed=$(grep "^test cases:" "$log" | sed -E 's/.*\| *([0-9]+) failed.*/\1/')
    [[ "$passed" =~ ^[0-9]+$ ]] || passed=0
    [[ "$failed" =~ ^[0-9]+$ ]] || failed=1
  elif grep -q "^No tests ran" "$log"; then
    failed=0
  fi
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo "$passed $failed"
}

run_checks() {
  setup_libraries
  local stamp log_dir
  stamp=$(date -u '+%Y%m%d-%H%M%S')
  if [ -n "${OUT:-}" ]; then log_dir="$OUT/gpu-check-$stamp"; else log_dir="runs/gpu-check-$stamp"; fi
  mkdir -p "$log_dir" || die 3 "cannot create $log_dir"
  echo "gpu-check: logs in $log_dir"
  [ -f "$bundle/MANIFEST" ] && cp "$bundle/MANIFEST" "$log_dir/MANIFEST"

  # The bundle must load: every library resolves (inside it or from the CUDA toolkit here).
  local missing
  missing=$(ldd "$bundle"/test/test_* "$bundle/test/bench/ember_bench" 2>&1 | grep "not found" | sort -u)
  if [ -n "$missing" ] && [ ${#runner[@]} -eq 0 ]; then
    echo "$missing" | tee "$log_dir/missing-libraries.txt" >&2
    die 3 "libraries missing on this machine (above); LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  fi

  if command -v nvidia-smi >/dev/null; then
    nvidia-smi >"$log_dir/nvidia-smi.txt" 2>&1
  else
    echo "nvidia-smi: not installed here" >"$log_dir/nvidia-smi.txt"
  fi
  # A device? The suite registers its device cases only when cuda::device_count() > 0 and says
  # "SKIPPED (no CUDA device)" otherwise: that line, from our own binary, is the answer.
  local probe
  probe=$("${runner[@]}" "$bundle/test/test_cuda" --list-tests "[device]" 2>&1)
  echo "$probe" >"$log_dir/device-probe.log"
  if echo "$probe" | grep -q "SKIPPED (no CUDA device)"; then
    grep -m1 -i "nvidia-smi\|failed\|error" "$log_dir/nvidia-smi.txt" | sed 's/^/gpu-check: /' >&2 || true
    die 2 "no CUDA device on this machine: nothing to check (the bundle loads and runs; logs in $log_dir)"
  fi
  if echo "$probe" | grep -q "SKIPPED (built without CUDA)"; then
    die 3 "the bundle was built without CUDA: rerun --prepare on a machine with nvcc"
  fi

  local start=$SECONDS total_passed=0 total_failed=0 suites_run="" status exe suite
  for exe in "$bundle"/test/test_*; do
    suite=$(basename "$exe" | sed 's/^test_//')
    local filter=()
    [ "$suite" = cuda ] || filter=("[device]")  # other suites: only their device cases
    local log="$log_dir/test_$suite.log"
    echo "gpu-check: test_$suite ${filter[*]}"
    local suite_start=$SECONDS
    timeout "${EMBER_GPU_TEST_TIMEOUT:-270}" "${runner[@]}" "$exe" "${filter[@]}" >"$log" 2>&1
    status=$?
    read -r p f < <(catch2_counts "$log" "$status")
    if [ "$status" -eq 124 ]; then echo "gpu-check: test_$suite timed out" | tee -a "$log"; fi
    if [ "$f" -gt 0 ] && [ "$status" -ne 124 ] && [ $((SECONDS - suite_start)) -lt 150 ] &&
      ! grep -q "^test cases:\|^All tests passed" "$log"; then
      # A crash leaves no summary: rerun the device cases with sync_debug so the failing op is named.
      echo "gpu-check: test_$suite ended without a summary (status $status); rerunning with EMBER_CUDA_SYNC_DEBUG=1"
      EMBER_CUDA_SYNC_DEBUG=1 timeout 90 "${runner[@]}" "$exe" "[device]" >"$log_dir/test_${suite}_sync_debug.log" 2>&1
    fi
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    suites_run+="$suite($p/$((p + f))) "
    grep -E "FAILED|failed|SKIPPED" "$log" | head -20
  done
  local test_seconds=$((SECONDS - start))

  echo "gpu-check: GPU benchmarks (ember_bench --benchmark_filter=cuda_)"
  local bench_json="$log_dir/bench.json" bench_status
  timeout "${EMBER_GPU_BENCH_TIMEOUT:-110}" "${runner[@]}" "$bundle/test/bench/ember_bench" --benchmark_filter=cuda_ --benchmark_min_time=0.05 \
    --benchmark_out="$bench_json" --benchmark_out_format=json >"$log_dir/bench.log" 2>&1
  bench_status=$?
  [ "$bench_status" -eq 124 ] && echo "gpu-check: benchmarks timed out (partial results kept)" | tee -a "$log_dir/bench.log"

  summarize "$log_dir" "$total_passed" "$total_failed" "$suites_run" "$test_seconds" "$bench_status" | tee "$log_dir/summary.txt"
  [ "$total_failed" -eq 0 ] && [ "$bench_status" -eq 0 ] && return 0
  return 1
}

# The table printed last: test totals, then the headline figures of the benchmarks. Benchmark
# counters are read by name (docs/GPU.md, "Benchmark counters"): TFLOP/s (keys with "flop"),
# bandwidth (bytes_per_second, keys with "GB"), % of roofline or of cuBLAS (keys with "pct" or "%").
summarize() {
  local log_dir="$1" passed="$2" failed="$3" suites="$4" seconds="$5" bench_status="$6"
  echo
  echo "================ gpu-check summary ================"
  echo "device     : $(grep -m1 -o 'NVIDIA [A-Za-z0-9 -]*' "$log_dir/nvidia-smi.txt" 2>/dev/null || echo unknown)"
  echo "tests      : $passed passed, $failed failed  [$suites] in ${seconds}s"
  if ! command -v python3 >/dev/null; then
    echo "benchmarks : status $bench_status (no python3 here for the table; see $log_dir/bench.log)"
    return
  fi
  python3 - "$log_dir/bench.json" "$bench_status" <<'EOF'
import json, re, sys
path, status = sys.argv[1], int(sys.argv[2])
try:
    runs = [b for b in json.load(open(path)).get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]
except Exception as e:
    print(f"benchmarks : none read ({e.__class__.__name__}); status {status}")
    sys.exit(0)
print(f"benchmarks : {len(runs)} run, status {status}" + ("" if status == 0 else " (FAILED or timed out)"))

def figures(b):
    out = {}
    for key, value in b.items():
        if not isinstance(value, (int, float)) or key in ("iterations", "real_time", "cpu_time", "repetitions",
                                                            "repetition_index", "threads", "family_index",
                                                            "per_family_instance_index"):
            continue
        k = key.lower()
        if key == "bytes_per_second":
            out["GB/s"] = value / 1e9
        elif "flop" in k:
            if value > 1e6:  # a rate counter in FLOP/s, whatever its name
                out["TFLOP/s" if "TFLOP/s" not in out else key + " (TFLOP/s)"] = value / 1e12
            else:
                out[key] = value
        elif "gb" in k or "pct" in k or "%" in k or "roofline" in k or "ratio" in k or "images" in k:
            out[key] = value
    return out

rows = [("GEMM", r"gemm|matmul|linear"), ("copy", r"copy|memcpy"), ("attention", r"attention|sdpa|flash"),
        ("layer norm", r"layer_?norm"), ("softmax", r"softmax"), ("train step", r"train|resnet|vit")]
for label, pattern in rows:
    hits = [b for b in runs if re.search(pattern, b["name"], re.I)]
    if not hits:
        print(f"{label:<11}: no benchmark")
        continue
    for b in hits[:6]:
        f = figures(b)
        text = ", ".join(f"{k} {v:.4g}" for k, v in f.items()) or f"{b['real_time']:.3g} {b.get('time_unit', '')}"
        print(f"{label:<11}: {b['name']}: {text}")
EOF
  echo "logs       : $log_dir"
}

case "${1:-}" in
  --prepare) prepare ;;
  -h | --help) sed -n "2,19p" "$0" ;;
  "") run_checks ;;
  *) die 3 "unknown argument '$1' (expected --prepare or nothing)" ;;
esac
