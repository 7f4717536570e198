// Copies that involve CUDA memory, for engine/copy.cpp: host <-> device and device <-> device,
// any strides and dtype conversion, plus fill and reading one element. Built only with CUDA
// (engine/copy.cpp calls them under EMBER_WITH_CUDA). Kernels: cuda/copy.cu.
#pragma once
#include "engine/tensor.h"

namespace ember::cuda {

// dst = src (same shape; either or both on a CUDA device).
void copy_tensor(const Tensor& dst, const Tensor& src);
void fill_tensor(const Tensor& dst, double value);
// Element `linear_index` (row-major) of a CUDA tensor, as double. Synchronizes the stream.
double read_tensor_element(const Tensor& t, int64_t linear_index);

}  // namespace ember::cuda
