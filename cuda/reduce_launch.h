// Launchers of cuda/reduce.cu: every reduction of ops/reduce.cpp as one call over a plan that
// cuda/reduce.cpp unpacks from cpu::ReductionPlan (Note [Reduction layout] in ops/cpu/reduce.h):
// K outputs, output k's elements start at kept.offset_of(k) and its R reduced elements sit at
// reduced.offset_of(r) from there (r is the row-major index over the reduced dims, which is what
// argmax reports). Raw pointers only (Note [CUDA kernel boundary] in cuda/layout.h).
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

enum class ReduceKind : uint8_t {
  sum, prod,             // out: x's dtype for floats, int64 otherwise
  max, min,              // values (x's dtype, may be null) and/or indices (int64, may be null)
  var_mean,              // out: variance (x's dtype), out2: mean (may be null); floating only
  logsumexp,             // floating only
  norm_l1, norm_l2, norm_linf,  // floating only
  any, all,              // out: bool
  count_nonzero,         // out: int64
};

struct ReduceArgs {
  const void* input = nullptr;
  ScalarType input_type = ScalarType::f32;
  StridedLayout kept;     // numel = K (the number of outputs)
  StridedLayout reduced;  // numel = R (elements per output)
  void* out = nullptr;    // contiguous, K elements
  void* out2 = nullptr;   // indices for max/min, mean for var_mean; contiguous, K elements, or null
  double correction = 1;  // var_mean: divide by R - correction
};

// Queued on `stream`; deterministic (fixed reduction trees, no atomics).
void reduce(ReduceKind kind, const ReduceArgs& args, Stream stream);

}  // namespace ember::cuda
