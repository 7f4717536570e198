// Arithmetic kernels on the GPU: one small functor per op (same formulas as ops/cpu/elementwise.cpp)
// run by launch_map (cuda/elementwise_map.cuh). Functors take and return the compute type A
// (acc_t: float for bf16/f16). Launchers: cuda/elementwise_launch.h; Tensor level: cuda/elementwise.cpp.
// Dtypes: what the CPU kernel takes (integers and bool where it does), plus bf16/f16 for every
// floating op; an unsupported (op, dtype) pair is an error before any launch.
#include <type_traits>

#include "cuda/device_math.cuh"
#include "cuda/elementwise_map.cuh"

namespace ember::cuda {

namespace {

template <class A> struct AddOp {  // a + alpha b; bool: a || b (alpha is 1 or -1 there, and sub of bools is refused)
  A alpha;
  __device__ A operator()(A x, A y) const {
    if constexpr (std::is_same_v<A, bool>) return x || y;
    else return static_cast<A>(x + alpha * y);
  }
};
template <class A> struct AddOneOp {  // alpha == 1: a + b exactly as the CPU's dedicated loop
  __device__ A operator()(A x, A y) const {
    if constexpr (std::is_same_v<A, bool>) return x || y;
    else return static_cast<A>(x + y);
  }
};
template <class A> struct MulOp {
  __device__ A operator()(A x, A y) const {
    if constexpr (std::is_same_v<A, bool>) return x && y;
    else return static_cast<A>(x * y);
  }
};
template <class A> struct DivOp {
  __device__ A operator()(A x, A y) const { return x / y; }
};
template <class A> struct PowOp {
  __device__ A operator()(A x, A e) const {
    if constexpr (std::is_floating_point_v<A>) return math::pow(x, e);
    else return math::int_pow(x, e);
  }
};
// `x < y || isnan(x)` keeps NaN from either side (a NaN y fails x < y and is picked), as the CPU.
template <class A> struct MinimumOp {
  __device__ A operator()(A x, A y) const { return (x < y || math::is_nan(x)) ? x : y; }
};
template <class A> struct MaximumOp {
  __device__ A operator()(A x, A y) const { return (x > y || math::is_nan(x)) ? x : y; }
};
template <class A> struct FmodOp {
  __device__ A operator()(A x, A y) const { return math::c_fmod(x, y); }
};
template <class A> struct RemainderOp {
  __device__ A operator()(A x, A y) const { return math::remainder(x, y); }
};
template <class A> struct NegOp {
  __device__ A operator()(A x) const { return static_cast<A>(-x); }
};

// Integer exponents of floats take exact forms (x * x rather than pow), as ops/cpu/elementwise.cpp.
template <class A> struct PowScalarOp {
  A e;
  __device__ A operator()(A x) const {
    if constexpr (std::is_floating_point_v<A>) {
      if (e == A(2)) return x * x;
      if (e == A(3)) return x * x * x;
      if (e == A(1)) return x;
      if (e == A(0.5)) return math::sqrt(x);
      if (e == A(-1)) return A(1) / x;
      if (e == A(-0.5)) return A(1) / math::sqrt(x);
      return math::pow(x, e);
    } else {
      return math::int_pow(x, e);
    }
  }
};

// PyTorch's two-sided lerp: exact at weight 0 and at weight 1.
template <class A> __device__ __forceinline__ A lerp_value(A s, A e, A w, bool small_weight) {
  return small_weight ? s + w * (e - s) : e - (e - s) * (A(1) - w);
}
template <class A> struct LerpOp {
  __device__ A operator()(A s, A e, A w) const { return lerp_value(s, e, w, math::fabs(w) < A(0.5)); }
};
template <class A> struct LerpScalarOp {
  A w;
  bool small_weight;  // decided once in double on the host, as the CPU does
  __device__ A operator()(A s, A e) const { return lerp_value(s, e, w, small_weight); }
};
template <class A> struct AddcmulOp {
  A value;
  __device__ A operator()(A s, A p, A q) const { return static_cast<A>(s + value * p * q); }
};
template <class A> struct AddcdivOp {
  A value;
  __device__ A operator()(A s, A p, A q) const { return s + value * p / q; }
};

template <class T> constexpr bool is_float_type = std::is_floating_point_v<T> || is_half_v<T>;

[[noreturn]] void unsupported(const char* op, const char* dtypes) {
  detail::kernel_error(op, dtypes);
}

const char* binary_name(BinaryKind kind) {
  switch (kind) {
    case BinaryKind::add: return "add";
    case BinaryKind::mul: return "mul";
    case BinaryKind::div: return "div";
    case BinaryKind::pow: return "pow";
    case BinaryKind::minimum: return "minimum";
    case BinaryKind::maximum: return "maximum";
    case BinaryKind::fmod: return "fmod";
    case BinaryKind::remainder: return "remainder";
  }
  return "binary";
}

}  // namespace

void launch_binary(BinaryKind kind, ScalarType type, const Operand& out, const Operand& a, const Operand& b,
                   double alpha, Stream stream) {
  const char* op = binary_name(kind);
  dispatch_scalar_type(type, op, [&]<class T>() {
    using A = acc_t<T>;
    constexpr bool is_bool = std::is_same_v<T, bool>;
    auto run = [&](const auto& f) { launch_map<T, T, T>(op, stream, f, out, {a, b}); };
    switch (kind) {
      case BinaryKind::add:
        if (alpha == 1.0) return run(AddOneOp<A>{});
        return run(AddOp<A>{static_cast<A>(alpha)});
      case BinaryKind::mul: return run(MulOp<A>{});
      case BinaryKind::div:
        if constexpr (is_float_type<T>) return run(DivOp<A>{});
        else unsupported(op, "floating dtypes only (integers are promoted by the op)");
      case BinaryKind::minimum: return run(MinimumOp<A>{});
      case BinaryKind::maximum: return run(MaximumOp<A>{});
      case BinaryKind::pow:
      case BinaryKind::fmod:
      case BinaryKind::remainder:
        if constexpr (is_bool) {
          unsupported(op, "not supported for bool tensors");
        } else {
          if (kind == BinaryKind::pow) return run(PowOp<A>{});
          if (kind == BinaryKind::fmod) return run(FmodOp<A>{});
          return run(RemainderOp<A>{});
        }
    }
  });
}

void launch_neg(ScalarType type, const Operand& out, const Operand& a, Stream stream) {
  dispatch_scalar_type(type, "neg", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) unsupported("neg", "negation of a bool tensor is not supported; use logical_not");
    else launch_map<T, T>("neg", stream, NegOp<acc_t<T>>{}, out, {a});
  });
}

