// CUDA twins of the reduction kernels in ops/cpu/reduce.h: same names, same signatures (a
// cpu::ReductionPlan whose input lives on a CUDA device, outputs contiguous on that device).
// ops/reduce.cpp picks them with EMBER_CUDA_KERNEL (Note [CUDA dispatch] in engine/dispatch.h).
// Implementation: cuda/reduce.cpp (unpacks the plan) and cuda/reduce.cu (kernels).
#pragma once
#include "ops/cpu/reduce.h"

namespace ember::cuda {

using cpu::NormKind;
using cpu::ReductionPlan;

void sum(const ReductionPlan& plan, const Tensor& out);
void prod(const ReductionPlan& plan, const Tensor& out);
void amax(const ReductionPlan& plan, const Tensor& out, bool is_max);
void max_with_indices(const ReductionPlan& plan, const Tensor& values, const Tensor& indices, bool is_max);
void var_mean(const ReductionPlan& plan, const Tensor& var, const Tensor& mean, double correction);
void logsumexp(const ReductionPlan& plan, const Tensor& out);
void norm(const ReductionPlan& plan, const Tensor& out, NormKind kind);
void any_all(const ReductionPlan& plan, const Tensor& out, bool is_all);
void count_nonzero(const ReductionPlan& plan, const Tensor& out);

}  // namespace ember::cuda
