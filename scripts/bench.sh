#!/usr/bin/env bash
# Builds the microbenchmarks and prints one line per workload: `name median_ms`.
#
#   scripts/bench.sh [--json FILE] [FILTER]
#
# FILTER is a Google Benchmark regex (default: every benchmark). Each benchmark runs on its own
# with --benchmark_repetitions=5, or 3 when one repetition takes longer than 5 s (override with
# BENCH_REPETITIONS=N). The median is over repetitions of the real time per iteration.
# --json FILE also writes Google Benchmark's JSON (every repetition of every benchmark, plus
# "medians_ms"), which scripts/compare_torch.py reads.
set -euo pipefail

usage() { echo "usage: $0 [--json FILE] [FILTER]" >&2; exit 2; }
json_file=""
filter=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --json) [[ $# -ge 2 ]] || usage; json_file="$2"; shift 2 ;;
    --json=*) json_file="${1#--json=}"; shift ;;
    -h|--help) usage ;;
    -*) echo "$0: unknown option $1" >&2; usage ;;
    *) [[ -z "$filter" ]] || usage; filter="$1"; shift ;;
  esac
done

# FILE is relative to the caller's directory, not the repository root.
if [[ -n "$json_file" && "$json_file" != /* ]]; then json_file="$PWD/$json_file"; fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ ! -f build/build.ninja ]]; then
  meson setup build >&2
fi
ninja -C build -j2 test/bench/ember_bench >&2

python3 - "$root/build/test/bench/ember_bench" "$filter" "$json_file" <<'PYTHON'
import json, os, re, statistics, subprocess, sys, tempfile

exe, name_filter, json_file = sys.argv[1], sys.argv[2], sys.argv[3]
UNIT_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
# Google Benchmark appends run modifiers to names; the workload is what precedes them.
MODIFIER = re.compile(r"/(iterations:\d+|repeats:\d+|real_time|manual_time|process_time|min_time:[^/]+|min_warmup_time:[^/]+)")

def workload(name):
    return MODIFIER.sub("", name)

def run(bench_filter, repetitions):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        path = tmp.name
    try:
        # The console report and the machine banner (stderr) only matter when something fails.
        done = subprocess.run([exe, "--benchmark_filter=" + bench_filter, f"--benchmark_repetitions={repetitions}",
                               "--benchmark_report_aggregates_only=false", "--benchmark_out_format=json",
                               "--benchmark_out=" + path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            sys.exit(f"bench.sh: {exe} failed on {bench_filter} (exit {done.returncode})")
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)

listed = subprocess.run([exe, "--benchmark_list_tests"] + (["--benchmark_filter=" + name_filter] if name_filter else []),
                        check=True, capture_output=True, text=True).stdout.split()
forced = os.environ.get("BENCH_REPETITIONS")
context, runs, medians = None, [], {}
for name in listed:
    exact = "^" + re.escape(name) + "$"
    first = run(exact, 1)
    context = context or first.get("context")
    samples = [b for b in first["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if not samples:
        continue
    one_run_s = samples[0]["real_time"] * UNIT_TO_MS[samples[0]["time_unit"]] * samples[0]["iterations"] / 1e3
    wanted = int(forced) if forced else (3 if one_run_s > 5.0 else 5)
    if wanted > 1:
        more = run(exact, wanted - 1)
        samples += [b for b in more["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    runs += samples
    times = [b["real_time"] * UNIT_TO_MS[b["time_unit"]] for b in samples]
    medians[workload(name)] = statistics.median(times)
    print(f"{workload(name)} {medians[workload(name)]:.3f}", flush=True)

if json_file:
    with open(json_file, "w") as f:
        json.dump({"context": context or {}, "benchmarks": runs, "medians_ms": medians}, f, indent=2)
PYTHON
