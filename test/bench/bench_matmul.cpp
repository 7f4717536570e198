// Microbenchmarks for ops/matmul.h (Google Benchmark).
#include <benchmark/benchmark.h>
