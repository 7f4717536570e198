// CPU kernels for the arithmetic ops. Twin: ops/elementwise.cpp (API, checks, backward).
#include "ops/cpu/elementwise.h"

#include "engine/dispatch.h"
#include "ops/cpu/loops.h"
#include "ops/cpu/math.h"

namespace ember::cpu {

void add(const Tensor& out, const Tensor& a, const Tensor& b, double alpha) {
  dispatch_all(out.dtype(), "add", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      binary_kernel<T>(out, a, b, [](bool x, bool y) { return x || y; });
    } else if (alpha == 1.0) {
      binary_kernel<T>(out, a, b, [](T x, T y) { return static_cast<T>(x + y); });
    } else {
      const T alpha_t = static_cast<T>(alpha);
      binary_kernel<T>(out, a, b, [alpha_t](T x, T y) { return static_cast<T>(x + alpha_t * y); });
    }
  });
}

void mul(const Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), "mul", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      binary_kernel<T>(out, a, b, [](bool x, bool y) { return x && y; });
    } else {
      binary_kernel<T>(out, a, b, [](T x, T y) { return static_cast<T>(x * y); });
    }
  });
}

void div(const Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_floating(out.dtype(), "div", [&]<class T>() {
    binary_kernel<T>(out, a, b, [](T x, T y) { return x / y; });
  });
}

void neg(const Tensor& out, const Tensor& a) {
  dispatch_all(out.dtype(), "neg", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL("neg: negation of a bool tensor is not supported; use logical_not");
    } else {
      unary_kernel<T>(out, a, [](T x) { return static_cast<T>(-x); });
    }
  });
}

void pow(const Tensor& out, const Tensor& base, const Tensor& exponent) {
  dispatch_all(out.dtype(), "pow", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL("pow: not supported for bool tensors");
    } else if constexpr (std::is_floating_point_v<T>) {
      binary_kernel<T>(out, base, exponent, [](T x, T e) { return std::pow(x, e); });
    } else {
      binary_kernel<T>(out, base, exponent, [](T x, T e) { return math::int_pow(x, e); });
    }
  });
}

// The common exponents get exact, vectorisable loops instead of std::pow.
void pow_scalar(const Tensor& out, const Tensor& base, double exponent) {
  dispatch_all(out.dtype(), "pow", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL("pow: not supported for bool tensors");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (exponent == 2.0) return unary_kernel<T>(out, base, [](T x) { return x * x; });
      if (exponent == 3.0) return unary_kernel<T>(out, base, [](T x) { return x * x * x; });
      if (exponent == 1.0) return unary_kernel<T>(out, base, [](T x) { return x; });
      if (exponent == 0.5) return unary_kernel<T>(out, base, [](T x) { return std::sqrt(x); });
      if (exponent == -1.0) return unary_kernel<T>(out, base, [](T x) { return T(1) / x; });
      if (exponent == -0.5) return unary_kernel<T>(out, base, [](T x) { return T(1) / std::sqrt(x); });
      const T e = static_cast<T>(exponent);
      unary_kernel<T>(out, base, [e](T x) { return std::pow(x, e); });
    } else {
      const T e = static_cast<T>(exponent);
      unary_kernel<T>(out, base, [e](T x) { return math::int_pow(x, e); });
    }
  });
}

// `x < y || isnan(x)` keeps NaN from either side (a NaN y fails x < y and is picked) and still
// compiles to compare + blend.
void minimum(const Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), "minimum", [&]<class T>() {
    if constexpr (std::is_floating_point_v<T>) {
      binary_kernel<T>(out, a, b, [](T x, T y) { return (x < y || std::isnan(x)) ? x : y; });
    } else {
      binary_kernel<T>(out, a, b, [](T x, T y) { return x < y ? x : y; });
    }
  });
}

void maximum(const Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), "maximum", [&]<class T>() {
    if constexpr (std::is_floating_point_v<T>) {
      binary_kernel<T>(out, a, b, [](T x, T y) { return (x > y || std::isnan(x)) ? x : y; });
    } else {
      binary_kernel<T>(out, a, b, [](T x, T y) { return x > y ? x : y; });
    }
  });
}

// PyTorch's two-sided form: exact at weight 0 and at weight 1.
void lerp(const Tensor& out, const Tensor& start, const Tensor& end, const Tensor& weight) {
  dispatch_floating(out.dtype(), "lerp", [&]<class T>() {
    ternary_kernel<T>(out, start, end, weight, [](T s, T e, T w) {
      return std::fabs(w) < T(0.5) ? s + w * (e - s) : e - (e - s) * (T(1) - w);
    });
  });
}

void lerp(const Tensor& out, const Tensor& start, const Tensor& end, double weight) {
  dispatch_floating(out.dtype(), "lerp", [&]<class T>() {
    const T w = static_cast<T>(weight);
    if (std::fabs(weight) < 0.5) {
      binary_kernel<T>(out, start, end, [w](T s, T e) { return s + w * (e - s); });
    } else {
      binary_kernel<T>(out, start, end, [w](T s, T e) { return e - (e - s) * (T(1) - w); });
    }
  });
}

void addcmul(const Tensor& out, const Tensor& x, const Tensor& a, const Tensor& b, double value) {
  dispatch_all(out.dtype(), "addcmul", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL("addcmul: not supported for bool tensors");
    } else {
      const T v = static_cast<T>(value);
      ternary_kernel<T>(out, x, a, b, [v](T s, T p, T q) { return static_cast<T>(s + v * p * q); });
    }
  });
}

void addcdiv(const Tensor& out, const Tensor& x, const Tensor& a, const Tensor& b, double value) {
  dispatch_floating(out.dtype(), "addcdiv", [&]<class T>() {
    const T v = static_cast<T>(value);
    ternary_kernel<T>(out, x, a, b, [v](T s, T p, T q) { return s + v * p / q; });
  });
}

void fmod(const Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), "fmod", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL("fmod: not supported for bool tensors");
    } else {
      binary_kernel<T>(out, a, b, [](T x, T y) { return math::fmod(x, y); });
    }
  });
}

void remainder(const Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), "remainder", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL("remainder: not supported for bool tensors");
    } else {
      binary_kernel<T>(out, a, b, [](T x, T y) { return math::remainder(x, y); });
    }
  });
}

}  // namespace ember::cpu
