// cuda/elementwise.h: Tensors -> launchers of cuda/elementwise.cu. CPU twin: ops/cpu/elementwise.cpp.
#include "cuda/elementwise.h"

#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

Operand operand_of(const Tensor& t, const Shape& out_sizes, const char* op) {
  const int64_t out_dim = static_cast<int64_t>(out_sizes.size());
  EMBER_CHECK(out_dim <= StridedLayout::kMaxDims, "{}: CUDA kernels take at most {} dims, got shape {}", op,
              StridedLayout::kMaxDims, shape_str(out_sizes));
  EMBER_CHECK(t.dim() <= out_dim, "{}: {} does not broadcast to the output shape {}", op, t.describe(),
              shape_str(out_sizes));
  Operand operand;
  operand.data = t.raw_data();
  StridedLayout& layout = operand.layout;
  layout.ndim = static_cast<int>(out_dim);
  layout.numel = 1;
  const int64_t lead = out_dim - t.dim();
  for (int64_t d = 0; d < out_dim; ++d) {
    layout.sizes[d] = out_sizes[d];
    layout.numel *= out_sizes[d];
    if (d < lead) continue;  // stride 0: a missing leading dim broadcasts
    const int64_t size = t.size(d - lead);
    EMBER_CHECK(size == out_sizes[d] || size == 1, "{}: {} does not broadcast to the output shape {}", op,
                t.describe(), shape_str(out_sizes));
    layout.strides[d] = size == 1 ? 0 : t.stride(d - lead);
  }
  layout.contiguous = t.is_contiguous() && t.sizes() == out_sizes;
  return operand;
}

void check_dtype(const char* op, DType dtype, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    EMBER_CHECK(t->dtype() == dtype, "{}: CUDA kernel expects every operand as {}, got {}", op, dtype_name(dtype),
                t->describe());
  }
}

namespace {

void binary(BinaryKind kind, const char* op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha) {
  DeviceGuard guard(common_cuda_device(op, {&out, &a, &b}));
  check_dtype(op, out.dtype(), {&a, &b});
  launch_binary(kind, scalar_type(out.dtype()), operand_of(out, out.sizes(), op), operand_of(a, out.sizes(), op),
                operand_of(b, out.sizes(), op), alpha, stream_of(out));
}

void ternary(TernaryKind kind, const char* op, const Tensor& out, const Tensor& x, const Tensor& a, const Tensor& b,
             double value) {
  DeviceGuard guard(common_cuda_device(op, {&out, &x, &a, &b}));
  check_dtype(op, out.dtype(), {&x, &a, &b});
  launch_ternary(kind, scalar_type(out.dtype()), operand_of(out, out.sizes(), op), operand_of(x, out.sizes(), op),
                 operand_of(a, out.sizes(), op), operand_of(b, out.sizes(), op), value, stream_of(out));
}

}  // namespace

void add(const Tensor& out, const Tensor& a, const Tensor& b, double alpha) {
  binary(BinaryKind::add, "add", out, a, b, alpha);
}
void mul(const Tensor& out, const Tensor& a, const Tensor& b) { binary(BinaryKind::mul, "mul", out, a, b, 1.0); }
void div(const Tensor& out, const Tensor& a, const Tensor& b) { binary(BinaryKind::div, "div", out, a, b, 1.0); }
void pow(const Tensor& out, const Tensor& base, const Tensor& exponent) {
  binary(BinaryKind::pow, "pow", out, base, exponent, 1.0);
}
void minimum(const Tensor& out, const Tensor& a, const Tensor& b) {
  binary(BinaryKind::minimum, "minimum", out, a, b, 1.0);
}
void maximum(const Tensor& out, const Tensor& a, const Tensor& b) {
  binary(BinaryKind::maximum, "maximum", out, a, b, 1.0);
}
void fmod(const Tensor& out, const Tensor& a, const Tensor& b) { binary(BinaryKind::fmod, "fmod", out, a, b, 1.0); }
void remainder(const Tensor& out, const Tensor& a, const Tensor& b) {
  binary(BinaryKind::remainder, "remainder", out, a, b, 1.0);
}

void neg(const Tensor& out, const Tensor& a) {
  DeviceGuard guard(common_cuda_device("neg", {&out, &a}));
  check_dtype("neg", out.dtype(), {&a});
  launch_neg(scalar_type(out.dtype()), operand_of(out, out.sizes(), "neg"), operand_of(a, out.sizes(), "neg"),
             stream_of(out));
}

void pow_scalar(const Tensor& out, const Tensor& base, double exponent) {
  DeviceGuard guard(common_cuda_device("pow", {&out, &base}));
  check_dtype("pow", out.dtype(), {&base});
  launch_pow_scalar(scalar_type(out.dtype()), operand_of(out, out.sizes(), "pow"),
                    operand_of(base, out.sizes(), "pow"), exponent, stream_of(out));
}

void lerp(const Tensor& out, const Tensor& start, const Tensor& end, const Tensor& weight) {
  ternary(TernaryKind::lerp, "lerp", out, start, end, weight, 0.0);
}

void lerp(const Tensor& out, const Tensor& start, const Tensor& end, double weight) {
  DeviceGuard guard(common_cuda_device("lerp", {&out, &start, &end}));
  check_dtype("lerp", out.dtype(), {&start, &end});
  launch_lerp_scalar(scalar_type(out.dtype()), operand_of(out, out.sizes(), "lerp"),
                     operand_of(start, out.sizes(), "lerp"), operand_of(end, out.sizes(), "lerp"), weight,
                     stream_of(out));
}

void addcmul(const Tensor& out, const Tensor& x, const Tensor& a, const Tensor& b, double value) {
  ternary(TernaryKind::addcmul, "addcmul", out, x, a, b, value);
}
void addcdiv(const Tensor& out, const Tensor& x, const Tensor& a, const Tensor& b, double value) {
  ternary(TernaryKind::addcdiv, "addcdiv", out, x, a, b, value);
}

}  // namespace ember::cuda
