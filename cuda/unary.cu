// Unary math kernels on the GPU: one functor per op with the formulas of ops/cpu/unary.cpp, run
// by launch_map (cuda/elementwise_map.cuh); bf16/f16 compute in float. Launchers:
// cuda/unary_launch.h; Tensor level: cuda/unary.cpp.
#include <type_traits>

#include "cuda/device_math.cuh"
#include "cuda/elementwise_map.cuh"
#include "cuda/unary_launch.h"

namespace ember::cuda {

namespace {

// One functor per op: UnaryFn<UnaryKind::exp, A>{}(v). Rounding is the identity on integers.
template <UnaryKind kKind, class A> struct UnaryFn {
  __device__ A operator()(A v) const {
    constexpr bool floating = std::is_floating_point_v<A>;
    if constexpr (kKind == UnaryKind::abs) return math::abs(v);
    else if constexpr (kKind == UnaryKind::sign) return math::sign(v);
    else if constexpr (kKind == UnaryKind::square) return static_cast<A>(v * v);
    else if constexpr (!floating) return v;  // floor, ceil, round, trunc of an integer
    else if constexpr (kKind == UnaryKind::floor) return math::floor(v);
    else if constexpr (kKind == UnaryKind::ceil) return math::ceil(v);
    else if constexpr (kKind == UnaryKind::round) return math::rint(v);
    else if constexpr (kKind == UnaryKind::trunc) return math::trunc(v);
    else if constexpr (kKind == UnaryKind::exp) return math::exp(v);
    else if constexpr (kKind == UnaryKind::expm1) return math::expm1(v);
    else if constexpr (kKind == UnaryKind::log) return math::log(v);
    else if constexpr (kKind == UnaryKind::log1p) return math::log1p(v);
    else if constexpr (kKind == UnaryKind::log2) return math::log2(v);
    else if constexpr (kKind == UnaryKind::sqrt) return math::sqrt(v);
    else if constexpr (kKind == UnaryKind::rsqrt) return A(1) / math::sqrt(v);
    else if constexpr (kKind == UnaryKind::sin) return math::sin(v);
    else if constexpr (kKind == UnaryKind::cos) return math::cos(v);
    else if constexpr (kKind == UnaryKind::tan) return math::tan(v);
    else if constexpr (kKind == UnaryKind::erf) return math::erf(v);
    else if constexpr (kKind == UnaryKind::erfinv) return math::erfinv(v);
    else return A(1) / v;  // reciprocal
  }
};

template <class T> constexpr bool is_float_type = std::is_floating_point_v<T> || is_half_v<T>;

// Calls f(std::integral_constant<UnaryKind, kind>{}) for the runtime `kind`: one instantiation per op.
template <class F> void with_kind(UnaryKind kind, F&& f) {
  using K = UnaryKind;
  switch (kind) {
#define EMBER_UNARY_CASE(name) \
  case K::name: return f(std::integral_constant<K, K::name>{});
    EMBER_UNARY_CASE(exp) EMBER_UNARY_CASE(expm1) EMBER_UNARY_CASE(log) EMBER_UNARY_CASE(log1p)
    EMBER_UNARY_CASE(log2) EMBER_UNARY_CASE(sqrt) EMBER_UNARY_CASE(rsqrt) EMBER_UNARY_CASE(sin)
    EMBER_UNARY_CASE(cos) EMBER_UNARY_CASE(tan) EMBER_UNARY_CASE(erf) EMBER_UNARY_CASE(erfinv)
    EMBER_UNARY_CASE(reciprocal) EMBER_UNARY_CASE(abs) EMBER_UNARY_CASE(sign) EMBER_UNARY_CASE(square)
    EMBER_UNARY_CASE(floor) EMBER_UNARY_CASE(ceil) EMBER_UNARY_CASE(round) EMBER_UNARY_CASE(trunc)
#undef EMBER_UNARY_CASE
  }
}

template <class A> struct ClassifyFn {
  FloatClassKind which;
  __device__ bool operator()(A v) const {
    // Integers are always finite (math:: answers so for them).
    if (which == FloatClassKind::nan) return math::is_nan(v);
    if (which == FloatClassKind::inf) return math::is_inf(v);
    return math::is_finite(v);
  }
};

// Bounds flagged off by has_min / has_max (a NaN bound on the host); NaN inputs pass through.
template <class A> struct ClampFn {
  A lo, hi;
  bool has_min, has_max;
  __device__ A operator()(A v) const {
    if (has_min && v < lo) v = lo;
    if (has_max && v > hi) v = hi;
    return v;
  }
};

}  // namespace

void launch_unary(UnaryKind kind, ScalarType type, const Operand& out, const Operand& x, Stream stream) {
  dispatch_scalar_type(type, "unary", [&]<class T>() {
    with_kind(kind, [&]<UnaryKind kKind>(std::integral_constant<UnaryKind, kKind>) {
      [[maybe_unused]] constexpr bool float_only = kKind <= UnaryKind::reciprocal;
      if constexpr (std::is_same_v<T, bool>) {
        detail::kernel_error("unary", "not supported for bool tensors");
      } else if constexpr (float_only && !is_float_type<T>) {
        detail::kernel_error("unary", "floating dtypes only (integers are converted to float32 by the op)");
      } else {
        launch_map<T, T>("unary", stream, UnaryFn<kKind, acc_t<T>>{}, out, {x});
      }
    });
  });
}

void launch_classify(FloatClassKind which, ScalarType x_type, const Operand& out, const Operand& x, Stream stream) {
  dispatch_scalar_type(x_type, "isfinite", [&]<class T>() {
    launch_map<bool, T>("isfinite", stream, ClassifyFn<acc_t<T>>{which}, out, {x});
  });
}

void launch_clamp(ScalarType type, const Operand& out, const Operand& x, double min_value, double max_value,
                  Stream stream) {
  dispatch_scalar_type(type, "clamp", [&]<class T>() {
    using A = acc_t<T>;
    if constexpr (std::is_same_v<T, bool>) {
      detail::kernel_error("clamp", "not supported for bool tensors");
    } else {
      const bool has_min = min_value == min_value, has_max = max_value == max_value;  // NaN = no bound
      const ClampFn<A> f{has_min ? static_cast<A>(min_value) : A(0), has_max ? static_cast<A>(max_value) : A(0),
                         has_min, has_max};
      launch_map<T, T>("clamp", stream, f, out, {x});
    }
  });
}

}  // namespace ember::cuda
