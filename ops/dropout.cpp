// dropout and drop_path: API, checks, dispatch and backward. Kernel: ops/cpu/dropout.cpp.
// Formulas: autograd/derivatives/nn.md. The backward multiplies by the saved (scaled) mask, a
// constant, so it is differentiable to any order.
#include "ops/dropout.h"

#include "autograd/function.h"
#include "cuda/dropout.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/dropout.h"
#include "ops/flops.h"
#include "ops/elementwise.h"

namespace ember {

namespace {
void check_dropout_args(const char* op, const Tensor& x, double p) {
  check_defined(op, x, "input");
  check_same_device(op, {&x});
  EMBER_CHECK(p >= 0.0 && p <= 1.0, "{}: probability has to be between 0 and 1, but got {}", op, p);
  EMBER_CHECK(is_floating(x.dtype()), "{}: expected a floating-point tensor, got {}", op, x.describe());
}
}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  EMBER_PROFILE_OP("dropout", {x}, flops::same_shape(x, 2));
  check_dropout_args("dropout", x, p);
  if (!training || p == 0.0) return x;
  const double keep = 1.0 - p;
  const double scale = keep > 0.0 ? 1.0 / keep : 0.0;
  Tensor out = empty_like(x);
  Tensor mask = empty_like(x);
  const uint64_t offset = gen.advance(static_cast<uint64_t>(x.numel()));
  const Tensor xc = x.contiguous();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("dropout", cuda::dropout_fwd(out, mask, xc, keep, scale, gen.seed(), offset));
  else cpu::dropout_fwd(out, mask, xc, keep, scale, gen.seed(), offset);
  record_backward("dropout", {x}, {out}, {mask}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), ctx.saved(0))};
  });
  return out;
}

Tensor dropout(const Tensor& x, double p, bool training) { return dropout(x, p, training, default_generator()); }

Tensor drop_path(const Tensor& x, double drop_prob, bool training, bool scale_by_keep, Generator& gen) {
  EMBER_PROFILE_OP("drop_path", {x}, {});
  check_dropout_args("drop_path", x, drop_prob);
  EMBER_CHECK(x.dim() >= 1, "drop_path: expected a tensor with a batch dim, got {}", x.describe());
  if (!training || drop_prob == 0.0) return x;
  const double keep = 1.0 - drop_prob;
  // One draw per sample: mask (N, 1, ..., 1) broadcasts over the rest; mul records the backward.
  Shape mask_shape(x.dim(), 1);
  mask_shape[0] = x.size(0);
  Tensor mask = bernoulli(mask_shape, keep, gen, TensorOptions(x.dtype()).device(x.device()));
  if (keep > 0.0 && scale_by_keep) mask.div_(keep);
  return mul(x, mask);
}

Tensor drop_path(const Tensor& x, double drop_prob, bool training, bool scale_by_keep) {
  return drop_path(x, drop_prob, training, scale_by_keep, default_generator());
}

}  // namespace ember
