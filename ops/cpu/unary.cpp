// CPU kernels for the unary math ops. Twin: ops/unary.cpp (API, checks, backward).
// One switch maps each op to a scalar lambda; unary_kernel (ops/cpu/loops.h) supplies strides,
// broadcasting, the vectorisable contiguous branch and OpenMP.
#include "ops/cpu/unary.h"

#include <cmath>
#include <limits>

#include "engine/dispatch.h"
#include "ops/cpu/loops.h"
#include "ops/cpu/math.h"

namespace ember::cpu {

const char* unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: return "exp";
    case UnaryOp::expm1: return "expm1";
    case UnaryOp::log: return "log";
    case UnaryOp::log1p: return "log1p";
    case UnaryOp::log2: return "log2";
    case UnaryOp::sqrt: return "sqrt";
    case UnaryOp::rsqrt: return "rsqrt";
    case UnaryOp::sin: return "sin";
    case UnaryOp::cos: return "cos";
    case UnaryOp::tan: return "tan";
    case UnaryOp::erf: return "erf";
    case UnaryOp::erfinv: return "erfinv";
    case UnaryOp::reciprocal: return "reciprocal";
    case UnaryOp::abs: return "abs";
    case UnaryOp::sign: return "sign";
    case UnaryOp::square: return "square";
    case UnaryOp::floor: return "floor";
    case UnaryOp::ceil: return "ceil";
    case UnaryOp::round: return "round";
    case UnaryOp::trunc: return "trunc";
  }
  return "unary";
}

namespace {

// Float-only ops: calls run(scalar_function) with the function for `op`.
template <class T, class Run> void with_float_op(UnaryOp op, Run&& run) {
  switch (op) {
    case UnaryOp::exp: return run([](T v) EMBER_ALWAYS_INLINE { return math::fast_exp(v); });
    case UnaryOp::expm1: return run([](T v) { return std::expm1(v); });
    case UnaryOp::log: return run([](T v) EMBER_ALWAYS_INLINE { return math::fast_log(v); });
    case UnaryOp::log1p: return run([](T v) { return std::log1p(v); });
    case UnaryOp::log2: return run([](T v) { return std::log2(v); });
    case UnaryOp::sqrt: return run([](T v) { return std::sqrt(v); });
    case UnaryOp::rsqrt: return run([](T v) { return T(1) / std::sqrt(v); });
    case UnaryOp::sin: return run([](T v) { return std::sin(v); });
    case UnaryOp::cos: return run([](T v) { return std::cos(v); });
    case UnaryOp::tan: return run([](T v) { return std::tan(v); });
    case UnaryOp::erf: return run([](T v) { return std::erf(v); });
    case UnaryOp::erfinv: return run([](T v) { return math::erfinv(v); });
    case UnaryOp::reciprocal: return run([](T v) { return T(1) / v; });
    default: EMBER_FAIL("{}: not a floating-point op (internal dispatch error)", unary_op_name(op));
  }
}

// Dtype-keeping ops. Rounding is the identity on integers (torch.floor(int_tensor) == the input).
// nearbyint rounds half to even under the default rounding mode, as torch.round does.
template <class T, class Run> void with_keep_dtype_op(UnaryOp op, Run&& run) {
  constexpr bool floating = std::is_floating_point_v<T>;
  switch (op) {
    case UnaryOp::abs: return run([](T v) { return math::abs(v); });
    case UnaryOp::sign: return run([](T v) { return math::sign(v); });
    case UnaryOp::square: return run([](T v) { return static_cast<T>(v * v); });
    case UnaryOp::floor: return run([](T v) { if constexpr (floating) return std::floor(v); else return v; });
    case UnaryOp::ceil: return run([](T v) { if constexpr (floating) return std::ceil(v); else return v; });
    case UnaryOp::round: return run([](T v) { if constexpr (floating) return std::nearbyint(v); else return v; });
    case UnaryOp::trunc: return run([](T v) { if constexpr (floating) return std::trunc(v); else return v; });
    default: EMBER_FAIL("{}: not a dtype-keeping op (internal dispatch error)", unary_op_name(op));
  }
}

bool is_float_op(UnaryOp op) { return op <= UnaryOp::reciprocal; }

}  // namespace

void unary(const Tensor& out, const Tensor& x, UnaryOp op) {
  const char* name = unary_op_name(op);
  if (is_float_op(op)) {
    dispatch_floating(out.dtype(), name, [&]<class T>() {
      with_float_op<T>(op, [&](auto f) { unary_kernel<T>(out, x, f); });
    });
    return;
  }
  dispatch_all(out.dtype(), name, [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL("{}: not supported for bool tensors", name);
    } else {
      with_keep_dtype_op<T>(op, [&](auto f) { unary_kernel<T>(out, x, f); });
    }
  });
}

void classify(const Tensor& out, const Tensor& x, FloatClass which) {
  dispatch_all(x.dtype(), "isfinite", [&]<class T>() {
    if constexpr (std::is_floating_point_v<T>) {
      switch (which) {
        case FloatClass::nan: return unary_kernel<T, bool>(out, x, [](T v) { return std::isnan(v); });
        case FloatClass::inf: return unary_kernel<T, bool>(out, x, [](T v) { return std::isinf(v); });
        case FloatClass::finite: return unary_kernel<T, bool>(out, x, [](T v) { return std::isfinite(v); });
      }
    } else {
      // Integers are always finite and never NaN or infinite.
      const bool value = which == FloatClass::finite;
      unary_kernel<T, bool>(out, x, [value](T) { return value; });
    }
  });
}

void exp(const Tensor& out, const Tensor& x) { unary(out, x, UnaryOp::exp); }
void sqrt(const Tensor& out, const Tensor& x) { unary(out, x, UnaryOp::sqrt); }

void clamp(const Tensor& out, const Tensor& x, double min_value, double max_value) {
  dispatch_all(out.dtype(), "clamp", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL("clamp: not supported for bool tensors");
    } else {
      // NaN bounds mean "no bound"; NaN inputs propagate, as in PyTorch.
      const bool has_min = !std::isnan(min_value);
      const bool has_max = !std::isnan(max_value);
      const T lo = has_min ? static_cast<T>(min_value) : std::numeric_limits<T>::lowest();
      const T hi = has_max ? static_cast<T>(max_value) : std::numeric_limits<T>::max();
      unary_kernel<T>(out, x, [lo, hi](T v) { return v < lo ? lo : (v > hi ? hi : v); });
    }
  });
}

}  // namespace ember::cpu
