// CPU kernels for the arithmetic ops. Twin: ops/elementwise.cpp (API, checks, backward).
#include "ops/cpu/elementwise.h"

#include "engine/dispatch.h"
#include "ops/cpu/loops.h"

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

}  // namespace ember::cpu
