// CUDA twins of ops/cpu/sort.h (same names and signatures, namespace ember::cuda): sort/top-k and
// cumsum/cumprod for tensors on a GPU. Launchers: cuda/sort_launch.h, kernels: cuda/sort.cu.
// Plain C++ (Note [CUDA kernel boundary] in cuda/layout.h).
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/sort.h"  // ScanOp

namespace ember::cuda {

using cpu::ScanOp;

void sort(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim, bool descending, int64_t k);
void scan(const Tensor& out, const Tensor& x, int64_t dim, ScanOp op, bool reverse);

}  // namespace ember::cuda
