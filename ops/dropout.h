// dropout and drop_path (stochastic depth), seeded.
// Twin: ops/cpu/dropout.cpp (kernels), autograd/derivatives/nn.md (formulas).
// Both draw from a Philox Generator (engine/random.h, Note [Philox stream]) so the same seed and
// offset give the same mask; without a generator argument they use default_generator().
#pragma once
#include "engine/random.h"
#include "engine/tensor.h"

namespace ember {

// Zeroes each element with probability p and scales the survivors by 1 / (1 - p). Returns x
// itself when !training or p == 0; zeros when p == 1. The mask equals
// bernoulli(x.shape, 1 - p, gen) element for element (same generator state).
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

// Stochastic depth (timm's drop_path): one Bernoulli(1 - drop_prob) draw per sample along dim 0,
// broadcast over the other dims, scaled by 1 / (1 - drop_prob) when scale_by_keep.
Tensor drop_path(const Tensor& x, double drop_prob = 0.0, bool training = false, bool scale_by_keep = true);
Tensor drop_path(const Tensor& x, double drop_prob, bool training, bool scale_by_keep, Generator& gen);

}  // namespace ember
