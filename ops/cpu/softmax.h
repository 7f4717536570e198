// CPU kernels for ops/softmax.cpp.
// Every kernel sees contiguous tensors viewed as (outer, size, inner) around the softmax dim:
// inner == 1 (dim is last) takes the row path, which streams each row; otherwise a block of
// `inner` columns is processed at once so the innermost loop stays unit-stride.
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

struct SoftmaxLayout {
  int64_t outer = 1;  // product of dims before `dim`
  int64_t size = 1;   // the softmax dim
  int64_t inner = 1;  // product of dims after `dim`
};

// out = softmax(x) or log_softmax(x). x, out: contiguous, same shape.
void softmax_fwd(const Tensor& out, const Tensor& x, SoftmaxLayout layout, bool log);
// Fused first-order backward from the forward output y and the incoming gradient g:
//   softmax:      grad_in = y * (g - sum(g * y))
//   log_softmax:  grad_in = g - exp(y) * sum(g)
// All contiguous, same shape.
void softmax_bwd(const Tensor& grad_in, const Tensor& grad_out, const Tensor& y, SoftmaxLayout layout, bool log);

}  // namespace ember::cpu
