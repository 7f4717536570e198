// CUDA twins of ops/cpu/pool.h (same names and signatures, namespace ember::cuda): max/avg
// pooling (fixed and adaptive windows, 1d as 2d), the avg adjoint and max pooling's plane
// scatter/gather, for tensors on a GPU. Launchers: cuda/pool_launch.h, kernels: cuda/pool.cu.
// Plain C++ (Note [CUDA kernel boundary] in cuda/layout.h).
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/pool.h"  // PoolWindows

namespace ember::cuda {

using cpu::PoolWindows;

void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, const PoolWindows& rows,
                const PoolWindows& cols);
void avg_pool2d(const Tensor& out, const Tensor& x, const PoolWindows& rows, const PoolWindows& cols);
void avg_pool2d_adjoint(const Tensor& grad_input, const Tensor& grad, const PoolWindows& rows,
                        const PoolWindows& cols);
// Deterministic (a stable sort of each plane's indices, then ordered sums: no float atomics).
// Both check every index first (one synchronizing read) and return false, launching nothing,
// when one lies outside [0, P).
bool plane_scatter_add(const Tensor& out, const Tensor& src, const Tensor& indices);
bool plane_gather(const Tensor& out, const Tensor& x, const Tensor& indices);

}  // namespace ember::cuda
