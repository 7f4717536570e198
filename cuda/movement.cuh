// Device helpers shared by the data-movement families (cuda/index.cu, shape.cu, pool.cu, sort.cu,
// interpolate.cu, fold.cu): dtype switches mirroring the CPU's (engine/dispatch.h), copies typed
// by element size, and the row-major unravelling of a linear index. Included only by .cu files.
#pragma once
#include "cuda/kernel_util.cuh"

namespace ember::cuda {

inline int element_size_of(ScalarType type) {
  switch (type) {
    case ScalarType::f64:
    case ScalarType::i64: return 8;
    case ScalarType::f32:
    case ScalarType::i32: return 4;
    case ScalarType::bf16:
    case ScalarType::f16: return 2;
    case ScalarType::u8:
    case ScalarType::bool_: return 1;
  }
  return 1;
}

// Pure copies (gathers) only move bytes: one kernel per element size serves every dtype.
template <class F> void dispatch_word(ScalarType type, F&& f) {
  switch (element_size_of(type)) {
    case 8: return f.template operator()<uint64_t>();
    case 4: return f.template operator()<uint32_t>();
    case 2: return f.template operator()<uint16_t>();
    default: return f.template operator()<uint8_t>();
  }
}

// The dtypes of the CPU's dispatch_all (no 16-bit floats): kernels that compute on values and
// must accept exactly what the CPU accepts.
template <class F> void dispatch_cpu_type(ScalarType type, const char* op, F&& f) {
  switch (type) {
    case ScalarType::f32: return f.template operator()<float>();
    case ScalarType::f64: return f.template operator()<double>();
    case ScalarType::i64: return f.template operator()<int64_t>();
    case ScalarType::i32: return f.template operator()<int32_t>();
    case ScalarType::u8: return f.template operator()<uint8_t>();
    case ScalarType::bool_: return f.template operator()<bool>();
    default: break;
  }
  detail::kernel_error(op, "no kernel for this dtype (as on the CPU: float32, float64, int64, int32, uint8, bool)");
}

// f32 and f64 only: the CPU's dispatch_floating.
template <class F> void dispatch_cpu_floating(ScalarType type, const char* op, F&& f) {
  switch (type) {
    case ScalarType::f32: return f.template operator()<float>();
    case ScalarType::f64: return f.template operator()<double>();
    default: break;
  }
  detail::kernel_error(op, "no kernel for this dtype (as on the CPU: float32 or float64)");
}

// a + scale * b with the CPU's rules (bool: a || (scale && b); integers wrap like static_cast).
template <class T> __device__ __forceinline__ T add_scaled(T a, T scale, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return a || (scale && b);
  } else {
    return static_cast<T>(a + scale * b);
  }
}

}  // namespace ember::cuda
