// CUDA twins of ops/cpu/interpolate.h (same names and signatures, namespace ember::cuda): the
// interpolation forward and adjoint for tensors on a GPU. Launchers: cuda/interpolate_launch.h,
// kernels: cuda/interpolate.cu. Plain C++ (Note [CUDA kernel boundary] in cuda/layout.h).
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/interpolate.h"  // InterpPlan

namespace ember::cuda {

using cpu::InterpPlan;

void interpolate_fwd(const Tensor& out, const Tensor& x, const InterpPlan& plan);
// Deterministic: one thread per input element gathers its readers (no atomics).
void interpolate_adjoint(const Tensor& grad_in, const Tensor& grad, const InterpPlan& plan);

}  // namespace ember::cuda
