#!/usr/bin/env bash
# Installs what is missing, configures, builds and runs every test suite.
# The last line is `N passed, N failed` (test-case totals); the exit status is non-zero on any failure.
#   scripts/test.sh              # the normal run (build dir: build)
#   scripts/test.sh --sanitize   # the same under AddressSanitizer + UBSan (build dir: build-sanitize)
#   scripts/test.sh [--sanitize] [SUITE...]   # only some suites: engine autograd ops nn models ... examples
set -uo pipefail
cd "$(dirname "$0")/.."

build_dir=build
meson_options=()
suites=()
for arg in "$@"; do
  case "$arg" in
    --sanitize)
      build_dir=build-sanitize
      meson_options=(-Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dnative=false -Dwerror=false)
      ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) suites+=("$arg") ;;
  esac
done

scripts/setup.sh || exit 1
scripts/configure.sh "$build_dir" "${meson_options[@]}" || { echo "0 passed, 1 failed"; exit 1; }

if [ ${#suites[@]} -eq 0 ]; then
  # Every Catch2 suite meson built (test/<suite>/ -> build/test/test_<suite>), then the examples.
  for exe in "$build_dir"/test/test_*; do
    [ -x "$exe" ] && [ -f "$exe" ] && suites+=("$(basename "$exe" | sed 's/^test_//')")
  done
  suites+=(examples)
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

total_passed=0
total_failed=0
total_skipped=0
skip_reason=""
log_dir="$build_dir/test-logs"
mkdir -p "$log_dir"

# Reads Catch2's closing summary: "All tests passed (A assertions in N test cases)" or
# "test cases: N | P passed | F failed". A crash leaves no summary: count the suite as failed.
count_catch2() {
  local log="$1" status="$2" passed failed
  if grep -q "^All tests passed" "$log"; then
    passed=$(grep "^All tests passed" "$log" | sed -E 's/.* in ([0-9]+) test case.*/\1/')
    failed=0
  elif grep -q "^test cases:" "$log"; then
    passed=$(grep "^test cases:" "$log" | sed -E 's/.*\| *([0-9]+) passed.*/\1/')
    failed=$(grep "^test cases:" "$log" | sed -E 's/.*\| *([0-9]+) failed.*/\1/')
    [[ "$passed" =~ ^[0-9]+$ ]] || passed=0
  else
    passed=0
    failed=1
  fi
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo "$passed $failed"
}

for suite in "${suites[@]}"; do
  if [ "$suite" = examples ]; then
    # Every example program runs, so none of them rots; each counts as one test case.
    for example in "$build_dir"/examples/*; do
      [ -x "$example" ] && [ -f "$example" ] || continue
      name=$(basename "$example")
      log="$log_dir/example-$name.log"
      if "$example" --quick >"$log" 2>&1; then
        total_passed=$((total_passed + 1)); echo "example $name: passed"
      else
        total_failed=$((total_failed + 1)); echo "example $name: FAILED"; tail -20 "$log"
      fi
    done
    continue
  fi
  exe="$build_dir/test/test_$suite"
  log="$log_dir/$suite.log"
  if [ ! -x "$exe" ]; then
    echo "suite $suite: missing executable $exe"
    total_failed=$((total_failed + 1))
    continue
  fi
  start=$(date +%s)
  "$exe" >"$log" 2>&1
  status=$?
  read -r passed failed < <(count_catch2 "$log" "$status")
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  echo "suite $suite: $passed passed, $failed failed ($(( $(date +%s) - start )) s)"
  skipped=$(grep -c "^SKIPPED (" "$log" || true)
  if [ "$skipped" -gt 0 ]; then
    total_skipped=$((total_skipped + skipped))
    skip_reason=$(grep -m1 "^SKIPPED (" "$log" | sed -E 's/^SKIPPED \(([^)]*)\).*/\1/')
  fi
  if [ "$failed" -ne 0 ]; then
    grep -v "^$" "$log" | tail -60
  fi
done

# Cases that need a GPU (DEVICE_TEST_CASE, test/cuda/device_test.h) are not registered without
# one: each printed "SKIPPED (why): name". Say how many, and why.
if [ "$total_skipped" -gt 0 ]; then
  echo "cuda: $total_skipped device test cases skipped ($skip_reason), not counted below"
fi

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
