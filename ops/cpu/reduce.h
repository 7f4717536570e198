// The reduction framework for CPU kernels.
// Note [Reduction layout]: `to_rows` permutes the kept dims first and the reduced dims last and
// makes the result contiguous, so every reduction kernel sees a row-major (K, R) matrix:
// one output per row, R elements per row. Kernels then only loop over rows.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace ember::cpu {

struct ReductionRows {
  Tensor rows;       // contiguous, logically (K, R)
  int64_t K = 1;     // number of outputs
  int64_t R = 1;     // elements reduced into each output
  Shape out_sizes;   // the output shape (with or without kept size-1 dims)
};

// `dims` must already be wrapped and sorted (see engine/shape.h wrap_dims).
ReductionRows to_rows(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);

void sum_rows(const Tensor& out, const ReductionRows& r);  // out: contiguous, K elements

}  // namespace ember::cpu
