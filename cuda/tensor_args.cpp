// cuda/tensor_args.h: Tensors -> launcher arguments.
#include "cuda/tensor_args.h"

#include "engine/error.h"

namespace ember::cuda {

static_assert(static_cast<int>(ScalarType::f32) == static_cast<int>(DType::f32) &&
                  static_cast<int>(ScalarType::f64) == static_cast<int>(DType::f64) &&
                  static_cast<int>(ScalarType::i64) == static_cast<int>(DType::i64) &&
                  static_cast<int>(ScalarType::i32) == static_cast<int>(DType::i32) &&
                  static_cast<int>(ScalarType::u8) == static_cast<int>(DType::u8) &&
                  static_cast<int>(ScalarType::bool_) == static_cast<int>(DType::bool_) &&
                  static_cast<int>(ScalarType::bf16) == static_cast<int>(DType::bf16) &&
                  static_cast<int>(ScalarType::f16) == static_cast<int>(DType::f16),
              "cuda::ScalarType must number the dtypes like ember::DType");

ScalarType scalar_type(DType dtype) { return static_cast<ScalarType>(dtype); }

StridedLayout layout_of(const Tensor& t, const char* op) {
  EMBER_CHECK(t.dim() <= StridedLayout::kMaxDims, "{}: CUDA kernels take at most {} dims, got {}", op,
              StridedLayout::kMaxDims, t.describe());
  StridedLayout layout;
  layout.ndim = static_cast<int>(t.dim());
  layout.numel = t.numel();
  for (int d = 0; d < layout.ndim; ++d) {
    layout.sizes[d] = t.size(d);
    layout.strides[d] = t.stride(d);
  }
  layout.contiguous = t.is_contiguous();
  return layout;
}

Stream stream_of(const Tensor& t) { return current_stream(t.device().index); }

int common_cuda_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t || !t->defined()) continue;
    EMBER_CHECK(t->device().is_cuda(), "{}: expected CUDA tensors, got {}", op, t->describe());
    if (!first) first = t;
    EMBER_CHECK(t->device() == first->device(), "{}: expected all tensors on one device, got {} and {}", op,
                first->describe(), t->describe());
  }
  EMBER_CHECK(first != nullptr, "{}: no CUDA tensor given", op);
  return first->device().index;
}

}  // namespace ember::cuda
