// Microbenchmarks for ops/norm.h (Google Benchmark).
#include <benchmark/benchmark.h>
