// Dtype and device dispatch for kernels. One visible switch picks the C++ type; kernels are
// templates written once for all dtypes (no copy-paste per dtype).
//
//   dispatch_floating(x.dtype(), "gelu", [&]<class T>() { cpu::gelu_fwd<T>(...); });
#pragma once
#include <initializer_list>

#include "engine/dtype.h"
#include "engine/error.h"
#include "engine/tensor.h"
#include "ember_config.h"

namespace ember {

// f32 and f64: what differentiable kernels support on the CPU.
template <class F> decltype(auto) dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    default: break;
  }
  EMBER_FAIL("{}: no CPU kernel for dtype {} (expected float32 or float64)", op, dtype_name(dtype));
}

// Every numeric dtype except the 16-bit storage types.
template <class F> decltype(auto) dispatch_all(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    case DType::i64: return f.template operator()<int64_t>();
    case DType::i32: return f.template operator()<int32_t>();
    case DType::u8: return f.template operator()<uint8_t>();
    case DType::bool_: return f.template operator()<bool>();
    default: break;
  }
  EMBER_FAIL("{}: no CPU kernel for dtype {}", op, dtype_name(dtype));
}

// Every dtype including bf16/f16 (copies and conversions).
template <class F> decltype(auto) dispatch_with_half(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::bf16: return f.template operator()<bfloat16>();
    case DType::f16: return f.template operator()<float16>();
    default: return dispatch_all(dtype, op, std::forward<F>(f));
  }
}

// Note [CUDA dispatch]: an op with a CUDA kernel picks it with one visible switch,
//   if (x.device().is_cuda()) EMBER_CUDA_KERNEL("gelu", cuda::gelu_fwd(y, x)); else cpu::gelu_fwd(y, x);
// where cuda::gelu_fwd (cuda/<family>.h) has the signature of cpu::gelu_fwd. The cuda/ sources are
// compiled only in a CUDA build, so without CUDA the macro drops the call and raises "built
// without CUDA" (unreachable in practice: no CUDA tensor can be made there).
#if EMBER_WITH_CUDA
#define EMBER_CUDA_KERNEL(op, ...) (__VA_ARGS__)
#else
#define EMBER_CUDA_KERNEL(op, ...) ::ember::fail_built_without_cuda(op)
#endif
[[noreturn]] void fail_built_without_cuda(const char* op);

// Errors clearly (op, device, dtype) when a tensor is not on the CPU: for ops that have no CUDA
// kernel yet, so that no op silently touches device memory.
void check_cpu(const char* op, std::initializer_list<const Tensor*> tensors);
// Errors unless all defined tensors share one device.
void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors);
// Errors on an undefined tensor argument.
void check_defined(const char* op, const Tensor& t, const char* argument_name);

}  // namespace ember
