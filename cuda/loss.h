// CUDA twins of ops/cpu/loss.h (same names and signatures; tensors on one CUDA device).
// ops/loss.cpp picks them with EMBER_CUDA_KERNEL. Kernels: cuda/loss.cu.
#pragma once
#include "ops/cpu/loss.h"

namespace ember::cuda {

using cpu::PointwiseLoss;

void nll_gather(const Tensor& out, const Tensor& x, const Tensor& target, const Tensor& weight, int64_t ignore_index);
void nll_scatter(const Tensor& grad_x, const Tensor& grad, const Tensor& target, const Tensor& weight,
                 int64_t ignore_index);
// Reads the total back to the host: synchronizes with the device.
double nll_total_weight(const Tensor& target, const Tensor& weight, int64_t ignore_index);
void cross_entropy_fwd(const Tensor& out, const Tensor& lse, const Tensor& logits, const Tensor& target,
                       const Tensor& weight, int64_t ignore_index);
void cross_entropy_bwd(const Tensor& grad_logits, const Tensor& grad, const Tensor& logits, const Tensor& lse,
                       const Tensor& target, const Tensor& weight, int64_t ignore_index);
void pointwise_loss(const Tensor& out, const Tensor& input, const Tensor& target, PointwiseLoss kind, double param);
void bce_with_logits(const Tensor& out, const Tensor& logits, const Tensor& target, const Tensor& pos_weight);
void clamped_log(const Tensor& out, const Tensor& x);
// Synchronizes with the device (the answer is read back).
bool all_in_unit_interval(const Tensor& x);

}  // namespace ember::cuda
