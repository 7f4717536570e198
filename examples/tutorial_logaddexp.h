// logaddexp(a, b) = log(exp(a) + exp(b)): the op tutorial chapter 4 writes (kernel, op, backward;
// docs/tutorial/04-custom-op.md) and chapter 7 profiles and speeds up (docs/tutorial/07-profiling.md).
// `// [name]` ... `// [/name]` mark the snippets the chapters quote (kept in sync by tutorial_snippets).
#pragma once
#include <algorithm>
#include <cmath>

#include "engine/dispatch.h"
#include "tutorial_check.h"

namespace tutorial {

using namespace ember;

// [kernel]
// The kernel: dense arrays in, dense array out, nothing about graphs. max(a, b) + log1p(exp(-|a - b|))
// equals log(exp(a) + exp(b)) but never overflows (exp(710) already does in float64).
template <class T>
void logaddexp_kernel(T* out, const T* a, const T* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::max(a[i], b[i]) + std::log1p(std::exp(-std::abs(a[i] - b[i])));
}
// [/kernel]

// [forward]
// Checks, then dispatch on the dtype. detach(): the kernel sees data only, so contiguous() of a
// strided input copies without recording a node (the op records its own below).
Tensor logaddexp_forward(const Tensor& a, const Tensor& b) {
  EMBER_CHECK(a.sizes() == b.sizes() && a.dtype() == b.dtype(),
              "logaddexp: inputs must have the same shape and dtype, got {} and {}", a.describe(), b.describe());
  const Tensor a_dense = a.detach().contiguous(), b_dense = b.detach().contiguous();
  Tensor out = empty(a.sizes(), a.dtype());
  dispatch_floating(a.dtype(), "logaddexp", [&]<class T>() {
    logaddexp_kernel(out.data_ptr<T>(), a_dense.data_ptr<T>(), b_dense.data_ptr<T>(), out.numel());
  });
  return out;
}
// [/forward]

// [op]
// d out / d a = exp(a) / (exp(a) + exp(b)) = exp(a - out), and the same for b. Saving the output
// spares the backward a second log/exp pass.
Tensor logaddexp(const Tensor& a, const Tensor& b) {
  Tensor out = logaddexp_forward(a, b);
  record_backward("logaddexp", /*inputs=*/{a, b}, /*outputs=*/{out}, /*saved=*/{a, b, out},
                  [](BackwardContext& ctx) -> TensorList {
                    const Tensor& grad = ctx.grad(0);
                    const Tensor& out = ctx.saved(2);
                    return {ctx.needs_grad(0) ? mul(grad, exp(sub(ctx.saved(0), out))) : Tensor(),
                            ctx.needs_grad(1) ? mul(grad, exp(sub(ctx.saved(1), out))) : Tensor()};
                  });
  return out;
}
// [/op]

}  // namespace tutorial
