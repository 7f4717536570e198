// Arithmetic ops: API, argument checks, dispatch and backward, side by side.
// Kernels: ops/cpu/elementwise.cpp. Formulas: autograd/DERIVATIVES.md.
#include "ops/elementwise.h"

#include "autograd/function.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/elementwise.h"
#include "ops/elementwise_util.h"
#include "ops/reduce.h"

namespace ember {

namespace {
enum class Category { boolean, integral, floating };
Category category(DType d) {
  if (d == DType::bool_) return Category::boolean;
  return is_floating(d) ? Category::floating : Category::integral;
}
}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  const bool a_dims = a.dim() > 0;
  const bool b_dims = b.dim() > 0;
  if (a_dims == b_dims) return promote_types(a.dtype(), b.dtype());
  const Tensor& dimensioned = a_dims ? a : b;
  const Tensor& zero_dim = a_dims ? b : a;
  if (category(zero_dim.dtype()) > category(dimensioned.dtype())) {
    return promote_types(zero_dim.dtype(), dimensioned.dtype());
  }
  return dimensioned.dtype();
}

BinaryArgs prepare_binary(const char* op, const Tensor& a, const Tensor& b, std::optional<DType> compute) {
  check_defined(op, a, "self");
  check_defined(op, b, "other");
  check_same_device(op, {&a, &b});
  check_cpu(op, {&a, &b});
  BinaryArgs args;
  args.dtype = compute ? *compute : result_type(a, b);
  args.shape = broadcast_shapes(a.sizes(), b.sizes(), op);
  args.a = a.to(args.dtype);
  args.b = b.to(args.dtype);
  return args;
}

Tensor wrap_scalar(double value, const Tensor& like) {
  const bool floating_value = value != static_cast<double>(static_cast<int64_t>(value));
  return scalar_tensor(value, promote_with_scalar(like.dtype(), floating_value || is_floating(like.dtype())));
}

DType float_dtype_for(DType dtype) { return is_floating(dtype) ? dtype : DType::f32; }

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.sizes() == shape) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  EMBER_CHECK(lead >= 0, "sum_to: cannot reduce {} to the larger shape {}", grad.describe(), shape_str(shape));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < grad.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && grad.size(d) != 1)) dims.push_back(d);
  }
  Tensor reduced = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  return reduced.reshape(shape);
}

// ---------------------------------------------------------------- add / sub
Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  BinaryArgs args = prepare_binary("add", a, b);
  Tensor out = empty(args.shape, args.dtype);
  cpu::add(out, args.a, args.b, alpha);
  record_backward("add", {a, b}, {out}, {}, [alpha](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    return {ctx.needs_grad(0) ? sum_to(g, ctx.input_shape(0)) : Tensor(),
            ctx.needs_grad(1) ? sum_to(alpha == 1.0 ? g : mul(g, alpha), ctx.input_shape(1)) : Tensor()};
  });
  return out;
}

Tensor add(const Tensor& a, double b) { return add(a, wrap_scalar(b, a)); }
Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  EMBER_CHECK(a.dtype() != DType::bool_ || b.dtype() != DType::bool_,
              "sub: subtraction of bool tensors is not supported ({} - {})", a.describe(), b.describe());
  return add(a, b, -alpha);
}
Tensor sub(const Tensor& a, double b) { return add(a, wrap_scalar(-b, a)); }
Tensor rsub(const Tensor& a, double b) { return add(neg(a), wrap_scalar(b, a)); }

// ---------------------------------------------------------------- mul
Tensor mul(const Tensor& a, const Tensor& b) {
  BinaryArgs args = prepare_binary("mul", a, b);
  Tensor out = empty(args.shape, args.dtype);
  cpu::mul(out, args.a, args.b);
  record_backward("mul", {a, b}, {out}, {a, b}, [](BackwardContext& ctx) -> TensorList {
    // d(a*b)/da = b, d(a*b)/db = a
    const Tensor& g = ctx.grad(0);
    return {ctx.needs_grad(0) ? sum_to(mul(g, ctx.saved(1)), ctx.input_shape(0)) : Tensor(),
            ctx.needs_grad(1) ? sum_to(mul(g, ctx.saved(0)), ctx.input_shape(1)) : Tensor()};
  });
  return out;
}

Tensor mul(const Tensor& a, double b) { return mul(a, wrap_scalar(b, a)); }

// ---------------------------------------------------------------- div
Tensor div(const Tensor& a, const Tensor& b) {
  BinaryArgs args = prepare_binary("div", a, b, float_dtype_for(result_type(a, b)));
  Tensor out = empty(args.shape, args.dtype);
  cpu::div(out, args.a, args.b);
  record_backward("div", {a, b}, {out}, {a, b}, [](BackwardContext& ctx) -> TensorList {
    // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
    const Tensor& g = ctx.grad(0);
    const Tensor& a_saved = ctx.saved(0);
    const Tensor& b_saved = ctx.saved(1);
    Tensor grad_a, grad_b;
    if (ctx.needs_grad(0)) grad_a = sum_to(div(g, b_saved), ctx.input_shape(0));
    if (ctx.needs_grad(1)) grad_b = sum_to(neg(div(mul(g, a_saved), mul(b_saved, b_saved))), ctx.input_shape(1));
    return {grad_a, grad_b};
  });
  return out;
}

Tensor div(const Tensor& a, double b) {
  return div(a, scalar_tensor(b, float_dtype_for(a.dtype())));
}
Tensor rdiv(const Tensor& a, double b) { return div(scalar_tensor(b, float_dtype_for(a.dtype())), a); }

// ---------------------------------------------------------------- neg
Tensor neg(const Tensor& a) {
  check_defined("neg", a, "self");
  check_cpu("neg", {&a});
  Tensor out = empty(a.sizes(), a.dtype());
  cpu::neg(out, a);
  record_backward("neg", {a}, {out}, {}, [](BackwardContext& ctx) -> TensorList { return {neg(ctx.grad(0))}; });
  return out;
}

}  // namespace ember
