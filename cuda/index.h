// CUDA twins of ops/cpu/index.h (same names and signatures, namespace ember::cuda): the kernels
// behind ops/index.cpp for tensors on a GPU. Launchers: cuda/index_launch.h, kernels: cuda/index.cu.
// Plain C++ (Note [CUDA kernel boundary] in cuda/layout.h).
#pragma once
#include <optional>

#include "engine/tensor.h"

namespace ember::cuda {

// These three synchronize (their answer goes to the host): the range check runs a kernel and
// reads back one position; max_value and true_positions copy the index/mask to the host.
std::optional<int64_t> first_outside(const Tensor& index, int64_t low, int64_t high);
int64_t max_value(const Tensor& index);
Tensor true_positions(const Tensor& mask);  // int64 positions, on the mask's device

void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);
void scatter(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate);
void scatter_fill(const Tensor& out, int64_t dim, const Tensor& index, double value);
// x may have any strides on the GPU (the CPU kernel wants it contiguous).
void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);
void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, double alpha);
void one_hot(const Tensor& out, const Tensor& indices);

}  // namespace ember::cuda
