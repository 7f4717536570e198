// Microbenchmarks for ops/attention.h (Google Benchmark).
#include <benchmark/benchmark.h>
