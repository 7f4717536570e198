// CUDA twins of ops/cpu/norm.h (same names and signatures; tensors on one CUDA device).
// ops/norm.cpp picks them with EMBER_CUDA_KERNEL. Kernels: cuda/norm.cu.
#pragma once
#include "ops/cpu/norm.h"

namespace ember::cuda {

using cpu::BatchNormShape;
using cpu::GradInput;
using cpu::RowNormShape;

void row_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                      const Tensor& bias, const RowNormShape& shape, double eps);
void row_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                       const GradInput& grad, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                       const Tensor& weight, const RowNormShape& shape);
void batch_norm_stats(const Tensor& mean, const Tensor& var, const Tensor& x, const BatchNormShape& shape);
void batch_norm_forward(const Tensor& y, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                        const Tensor& weight, const Tensor& bias, const BatchNormShape& shape);
void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                         const GradInput& grad, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                         const Tensor& weight, const BatchNormShape& shape, bool training);

}  // namespace ember::cuda
