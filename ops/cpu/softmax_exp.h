// Vectorisable exp and row reductions for the softmax kernels (ops/cpu/softmax.cpp).
// std::exp is an opaque libm call that blocks SIMD without -ffast-math, and a plain `s += x[i]`
// loop is a serial dependency chain; these are branch-free arithmetic the compiler vectorises.
#pragma once
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <type_traits>

namespace ember::cpu {

// exp(x) by range reduction x = n ln2 + r, |r| <= ln2/2, a Taylor polynomial for exp(r) (degree
// 7 for float, 13 for double: truncation below half an ulp) and 2^n built in the exponent bits
// as 2^(n/2) * 2^(n - n/2), so subnormal and near-overflow results need no special case.
// Within a few ulp of std::exp for normal results; 0 below the subnormal range (float: x < -88.5,
// an absolute error under 4e-39), +inf on overflow; NaN propagates.
template <class T>
inline T fast_exp(T x) {
  static_assert(std::is_floating_point_v<T>);
  using Bits = std::conditional_t<std::is_same_v<T, float>, int32_t, int64_t>;
  constexpr bool is_float = std::is_same_v<T, float>;
  constexpr T low = is_float ? T(-88.5) : T(-745.0);   // below: 0
  constexpr T high = is_float ? T(88.8) : T(709.9);    // above: +inf (exp overflows before)
  constexpr int mantissa_bits = is_float ? 23 : 52;
  constexpr Bits bias = is_float ? 127 : 1023;
  constexpr T log2e = T(1.4426950408889634074);
  constexpr T ln2_hi = is_float ? T(0.693145751953125) : T(6.93147180369123816490e-01);
  constexpr T ln2_lo = is_float ? T(1.428606765330187045e-06) : T(1.90821492927058770002e-10);
  const T clamped = x < low ? low : (x > high ? high : x);
  // Adding 1.5 * 2^mantissa_bits rounds x / ln2 to the integer n, held in the low mantissa bits.
  constexpr T shifter = T(1.5) * T(Bits{1} << mantissa_bits);
  const T shifted = clamped * log2e + shifter;
  const T n = shifted - shifter;
  const T r = (clamped - n * ln2_hi) - n * ln2_lo;
  T p;
  if constexpr (is_float) {
    p = T(1) / T(5040);
    for (T c : {T(1) / T(720), T(1) / T(120), T(1) / T(24), T(1) / T(6), T(0.5), T(1), T(1)}) p = p * r + c;
  } else {
    p = T(1) / T(6227020800.0);  // 1/13!
    for (T c : {T(1) / T(479001600.0), T(1) / T(39916800.0), T(1) / T(3628800.0), T(1) / T(362880.0),
                T(1) / T(40320.0), T(1) / T(5040.0), T(1) / T(720.0), T(1) / T(120.0), T(1) / T(24.0), T(1) / T(6.0),
                T(0.5), T(1), T(1)})
      p = p * r + c;
  }
  const Bits n_int = std::bit_cast<Bits>(shifted) - std::bit_cast<Bits>(shifter);
  const Bits half = n_int >> 1;  // floor(n / 2)
  const T scale_a = std::bit_cast<T>((half + bias) << mantissa_bits);
  const T scale_b = std::bit_cast<T>((n_int - half + bias) << mantissa_bits);
  const T result = p * scale_a * scale_b;
  return x < low ? T(0) : (x > high ? std::numeric_limits<T>::infinity() : result);
}

// Row reductions with independent lanes, so the loops vectorise without reassociation flags.
inline constexpr int kLanes = 16;

template <class T>
inline T row_max(const T* x, int64_t n) {
  T lanes[kLanes];
  for (int k = 0; k < kLanes; ++k) lanes[k] = -std::numeric_limits<T>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) lanes[k] = x[i + k] > lanes[k] ? x[i + k] : lanes[k];
  T result = -std::numeric_limits<T>::infinity();
  for (int k = 0; k < kLanes; ++k) result = lanes[k] > result ? lanes[k] : result;
  for (; i < n; ++i) result = x[i] > result ? x[i] : result;
  return result;
}

template <class T>
inline T row_sum(const T* x, int64_t n) {
  T lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) lanes[k] += x[i + k];
  T result = 0;
  for (int k = 0; k < kLanes; ++k) result += lanes[k];
  for (; i < n; ++i) result += x[i];
  return result;
}

template <class T>
inline T row_dot(const T* a, const T* b, int64_t n) {
  T lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) lanes[k] += a[i + k] * b[i + k];
  T result = 0;
  for (int k = 0; k < kLanes; ++k) result += lanes[k];
  for (; i < n; ++i) result += a[i] * b[i];
  return result;
}

}  // namespace ember::cpu
