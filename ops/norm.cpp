// Normalization ops: API, argument checks, dispatch and backward, side by side.
// Kernels: ops/cpu/norm.cpp (Note [Row normalization layout] in ops/cpu/norm.h).
// Formulas: autograd/derivatives/norm.md.
//
// Every norm is x̂ = (x - mean) * rstd over some dims (mean = 0 for RMS norm), then x̂ * w + b.
// First-order backward runs a fused kernel; under create_graph the same closed form is written
// with differentiable ops (`differentiable_backward`), so double backward works. Both paths are
// tested against each other in test/ops/test_norm.cpp.
#include "ops/norm.h"

#include <limits>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "cuda/norm.h"
#include "engine/autocast.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/norm.h"
#include "ops/flops.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/unary.h"

namespace ember {

namespace {
// Where the statistics and the affine parameters of a norm live, in terms of x's shape.
struct NormGeometry {
  Shape stat_shape;                 // x reshaped so that the statistics reduce `stat_dims`
  std::vector<int64_t> stat_dims;
  Shape affine_shape;               // weight / bias reshaped to broadcast against x
  std::vector<int64_t> param_dims;  // dims of x summed into grad_weight / grad_bias
  bool center = true;               // false: RMS norm
};

// The closed-form backward with ops (differentiable): with gw = g * w,
//   grad_x = rstd * (gw - mean(gw) - x̂ * mean(gw * x̂)),  grad_w = sum(g * x̂),  grad_b = sum(g).
TensorList differentiable_backward(const BackwardContext& ctx, const Tensor& g, const Tensor& x, const Tensor& w,
                                   const NormGeometry& geo, double eps) {
  Tensor xs = x.reshape(geo.stat_shape);
  Tensor centered = geo.center ? xs - mean(xs, geo.stat_dims, true) : xs;
  Tensor rstd = rdiv(sqrt(mean(centered * centered, geo.stat_dims, true) + eps), 1.0);
  Tensor xhat = centered * rstd;
  TensorList grads(3);
  if (ctx.needs_grad(0)) {
    Tensor gw = (w.defined() ? g * w.reshape(geo.affine_shape) : g).reshape(geo.stat_shape);
    Tensor inner = gw - xhat * mean(gw * xhat, geo.stat_dims, true);
    if (geo.center) inner = inner - mean(gw, geo.stat_dims, true);
    grads[0] = (rstd * inner).reshape(x.sizes());
  }
  if (ctx.needs_grad(1)) grads[1] = sum(g * xhat.reshape(x.sizes()), geo.param_dims);
  if (ctx.needs_grad(2)) grads[2] = sum(g, geo.param_dims);
  return grads;
}

// A gradient as the fused kernels read it: a broadcast scalar in place, anything else contiguous.
cpu::GradInput grad_input(const Tensor& g) {
  bool all_broadcast = g.numel() > 0;
  for (int64_t d = 0; d < g.dim(); ++d) all_broadcast = all_broadcast && (g.stride(d) == 0 || g.size(d) == 1);
  if (all_broadcast) return {g, true};
  return {g.contiguous(), false};
}

Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.detach().contiguous() : Tensor(); }
// A fresh tensor with `like`'s dtype and device.
Tensor empty_on(const Shape& shape, const Tensor& like) { return make_tensor(shape, like.dtype(), like.device()); }
Tensor empty_if(bool wanted, const Shape& shape, const Tensor& like) { return wanted ? empty_on(shape, like) : Tensor(); }

void check_input(const char* op, const Tensor& x, int64_t min_dim) {
  check_defined(op, x, "input");
  check_same_device(op, {&x});
  EMBER_CHECK(is_floating(x.dtype()), "{}: expected a floating-point input, got {}", op, x.describe());
  EMBER_CHECK(x.dim() >= min_dim, "{}: expected an input with at least {} dims, got {}", op, min_dim, x.describe());
}

// An optional parameter must have `shape` and x's dtype.
void check_param(const char* op, const char* name, const Tensor& p, const Tensor& x, const Shape& shape) {
  if (!p.defined()) return;
  check_same_device(op, {&x, &p});
  EMBER_CHECK(p.sizes() == shape, "{}: expected {} of shape {} for input {}, got {}", op, name, shape_str(shape),
              x.describe(), p.describe());
  EMBER_CHECK(p.dtype() == x.dtype(), "{}: {} is {} but the input is {}", op, name, p.describe(), x.describe());
}

// normalized_shape must be non-empty and match x's trailing dims.
void check_normalized_shape(const char* op, const Tensor& x, const Shape& normalized_shape) {
  const int64_t nd = static_cast<int64_t>(normalized_shape.size());
  EMBER_CHECK(nd >= 1, "{}: normalized_shape must have at least one dim, got {}", op, shape_str(normalized_shape));
  bool matches = nd <= x.dim();
  for (int64_t i = 0; matches && i < nd; ++i) matches = x.size(x.dim() - nd + i) == normalized_shape[i];
  EMBER_CHECK(matches, "{}: normalized_shape {} does not match the trailing dims of input {}", op,
              shape_str(normalized_shape), x.describe());
}

// layer_norm / rms_norm / group_norm: the fused row kernel forward + its backward node.
Tensor row_norm(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                const cpu::RowNormShape& shape, const NormGeometry& geo, double eps) {
  EMBER_PROFILE_OP(op, {x, weight, bias}, flops::same_shape(x, shape.center ? 8 : 6, {weight, bias}));
  EMBER_CHECK(eps >= 0, "{}: eps must be non-negative, got {}", op, eps);
  Tensor y = empty_on(x.sizes(), x);
  Tensor mean_rows = empty_on({shape.rows}, x);
  Tensor rstd_rows = empty_on({shape.rows}, x);
  const Tensor xc = x.detach().contiguous(), wc = contiguous_or_undefined(weight), bc = contiguous_or_undefined(bias);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::row_norm_forward(y, mean_rows, rstd_rows, xc, wc, bc, shape, eps));
  else cpu::row_norm_forward(y, mean_rows, rstd_rows, xc, wc, bc, shape, eps);
  record_backward(op, {x, weight, bias}, {y}, {x, weight, mean_rows, rstd_rows},
                  [shape, geo, eps](BackwardContext& ctx) -> TensorList {
                    const Tensor& g = ctx.grad(0);
                    const Tensor& input = ctx.saved(0);
                    const Tensor& w = ctx.saved(1);
                    if (ctx.create_graph()) return differentiable_backward(ctx, g, input, w, geo, eps);
                    Tensor grad_x = empty_if(ctx.needs_grad(0), input.sizes(), input);
                    Tensor grad_w = empty_if(ctx.needs_grad(1), ctx.input_shape(1), input);
                    Tensor grad_b = empty_if(ctx.needs_grad(2), ctx.input_shape(2), input);
                    EMBER_PROFILE_OP("norm_backward", {g, input}, flops::same_shape(input, 10, {g}));
                    const cpu::GradInput gi = grad_input(g);
                    const Tensor xc = input.detach().contiguous(), wc = contiguous_or_undefined(w);
                    if (input.device().is_cuda())
                      EMBER_CUDA_KERNEL("norm_backward", cuda::row_norm_backward(grad_x, grad_w, grad_b, gi, xc, ctx.saved(2),
                                                                                 ctx.saved(3), wc, shape));
                    else cpu::row_norm_backward(grad_x, grad_w, grad_b, gi, xc, ctx.saved(2), ctx.saved(3), wc, shape);
                    return {grad_x, grad_w, grad_b};
                  });
  return y;
}

