// softmax and log_softmax: API, checks, dispatch and backward. Kernels: ops/cpu/softmax.cpp.
// Formulas: autograd/derivatives/nn.md.
#include "ops/softmax.h"

#include "autograd/function.h"
#include "cuda/softmax.h"
#include "engine/autocast.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/softmax.h"
#include "ops/flops.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/unary.h"

namespace ember {

namespace {

cpu::SoftmaxLayout layout_of(const Shape& sizes, int64_t dim) {
  cpu::SoftmaxLayout layout;
  for (int64_t d = 0; d < dim; ++d) layout.outer *= sizes[d];
  layout.size = sizes[dim];
  for (int64_t d = dim + 1; d < static_cast<int64_t>(sizes.size()); ++d) layout.inner *= sizes[d];
  return layout;
}

// Backward of (log_)softmax from its output y. The fused kernel serves plain backward; with
// create_graph the same formula is composed from ops so it can be differentiated again.
Tensor softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim, bool log, bool create_graph) {
  if (!create_graph) {
    EMBER_PROFILE_OP(log ? "log_softmax_backward" : "softmax_backward", {grad, y}, flops::same_shape(y, 4, {grad}));
    Tensor grad_in = empty_like(y);
    const Tensor g = grad.to(y.dtype()).contiguous(), yc = y.contiguous();
    const cpu::SoftmaxLayout layout = layout_of(y.sizes(), dim);
    if (y.device().is_cuda()) EMBER_CUDA_KERNEL("softmax_backward", cuda::softmax_bwd(grad_in, g, yc, layout, log));
    else cpu::softmax_bwd(grad_in, g, yc, layout, log);
    return grad_in;
  }
  if (log) return sub(grad, mul(exp(y), sum(grad, {dim}, /*keepdim=*/true)));
  return mul(y, sub(grad, sum(mul(grad, y), {dim}, /*keepdim=*/true)));
}

Tensor softmax_impl(const char* op, const Tensor& x, int64_t dim_in, bool log) {
  EMBER_PROFILE_OP(op, {x}, flops::same_shape(x, 5));
  check_defined(op, x, "self");
  check_same_device(op, {&x});
  EMBER_CHECK(is_floating(x.dtype()), "{}: expected a floating-point tensor, got {}", op, x.describe());
  if (x.dim() == 0) {
    wrap_dim(dim_in, 0, op);  // validates the dim; a scalar is a one-element row
    return softmax_impl(op, x.reshape({1}), 0, log).reshape({});
  }
  const int64_t dim = wrap_dim(dim_in, x.dim(), op);
  Tensor out = make_tensor(x.sizes(), x.dtype(), x.device());
  if (x.numel() > 0) {
    const Tensor xc = x.contiguous();
    const cpu::SoftmaxLayout layout = layout_of(x.sizes(), dim);
    if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::softmax_fwd(out, xc, layout, log));
    else cpu::softmax_fwd(out, xc, layout, log);
  }
  record_backward(op, {x}, {out}, {out}, [dim, log](BackwardContext& ctx) -> TensorList {
    return {softmax_backward(ctx.grad(0), ctx.saved(0), dim, log, ctx.create_graph())};
  });
  return out;
}

}  // namespace

// Autocast (engine/autocast.h, Note [Autocast lists]): computed in float32.
Tensor softmax(const Tensor& x, int64_t dim) {
  if (autocast_wants_fp32({&x})) return softmax(autocast_fp32(x), dim);
  return softmax_impl("softmax", x, dim, /*log=*/false);
}
Tensor log_softmax(const Tensor& x, int64_t dim) {
  if (autocast_wants_fp32({&x})) return log_softmax(autocast_fp32(x), dim);
  return softmax_impl("log_softmax", x, dim, /*log=*/true);
}

}  // namespace ember
