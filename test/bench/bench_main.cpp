// Google Benchmark main for all ops benchmarks.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
