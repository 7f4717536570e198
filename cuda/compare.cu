// Comparison, logical and where kernels on the GPU (formulas of ops/cpu/compare.cpp), run by
// launch_map (cuda/elementwise_map.cuh). Launchers: cuda/compare_launch.h; Tensor level:
// cuda/compare.cpp. Every dtype; bf16/f16 compare after an exact widening to float.
#include <type_traits>

#include "cuda/compare_launch.h"
#include "cuda/elementwise_map.cuh"

namespace ember::cuda {

namespace {

template <CompareKind kKind, class A> struct CompareFn {
  __device__ bool operator()(A x, A y) const {
    if constexpr (kKind == CompareKind::eq) return x == y;
    else if constexpr (kKind == CompareKind::ne) return x != y;
    else if constexpr (kKind == CompareKind::lt) return x < y;
    else if constexpr (kKind == CompareKind::le) return x <= y;
    else if constexpr (kKind == CompareKind::gt) return x > y;
    else if constexpr (kKind == CompareKind::ge) return x >= y;
    else if constexpr (kKind == CompareKind::logical_and) return x != A(0) && y != A(0);
    else if constexpr (kKind == CompareKind::logical_or) return x != A(0) || y != A(0);
    else return (x != A(0)) != (y != A(0));  // logical_xor
  }
};

template <class A> struct LogicalNotFn {
  __device__ bool operator()(A x) const { return x == A(0); }
};

template <class A> struct WhereFn {
  __device__ A operator()(bool c, A x, A y) const { return c ? x : y; }
};

// Calls f(std::integral_constant<CompareKind, kind>{}) for the runtime `kind`.
template <class F> void with_kind(CompareKind kind, F&& f) {
  using K = CompareKind;
  switch (kind) {
#define EMBER_COMPARE_CASE(name) \
  case K::name: return f(std::integral_constant<K, K::name>{});
    EMBER_COMPARE_CASE(eq) EMBER_COMPARE_CASE(ne) EMBER_COMPARE_CASE(lt) EMBER_COMPARE_CASE(le)
    EMBER_COMPARE_CASE(gt) EMBER_COMPARE_CASE(ge) EMBER_COMPARE_CASE(logical_and)
    EMBER_COMPARE_CASE(logical_or) EMBER_COMPARE_CASE(logical_xor)
#undef EMBER_COMPARE_CASE
  }
}

}  // namespace

void launch_compare(CompareKind kind, ScalarType type, const Operand& out, const Operand& a, const Operand& b,
                    Stream stream) {
  dispatch_scalar_type(type, "compare", [&]<class T>() {
    with_kind(kind, [&]<CompareKind kKind>(std::integral_constant<CompareKind, kKind>) {
      launch_map<bool, T, T>("compare", stream, CompareFn<kKind, acc_t<T>>{}, out, {a, b});
    });
  });
}

void launch_logical_not(ScalarType type, const Operand& out, const Operand& a, Stream stream) {
  dispatch_scalar_type(type, "logical_not", [&]<class T>() {
    launch_map<bool, T>("logical_not", stream, LogicalNotFn<acc_t<T>>{}, out, {a});
  });
}

void launch_where(ScalarType type, const Operand& out, const Operand& condition, const Operand& a, const Operand& b,
                  Stream stream) {
  dispatch_scalar_type(type, "where", [&]<class T>() {
    // bf16/f16 widen to float and narrow back: exact, so the selected element is unchanged.
    launch_map<T, bool, T, T>("where", stream, WhereFn<acc_t<T>>{}, out, {condition, a, b});
  });
}

}  // namespace ember::cuda
