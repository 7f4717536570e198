// CPU kernels for the unary math ops. Twin: ops/unary.cpp.
#include "ops/cpu/unary.h"

#include <cmath>
#include <limits>

#include "engine/dispatch.h"
#include "ops/cpu/loops.h"

namespace ember::cpu {

void exp(const Tensor& out, const Tensor& x) {
  dispatch_floating(out.dtype(), "exp", [&]<class T>() { unary_kernel<T>(out, x, [](T v) { return std::exp(v); }); });
}

void sqrt(const Tensor& out, const Tensor& x) {
  dispatch_floating(out.dtype(), "sqrt", [&]<class T>() { unary_kernel<T>(out, x, [](T v) { return std::sqrt(v); }); });
}

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