void launch_pow_scalar(ScalarType type, const Operand& out, const Operand& base, double exponent, Stream stream) {
  dispatch_scalar_type(type, "pow", [&]<class T>() {
    using A = acc_t<T>;
    if constexpr (std::is_same_v<T, bool>) unsupported("pow", "not supported for bool tensors");
    else launch_map<T, T>("pow", stream, PowScalarOp<A>{static_cast<A>(exponent)}, out, {base});
  });
}

void launch_lerp_scalar(ScalarType type, const Operand& out, const Operand& start, const Operand& end, double weight,
                        Stream stream) {
  dispatch_floating_type(type, "lerp", [&]<class T>() {
    using A = acc_t<T>;
    const bool small_weight = weight < 0.5 && weight > -0.5;
    launch_map<T, T, T>("lerp", stream, LerpScalarOp<A>{static_cast<A>(weight), small_weight}, out, {start, end});
  });
}

void launch_ternary(TernaryKind kind, ScalarType type, const Operand& out, const Operand& x, const Operand& a,
                    const Operand& b, double value, Stream stream) {
  const char* op = kind == TernaryKind::lerp ? "lerp" : (kind == TernaryKind::addcmul ? "addcmul" : "addcdiv");
  dispatch_scalar_type(type, op, [&]<class T>() {
    using A = acc_t<T>;
    auto run = [&](const auto& f) { launch_map<T, T, T, T>(op, stream, f, out, {x, a, b}); };
    if constexpr (is_float_type<T>) {
      if (kind == TernaryKind::lerp) return run(LerpOp<A>{});
      if (kind == TernaryKind::addcdiv) return run(AddcdivOp<A>{static_cast<A>(value)});
      return run(AddcmulOp<A>{static_cast<A>(value)});
    } else if constexpr (!std::is_same_v<T, bool>) {
      if (kind == TernaryKind::addcmul) return run(AddcmulOp<A>{static_cast<A>(value)});
      unsupported(op, "floating dtypes only");
    } else {
      unsupported(op, "not supported for bool tensors");
    }
  });
}

}  // namespace ember::cuda
