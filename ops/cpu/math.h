// Scalar math shared by the elementwise kernels (ops/cpu/unary.cpp, ops/cpu/activation.cpp,
// ops/cpu/elementwise.cpp): what <cmath> lacks (sigmoid, erfinv, integer powers) and PyTorch's
// conventions where they differ from C's (sign of NaN is 0, remainder takes the divisor's sign).
// Everything is branch-light and inline so the contiguous loops in ops/cpu/loops.h stay simple.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

// Forced inlining: in kernel files with dozens of instantiations GCC's inliner budget runs out,
// and one out-of-line call in a loop body is enough to stop vectorisation.
#define EMBER_ALWAYS_INLINE __attribute__((always_inline))
#define EMBER_MATH_INLINE inline EMBER_ALWAYS_INLINE

namespace ember::cpu::math {

template <class T> EMBER_MATH_INLINE T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }

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

// ---- Vectorisable float32 exp, tanh and erf for the activation kernels ----
// glibc's expf/tanhf/erff are opaque calls, so a loop using them stays scalar (tanhf alone costs
// ~30 ns). These are branch-free polynomial versions GCC turns into SIMD code: Cephes' expf
// (about 1 ulp), Cephes' tanhf polynomial near 0 with 1 - 2/(e^2|x| + 1) elsewhere, and the
// Abramowitz-Stegun 7.1.26 erf (absolute error 1.5e-7, the formula PyTorch's AVX2 erf uses).
// The fast_* templates use them for float and keep <cmath> for double, which serves gradcheck
// and references.

EMBER_MATH_INLINE float exp_f32(float x) {
  constexpr float kMax = 88.72283935546875f;  // log(FLT_MAX): above it the result is +inf
  constexpr float kMin = -104.0f;             // below it the result rounds to 0
  const float xc = x < kMin ? kMin : (x > kMax ? kMax : x);
  // x = n ln2 + r with |r| <= ln2 / 2; ln2 split in two parts so n * ln2 is exact enough.
  // 1.5 * 2^23 added and removed rounds to the nearest integer with plain arithmetic.
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float p = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
                    1.6666665459e-1f) * r + 5.0000001201e-1f) * r * r + r + 1.0f;
  // 2^n in two factors: n spans [-150, 128], each half fits a normal float's exponent, and
  // the product rounds to denormals and overflows to inf exactly where the true value does.
  const int32_t n_total = static_cast<int32_t>(n);
  const int32_t n_low = n_total >> 1;
  const int32_t n_high = n_total - n_low;
  const float y = p * std::bit_cast<float>((n_low + 127) << 23) * std::bit_cast<float>((n_high + 127) << 23);
  // One select per statement (and x != x for NaN): GCC's if-conversion gives up on the nested
  // form once exp is combined with log in one loop body.
  float result = x > kMax ? std::numeric_limits<float>::infinity() : y;
  result = x < kMin ? 0.0f : result;
  return x != x ? x : result;
}

EMBER_MATH_INLINE float tanh_f32(float x) {
  const float a = std::fabs(x);
  const float z = x * x;
  const float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                        1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  const float large = 1.0f - 2.0f / (exp_f32(2.0f * a) + 1.0f);  // tanh(|x|)
  return a < 0.625f ? small : (x < 0.0f ? -large : large);
}

EMBER_MATH_INLINE float erf_f32(float x) {
  const float a = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly =
      ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  const float erf_abs = 1.0f - poly * exp_f32(-a * a);
  return x < 0.0f ? -erf_abs : erf_abs;
}

// Natural log for positive normal floats (Cephes logf): x = 2^e m with m in [sqrt(1/2), sqrt(2)),
// log(m) by a degree-9 polynomial in m - 1.
EMBER_MATH_INLINE float log_f32(float x) {
  const int32_t bits = std::bit_cast<int32_t>(x);
  float e = static_cast<float>(((bits >> 23) & 0xff) - 126);
  float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);  // in [0.5, 1)
  const bool small_mantissa = m < 0.707106781186547524f;
  e = small_mantissa ? e - 1.0f : e;
  m = small_mantissa ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = ((((((((7.0376836292e-2f * m - 1.1514610310e-1f) * m + 1.1676998740e-1f) * m - 1.2420140846e-1f) * m +
                 1.4249322787e-1f) * m - 1.6668057665e-1f) * m + 2.0000714765e-1f) * m - 2.4999993993e-1f) * m +
            3.3333331174e-1f) * m * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return m + y + 0.693359375f * e;
}

