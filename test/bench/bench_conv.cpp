// Microbenchmarks for ops/conv.h (Google Benchmark).
#include <benchmark/benchmark.h>