// Layer / RMS norm over the trailing `nd` dims of x.
Tensor trailing_norm(const char* op, const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                     const Tensor& bias, double eps, bool center) {
  check_input(op, x, 1);
  check_normalized_shape(op, x, normalized_shape);
  check_param(op, "weight", weight, x, normalized_shape);
  check_param(op, "bias", bias, x, normalized_shape);
  const int64_t nd = static_cast<int64_t>(normalized_shape.size());
  const int64_t row_numel = numel_of(normalized_shape);
  const int64_t rows = numel_of(Shape(x.sizes().begin(), x.sizes().end() - nd));
  cpu::RowNormShape shape{rows, row_numel, 1, 1, center};
  NormGeometry geo;
  geo.stat_shape = {rows, row_numel};
  geo.stat_dims = {1};
  geo.affine_shape = normalized_shape;
  for (int64_t d = 0; d < x.dim() - nd; ++d) geo.param_dims.push_back(d);
  geo.center = center;
  return row_norm(op, x, weight, bias, shape, geo, eps);
}

// (C, 1, ..., 1): a per-channel parameter broadcast against (N, C, *).
Shape channel_shape(const Tensor& x) {
  Shape s(x.dim() - 1, 1);
  s[0] = x.size(1);
  return s;
}

std::vector<int64_t> all_but_channel_dims(const Tensor& x) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}
}  // namespace

