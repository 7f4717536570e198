// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_: in place on the
// parameters' .grad (parameters without one are skipped). Implementation: optim/clip.cpp;
// tests: test/optim/test_schedule.cpp ("clip" cases).
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace ember::optim {

// Scales every gradient by min(1, max_norm / (total + 1e-6)), where total is the norm of order
// `norm_type` (2 = L2; infinity = max |g|) of all gradients taken together. Returns total (before
// clipping). A non-finite total is an error when error_if_nonfinite, else the gradients are scaled
// anyway (as torch: they become NaN).
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element into [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace ember::optim
