// Losses: cross_entropy, nll_loss, mse, l1, smooth_l1, huber, bce, bce_with_logits, kl_div.
// Twin: ops/cpu/loss.cpp (kernels), autograd/derivatives/nn.md (formulas).
// `reduction` is "mean" (default), "sum" or "none" (kl_div also takes "batchmean"), with
// PyTorch's semantics, including the weighted mean of nll_loss / cross_entropy.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace ember {

// log_probs: (N, C) or (N, C, d1, ...) or (C); target: int64/int32 class indices of shape
// (N), (N, d1, ...) or (). weight: optional (C) class weights. Elements whose target equals
// ignore_index contribute nothing; "mean" divides by the sum of weight[target] over the rest
// (NaN when nothing is left, as in PyTorch). Not differentiable w.r.t. weight.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, const std::string& reduction = "mean");

// log_softmax over the class dim (dim 1, or 0 for a (C) input) followed by nll_loss, with
// label smoothing as in PyTorch. A floating target of the logits' shape is read as class
// probabilities: loss = -sum_c weight_c target_c log_softmax(logits)_c, and "mean" divides by
// the number of samples (numel / C).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, const std::string& reduction = "mean",
                     double label_smoothing = 0.0);

// Elementwise losses: input and target have the same shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");
Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");
// 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (beta = 0 gives l1_loss).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
                      double beta = 1.0);
// 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere.
Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
                  double delta = 1.0);
// probs in [0, 1] (checked); logs clamped at -100 as in PyTorch. weight broadcasts to probs.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, const Tensor& weight = Tensor(),
                            const std::string& reduction = "mean");
// Stable on any logits. weight broadcasts to logits; pos_weight (e.g. (C)) weighs positives.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor(),
                                        const Tensor& pos_weight = Tensor(), const std::string& reduction = "mean");
// input: log-probabilities; target: probabilities (log-probabilities when log_target).
// Pointwise target (log target - input); "batchmean" divides the sum by input.size(0).
Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
              bool log_target = false);

}  // namespace ember
