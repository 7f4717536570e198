// CUDA twins of ops/cpu/shape.h (same names and signatures, namespace ember::cuda): the kernels
// behind ops/shape.cpp (cat, pad, flip, roll, repeat, tril/triu, the pad adjoint) for tensors on a
// GPU. Launchers: cuda/shape_launch.h, kernels: cuda/shape.cu. Plain C++ (Note [CUDA kernel
// boundary] in cuda/layout.h).
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/shape.h"  // IndexMaps

namespace ember::cuda {

using cpu::IndexMaps;

void copy_into(const Tensor& dst, const Tensor& src);
// The maps are uploaded to the device for each call (a few KB: one entry per output index per dim).
void gather_by_maps(const Tensor& out, const Tensor& x, const IndexMaps& maps, double fill);
// One thread per input element sums its readers in the CPU kernel's order: deterministic.
void scatter_add_by_maps(const Tensor& out, const Tensor& grad, const IndexMaps& maps);
void triangle(const Tensor& out, const Tensor& x, int64_t diagonal, bool lower);

}  // namespace ember::cuda