// log over the whole float range: denormals are scaled into the normal range first, and 0, negative
// numbers, inf and NaN get IEEE results (-inf, NaN, inf, NaN) by selects.
EMBER_MATH_INLINE float log_f32_full(float x) {
  const bool denormal = x < 1.17549435e-38f;
  const float scaled = denormal ? x * 8388608.0f : x;  // * 2^23
  const float y = log_f32(scaled) - (denormal ? 15.9423851528787f : 0.0f);  // 23 ln 2
  float result = x < 0.0f ? std::numeric_limits<float>::quiet_NaN() : y;
  result = x == 0.0f ? -std::numeric_limits<float>::infinity() : result;
  result = x == std::numeric_limits<float>::infinity() ? x : result;
  return x != x ? x : result;
}

template <class T> EMBER_MATH_INLINE T fast_log(T x) {
  if constexpr (std::is_same_v<T, float>) return log_f32_full(x);
  else return std::log(x);
}

// log(1 + exp(-|x|)), the non-linear part of softplus and logsigmoid. For float, log1p(u) is
// log(w) * u / (w - 1) with w = 1 + u, which cancels the rounding of w (Goldberg's trick).
template <class T> EMBER_MATH_INLINE T log1p_exp_neg_abs(T x) {
  if constexpr (std::is_same_v<T, float>) {
    const float u = exp_f32(-std::fabs(x));  // in (0, 1]
    const float w = 1.0f + u;
    // Both sides computed without a possibly-trapping division by 0, so GCC can select instead of branch.
    const float safe_denominator = w == 1.0f ? 1.0f : w - 1.0f;
    const float corrected = log_f32(w) * u / safe_denominator;
    return w == 1.0f ? u : corrected;
  } else {
    return std::log1p(std::exp(-std::fabs(x)));
  }
}

template <class T> EMBER_MATH_INLINE T fast_exp(T x) {
  if constexpr (std::is_same_v<T, float>) return exp_f32(x);
  else return std::exp(x);
}
// exp(x) - 1; the float path loses relative (not absolute) accuracy near 0, as PyTorch's
// vectorised elu does.
template <class T> EMBER_MATH_INLINE T fast_expm1(T x) {
  if constexpr (std::is_same_v<T, float>) return exp_f32(x) - 1.0f;
  else return std::expm1(x);
}
template <class T> EMBER_MATH_INLINE T fast_tanh(T x) {
  if constexpr (std::is_same_v<T, float>) return tanh_f32(x);
  else return std::tanh(x);
}
template <class T> EMBER_MATH_INLINE T fast_erf(T x) {
  if constexpr (std::is_same_v<T, float>) return erf_f32(x);
  else return std::erf(x);
}
template <class T> EMBER_MATH_INLINE T fast_sigmoid(T x) { return T(1) / (T(1) + fast_exp(-x)); }

// tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2): one exp instead of exp, log1p and
// tanh, no cancellation, and exactly 1 (to working precision) past x = 20.
template <class T> EMBER_MATH_INLINE T tanh_softplus(T x) {
  const T e = fast_exp(x);
  const T n = e * (e + T(2));
  return x > T(20) ? T(1) : n / (n + T(2));
}

// ---- Row reductions (softmax, cross-entropy, attention) ----
// One partial per lane: without -ffast-math GCC will not reorder a float max/sum reduction, but it
// vectorises these lane-wise updates.
inline constexpr int kReductionLanes = 16;

template <class T>
inline T row_max(const T* x, int64_t n) {
  T lanes[kReductionLanes];
  for (int k = 0; k < kReductionLanes; ++k) lanes[k] = -std::numeric_limits<T>::infinity();
  int64_t i = 0;
  for (; i + kReductionLanes <= n; i += kReductionLanes)
    for (int k = 0; k < kReductionLanes; ++k) lanes[k] = x[i + k] > lanes[k] ? x[i + k] : lanes[k];
  T result = -std::numeric_limits<T>::infinity();
  for (int k = 0; k < kReductionLanes; ++k) result = lanes[k] > result ? lanes[k] : result;
  for (; i < n; ++i) result = x[i] > result ? x[i] : result;
  return result;
}

template <class T>
inline T row_sum(const T* x, int64_t n) {
  T lanes[kReductionLanes] = {};
  int64_t i = 0;
  for (; i + kReductionLanes <= n; i += kReductionLanes)
    for (int k = 0; k < kReductionLanes; ++k) lanes[k] += x[i + k];
  T result = 0;
  for (int k = 0; k < kReductionLanes; ++k) result += lanes[k];
  for (; i < n; ++i) result += x[i];
  return result;
}

template <class T>
inline T row_dot(const T* a, const T* b, int64_t n) {
  T lanes[kReductionLanes] = {};
  int64_t i = 0;
  for (; i + kReductionLanes <= n; i += kReductionLanes)
    for (int k = 0; k < kReductionLanes; ++k) lanes[k] += a[i + k] * b[i + k];
  T result = 0;
  for (int k = 0; k < kReductionLanes; ++k) result += lanes[k];
  for (; i < n; ++i) result += a[i] * b[i];
  return result;
}

}  // namespace ember::cpu::math