// ---------------------------------------------------------------- layer / rms / group norm
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): computed in float32.
  if (autocast_wants_fp32({&x, &weight, &bias})) {
    return layer_norm(autocast_fp32(x), normalized_shape, autocast_fp32(weight), autocast_fp32(bias), eps);
  }
  return trailing_norm("layer_norm", x, normalized_shape, weight, bias, eps, /*center=*/true);
}

Tensor rms_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, std::optional<double> eps) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): computed in float32.
  if (autocast_wants_fp32({&x, &weight})) return rms_norm(autocast_fp32(x), normalized_shape, autocast_fp32(weight), eps);
  check_input("rms_norm", x, 1);
  const double machine_eps = x.dtype() == DType::f64 ? std::numeric_limits<double>::epsilon()
                                                     : static_cast<double>(std::numeric_limits<float>::epsilon());
  return trailing_norm("rms_norm", x, normalized_shape, weight, Tensor(), eps.value_or(machine_eps),
                       /*center=*/false);
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): computed in float32.
  if (autocast_wants_fp32({&x, &weight, &bias})) {
    return group_norm(autocast_fp32(x), num_groups, autocast_fp32(weight), autocast_fp32(bias), eps);
  }
  const char* op = "group_norm";
  check_input(op, x, 2);
  const int64_t N = x.size(0), C = x.size(1);
  EMBER_CHECK(num_groups > 0, "{}: num_groups must be positive, got {}", op, num_groups);
  EMBER_CHECK(C % num_groups == 0, "{}: {} channels of input {} are not divisible into {} groups", op, C,
              x.describe(), num_groups);
  check_param(op, "weight", weight, x, {C});
  check_param(op, "bias", bias, x, {C});
  const int64_t spatial = numel_of(Shape(x.sizes().begin() + 2, x.sizes().end()));
  const int64_t per_group = C / num_groups;
  cpu::RowNormShape shape{N * num_groups, per_group, spatial, num_groups, true};
  NormGeometry geo;
  geo.stat_shape = {N, num_groups, per_group * spatial};
  geo.stat_dims = {2};
  geo.affine_shape = channel_shape(x);
  geo.param_dims = all_but_channel_dims(x);
  return row_norm(op, x, weight, bias, shape, geo, eps);
}

