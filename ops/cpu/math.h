// Scalar math shared by the elementwise kernels (ops/cpu/unary.cpp, ops/cpu/activation.cpp,
// ops/cpu/elementwise.cpp): what <cmath> lacks (sigmoid, erfinv, integer powers) and PyTorch's
// conventions where they differ from C's (sign of NaN is 0, remainder takes the divisor's sign).
// Everything is branch-light and inline so the contiguous loops in ops/cpu/loops.h stay simple.
#pragma once
#include <cmath>
#include <limits>
#include <type_traits>

namespace ember::cpu::math {

template <class T> inline T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }

// abs without the unsigned "always false" comparison; fabs for floats keeps -0.0 -> +0.0.
template <class T> inline T abs(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::fabs(v);
  else if constexpr (std::is_unsigned_v<T>) return v;
  else return v < T(0) ? static_cast<T>(-v) : v;
}

// -1, 0 or +1; NaN gives 0 as in torch.sign (the two comparisons are both false).
template <class T> inline T sign(T v) {
  if constexpr (std::is_unsigned_v<T>) return static_cast<T>(v > T(0));
  else return static_cast<T>((T(0) < v) - (v < T(0)));
}

// Integer power by squaring. Negative exponents follow integer division of 1 / base^|e|:
// 1 for base 1, +-1 for base -1, 0 otherwise. Multiplies in unsigned arithmetic so overflow
// wraps (as in PyTorch) instead of being undefined behaviour.
template <class T> inline T int_pow(T base, T exponent) {
  if constexpr (std::is_signed_v<T>) {
    if (exponent < 0) {
      if (base == 1) return 1;
      if (base == -1) return (exponent & 1) ? T(-1) : T(1);
      return 0;
    }
  }
  using U = std::make_unsigned_t<T>;
  U result = 1, b = static_cast<U>(base);
  U e = static_cast<U>(exponent);
  while (e) {
    if (e & 1u) result = static_cast<U>(result * b);
    b = static_cast<U>(b * b);
    e >>= 1;
  }
  return static_cast<T>(result);
}

// C's fmod: the result takes the dividend's sign. Integer division by zero is rejected by the
// API before the kernel runs; x % -1 is special-cased because INT_MIN % -1 traps on x86.
template <class T> inline T fmod(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::fmod(a, b);
  } else {
    if constexpr (std::is_signed_v<T>) {
      if (b == T(-1)) return 0;
    }
    return static_cast<T>(a % b);
  }
}

// Python's %: the result takes the divisor's sign (torch.remainder).
template <class T> inline T remainder(T a, T b) {
  T r = math::fmod(a, b);
  if constexpr (std::is_signed_v<T> || std::is_floating_point_v<T>) {
    if (r != T(0) && ((r < T(0)) != (b < T(0)))) r = static_cast<T>(r + b);
  }
  return r;
}

// Inverse error function on [-1, 1]: a rational first guess (the one PyTorch's calc_erfinv uses)
// polished by two Newton steps on erf(x) - y, which brings it to full double precision.
template <class T> inline T erfinv(T y) {
  const T y_abs = std::fabs(y);
  if (!(y_abs <= T(1))) return std::numeric_limits<T>::quiet_NaN();  // also NaN in, NaN out
  if (y_abs == T(1)) return std::copysign(std::numeric_limits<T>::infinity(), y);
  constexpr T a[4] = {T(0.886226899), T(-1.645349621), T(0.914624893), T(-0.140543331)};
  constexpr T b[4] = {T(-2.118377725), T(1.442710462), T(-0.329097515), T(0.012229801)};
  constexpr T c[4] = {T(-1.970840454), T(-1.624906493), T(3.429567803), T(1.641345311)};
  constexpr T d[2] = {T(3.543889200), T(1.637067800)};
  T x;
  if (y_abs <= T(0.7)) {
    const T z = y * y;
    const T num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];
    const T den = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + T(1);
    x = y * num / den;
  } else {
    const T z = std::sqrt(-std::log((T(1) - y_abs) / T(2)));
    const T num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0];
    const T den = (d[1] * z + d[0]) * z + T(1);
    x = std::copysign(num / den, y);
  }
  const T two_over_sqrt_pi = T(1.128379167095512573896158903121545172);
  for (int step = 0; step < 2; ++step) x -= (std::erf(x) - y) / (two_over_sqrt_pi * std::exp(-x * x));
  return x;
}

}  // namespace ember::cpu::math
