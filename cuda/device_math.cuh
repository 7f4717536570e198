// Device-side scalar math for the elementwise families (cuda/{elementwise,unary,activation}.cu):
// float/double overloads of the CUDA math library picked by type, and the helpers of
// ops/cpu/math.h with the same formulas and conventions (sign of NaN is 0, remainder takes the
// divisor's sign, integer powers by squaring with wrap-around). Included only by .cu files.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

namespace ember::cuda::math {

// dm::exp(v) etc.: expf for float, exp for double (no reliance on <cmath> overloads in device code).
#define EMBER_DEVICE_FLOAT_FN(name)                                                        \
  template <class A> __device__ __forceinline__ A name(A v) {                              \
    static_assert(std::is_floating_point_v<A>, #name ": floating types only");            \
    if constexpr (std::is_same_v<A, float>) return ::name##f(v); else return ::name(v);    \
  }
EMBER_DEVICE_FLOAT_FN(exp)
EMBER_DEVICE_FLOAT_FN(expm1)
EMBER_DEVICE_FLOAT_FN(log)
EMBER_DEVICE_FLOAT_FN(log1p)
EMBER_DEVICE_FLOAT_FN(log2)
EMBER_DEVICE_FLOAT_FN(sqrt)
EMBER_DEVICE_FLOAT_FN(sin)
EMBER_DEVICE_FLOAT_FN(cos)
EMBER_DEVICE_FLOAT_FN(tan)
EMBER_DEVICE_FLOAT_FN(tanh)
EMBER_DEVICE_FLOAT_FN(erf)
EMBER_DEVICE_FLOAT_FN(erfinv)
EMBER_DEVICE_FLOAT_FN(fabs)
EMBER_DEVICE_FLOAT_FN(floor)
EMBER_DEVICE_FLOAT_FN(ceil)
EMBER_DEVICE_FLOAT_FN(trunc)
EMBER_DEVICE_FLOAT_FN(rint)  // round half to even (the default rounding mode), as std::nearbyint
#undef EMBER_DEVICE_FLOAT_FN

template <class A> __device__ __forceinline__ A pow(A x, A e) {
  if constexpr (std::is_same_v<A, float>) return ::powf(x, e); else return ::pow(x, e);
}
template <class A> __device__ __forceinline__ A fmod(A x, A y) {
  if constexpr (std::is_same_v<A, float>) return ::fmodf(x, y); else return ::fmod(x, y);
}

template <class A> __device__ __forceinline__ bool is_nan(A v) {
  if constexpr (std::is_floating_point_v<A>) return v != v; else return false;
}

// v - v is NaN exactly for inf and NaN (IEEE arithmetic; nvcc does not fold it without fast math),
// which spares the platform-dependent isinf/isfinite overloads of the CUDA headers.
template <class A> __device__ __forceinline__ bool is_finite(A v) {
  if constexpr (std::is_floating_point_v<A>) return !is_nan(v - v); else return true;
}
template <class A> __device__ __forceinline__ bool is_inf(A v) { return !is_nan(v) && !is_finite(v); }

template <class A> __device__ __forceinline__ A sigmoid(A x) { return A(1) / (A(1) + exp(-x)); }

// abs: fabs for floats (-0.0 -> +0.0), identity for unsigned.
template <class A> __device__ __forceinline__ A abs(A v) {
  if constexpr (std::is_floating_point_v<A>) return fabs(v);
  else if constexpr (std::is_unsigned_v<A>) return v;
  else return v < A(0) ? static_cast<A>(-v) : v;
}

// -1, 0 or +1; NaN gives 0 (both comparisons false), as torch.sign.
template <class A> __device__ __forceinline__ A sign(A v) {
  if constexpr (std::is_unsigned_v<A>) return static_cast<A>(v > A(0));
  else return static_cast<A>((A(0) < v) - (v < A(0)));
}

// ops/cpu/math.h int_pow: negative exponents as integer division of 1 / base^|e|; unsigned
// multiplication so overflow wraps.
template <class A> __device__ __forceinline__ A int_pow(A base, A exponent) {
  if constexpr (std::is_signed_v<A>) {
    if (exponent < 0) {
      if (base == 1) return 1;
      if (base == -1) return (exponent & 1) ? A(-1) : A(1);
      return 0;
    }
  }
  using U = std::make_unsigned_t<A>;
  U result = 1, b = static_cast<U>(base);
  U e = static_cast<U>(exponent);
  while (e) {
    if (e & 1u) result = static_cast<U>(result * b);
    b = static_cast<U>(b * b);
    e >>= 1;
  }
  return static_cast<A>(result);
}

// C's fmod (the dividend's sign); integer x % -1 is 0 (INT_MIN % -1 would overflow). Integer
// division by zero is rejected by ops/elementwise.cpp before any kernel runs.
template <class A> __device__ __forceinline__ A c_fmod(A a, A b) {
  if constexpr (std::is_floating_point_v<A>) {
    return fmod(a, b);
  } else {
    if constexpr (std::is_signed_v<A>) {
      if (b == A(-1)) return 0;
    }
    return static_cast<A>(a % b);
  }
}

// Python's % (the divisor's sign), torch.remainder.
template <class A> __device__ __forceinline__ A remainder(A a, A b) {
  A r = c_fmod(a, b);
  if constexpr (std::is_signed_v<A> || std::is_floating_point_v<A>) {
    if (r != A(0) && ((r < A(0)) != (b < A(0)))) r = static_cast<A>(r + b);
  }
  return r;
}

// log(1 + exp(-|x|)): the non-linear part of softplus and logsigmoid.
template <class A> __device__ __forceinline__ A log1p_exp_neg_abs(A x) { return log1p(exp(-fabs(x))); }

// tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2); exactly 1 past x = 20 (ops/cpu/math.h).
template <class A> __device__ __forceinline__ A tanh_softplus(A x) {
  const A e = exp(x);
  const A n = e * (e + A(2));
  return x > A(20) ? A(1) : n / (n + A(2));
}

}  // namespace ember::cuda::math