// ---------------------------------------------------------------- batch norm
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): computed in float32.
  if (autocast_wants_fp32({&x, &weight, &bias})) {
    return batch_norm(autocast_fp32(x), running_mean, running_var, autocast_fp32(weight), autocast_fp32(bias), training,
                      momentum, eps);
  }
  const char* op = "batch_norm";
  EMBER_PROFILE_OP(op, {x, weight, bias}, flops::same_shape(x, 8, {weight, bias}));
  check_input(op, x, 2);
  const int64_t N = x.size(0), C = x.size(1);
  check_param(op, "weight", weight, x, {C});
  check_param(op, "bias", bias, x, {C});
  for (const Tensor* running : {&running_mean, &running_var}) {
    if (!running->defined()) continue;
    check_same_device(op, {&x, running});
    EMBER_CHECK(running->sizes() == Shape{C} && is_floating(running->dtype()),
                "{}: running statistics must be floating tensors of shape [{}] for input {}, got {}", op, C,
                x.describe(), running->describe());
  }
  EMBER_CHECK(eps >= 0, "{}: eps must be non-negative, got {}", op, eps);
  const cpu::BatchNormShape shape{N, C, numel_of(Shape(x.sizes().begin() + 2, x.sizes().end()))};
  Tensor xc = x.detach().contiguous();
  Tensor batch_mean = empty_on({C}, x);
  Tensor rstd;
  {
    NoGradGuard no_grad;  // statistics are data here; the graph is recorded below
    if (training) {
      EMBER_CHECK(shape.count() > 1, "{}: expected more than 1 value per channel when training, got input {}", op,
                  x.describe());
      Tensor batch_var = empty_on({C}, x);
      if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::batch_norm_stats(batch_mean, batch_var, xc, shape));
      else cpu::batch_norm_stats(batch_mean, batch_var, xc, shape);
      rstd = rdiv(sqrt(batch_var + eps), 1.0);
      const double unbiased = static_cast<double>(shape.count()) / static_cast<double>(shape.count() - 1);
      if (running_mean.defined()) running_mean.detach().mul_(1.0 - momentum).add_(batch_mean, momentum);
      if (running_var.defined()) running_var.detach().mul_(1.0 - momentum).add_(batch_var, momentum * unbiased);
    } else {
      EMBER_CHECK(running_mean.defined() && running_var.defined(),
                  "{}: running_mean and running_var must be defined in evaluation mode (input {})", op, x.describe());
      batch_mean.copy_(running_mean.detach());  // a snapshot: later training steps update the buffers
      rstd = rdiv(sqrt(running_var.detach().to(x.dtype()) + eps), 1.0);
    }
  }
  Tensor y = empty_on(x.sizes(), x);
  const Tensor wc = contiguous_or_undefined(weight), bc = contiguous_or_undefined(bias);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::batch_norm_forward(y, xc, batch_mean, rstd, wc, bc, shape));
  else cpu::batch_norm_forward(y, xc, batch_mean, rstd, wc, bc, shape);

  NormGeometry geo;
  geo.stat_shape = x.sizes();
  geo.stat_dims = all_but_channel_dims(x);
  geo.affine_shape = channel_shape(x);
  geo.param_dims = geo.stat_dims;
  record_backward(op, {x, weight, bias}, {y}, {x, weight, batch_mean, rstd},
                  [shape, geo, eps, training](BackwardContext& ctx) -> TensorList {
                    const Tensor& g = ctx.grad(0);
                    const Tensor& input = ctx.saved(0);
                    const Tensor& w = ctx.saved(1);
                    if (ctx.create_graph()) {
                      if (training) return differentiable_backward(ctx, g, input, w, geo, eps);
                      // Eval: mean and rstd are constants, so y is affine in x.
                      Tensor rstd_b = ctx.saved(3).reshape(geo.affine_shape);
                      Tensor scale = w.defined() ? rstd_b * w.reshape(geo.affine_shape) : rstd_b;
                      TensorList grads(3);
                      if (ctx.needs_grad(0)) grads[0] = g * scale;
                      if (ctx.needs_grad(1))
                        grads[1] = sum(g * ((input - ctx.saved(2).reshape(geo.affine_shape)) * rstd_b), geo.param_dims);
                      if (ctx.needs_grad(2)) grads[2] = sum(g, geo.param_dims);
                      return grads;
                    }
                    Tensor grad_x = empty_if(ctx.needs_grad(0), input.sizes(), input);
                    Tensor grad_w = empty_if(ctx.needs_grad(1), ctx.input_shape(1), input);
                    Tensor grad_b = empty_if(ctx.needs_grad(2), ctx.input_shape(2), input);
                    EMBER_PROFILE_OP("batch_norm_backward", {g, input}, flops::same_shape(input, 10, {g}));
                    const cpu::GradInput gi = grad_input(g);
                    const Tensor xc = input.detach().contiguous(), wc = contiguous_or_undefined(w);
                    if (input.device().is_cuda())
                      EMBER_CUDA_KERNEL("batch_norm_backward",
                                        cuda::batch_norm_backward(grad_x, grad_w, grad_b, gi, xc, ctx.saved(2), ctx.saved(3),
                                                                  wc, shape, training));
                    else cpu::batch_norm_backward(grad_x, grad_w, grad_b, gi, xc, ctx.saved(2), ctx.saved(3), wc, shape, training);
                    return {grad_x, grad_w, grad_b};
                  });
  return y;
}

}  // namespace ember
