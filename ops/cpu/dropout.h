// CPU kernels for ops/dropout.cpp.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace ember::cpu {

// One pass: mask[i] = (u_i < keep_prob) ? scale : 0 and out[i] = x[i] * mask[i], where u_i is the
// uniform of Philox block (seed, offset + i) as engine/random.cpp draws it (Note [Philox stream]).
// x, out, mask: contiguous, same shape and dtype.
void dropout_fwd(const Tensor& out, const Tensor& mask, const Tensor& x, double keep_prob, double scale,
                 uint64_t seed, uint64_t offset);

}  // namespace ember::cpu
