// CPU kernels for ops/loss.cpp. Arguments arrive checked, converted to one floating dtype and,
// where a kernel says so, contiguous; targets of nll arrive as contiguous int64 already checked
// to lie in [0, C) or equal ignore_index.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace ember::cpu {

// ---- nll: a gather and its adjoint scatter (x viewed as (N, C, S), S = product of spatial dims)
// out: (N, S) contiguous; x: (N, C, S) any strides; target: (N, S); weight: (C) contiguous or undefined.
// out[n, s] = -weight[t] * x[n, t, s] with t = target[n, s]; 0 where t == ignore_index.
void nll_gather(const Tensor& out, const Tensor& x, const Tensor& target, const Tensor& weight, int64_t ignore_index);
// grad_x: (N, C, S) contiguous zeros on entry; grad: (N, S) any strides.
// grad_x[n, t, s] = -weight[t] * grad[n, s] with t = target[n, s]; nothing where t == ignore_index.
void nll_scatter(const Tensor& grad_x, const Tensor& grad, const Tensor& target, const Tensor& weight,
                 int64_t ignore_index);
// Sum of weight[t] (or the count when weight is undefined) over targets != ignore_index: the
// denominator of nll's "mean" reduction.
double nll_total_weight(const Tensor& target, const Tensor& weight, int64_t ignore_index);

// ---- fused cross_entropy for (N, C) logits and class targets (no label smoothing)
// out: (N) = w[t] (lse - x[n, t]), 0 where t == ignore_index; lse: (N) log-sum-exp of each row.
// logits: (N, C) contiguous; target: (N) int64; weight: (C) contiguous or undefined.
void cross_entropy_fwd(const Tensor& out, const Tensor& lse, const Tensor& logits, const Tensor& target,
                       const Tensor& weight, int64_t ignore_index);
// grad_logits: (N, C) = g[n] w[t] (exp(x - lse) - [c == t]), zero rows where t == ignore_index.
// g: (N) any stride.
void cross_entropy_bwd(const Tensor& grad_logits, const Tensor& grad, const Tensor& logits, const Tensor& lse,
                       const Tensor& target, const Tensor& weight, int64_t ignore_index);

// ---- elementwise losses (the "none" reduction), out = loss(input, target); all the same shape.
enum class PointwiseLoss {
  mse,                // (x - t)^2
  l1,                 // |x - t|
  smooth_l1,          // |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta        (param = beta)
  huber,              // |d| < delta ? 0.5 d^2 : delta (|d| - 0.5 delta)     (param = delta)
  bce,                // -(t max(log p, -100) + (1 - t) max(log(1 - p), -100))
  kl_div,             // xlogy(t, t) - t x
  kl_div_log_target,  // exp(t) (t - x)
};
void pointwise_loss(const Tensor& out, const Tensor& input, const Tensor& target, PointwiseLoss kind, double param);

// (1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0)): binary cross-entropy on logits in
// the log-sum-exp form that never overflows. pos_weight broadcasts to out's shape.
void bce_with_logits(const Tensor& out, const Tensor& logits, const Tensor& target, const Tensor& pos_weight);

// max(log x, -100) elementwise (PyTorch's BCE clamp), the forward of loss.cpp's private log op.
void clamped_log(const Tensor& out, const Tensor& x);

// Whether every element lies in [0, 1] (binary_cross_entropy's input check).
bool all_in_unit_interval(const Tensor& x);

}  // namespace ember::cpu
