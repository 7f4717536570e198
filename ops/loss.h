// Losses: cross_entropy, nll_loss, mse, l1, smooth_l1, bce, bce_with_logits, kl_div.
// Twin: ops/cpu/loss.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
