// cuda/embedding.h: checks and unpacks the tensors for the launchers of cuda/embedding.cu; the
// backward's sort workspace is a byte tensor from the device's caching allocator.
#include "cuda/embedding.h"

#include <limits>

#include "cuda/embedding_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

void check_indices(const char* op, const Tensor& indices) {
  EMBER_CHECK(indices.dtype() == DType::i64 && indices.is_contiguous(), "{}: expected contiguous int64 indices, got {}",
              op, indices.describe());
}

}  // namespace

void embedding_fwd(const Tensor& out, const Tensor& weight, const Tensor& indices, int64_t zero_row) {
  const char* op = "embedding";
  const int device = common_cuda_device(op, {&out, &weight, &indices});
  check_indices(op, indices);
  const int64_t n = indices.numel(), D = weight.size(1);
  EMBER_CHECK(weight.dim() == 2 && out.is_contiguous() && out.numel() == n * D && out.dtype() == weight.dtype(),
              "{}: output {} does not fit {} rows of weight {}", op, out.describe(), n, weight.describe());
  DeviceGuard guard(device);
  embedding_forward(out.raw_data(), weight.raw_data(), scalar_type(weight.dtype()), weight.stride(0), weight.stride(1),
                    static_cast<const int64_t*>(indices.raw_data()), n, D, zero_row, stream_of(weight));
}

void embedding_bwd(const Tensor& grad_weight, const Tensor& grad, const Tensor& indices, int64_t skip_row) {
  const char* op = "embedding_backward";
  const int device = common_cuda_device(op, {&grad_weight, &grad, &indices});
  check_indices(op, indices);
  const int64_t n = indices.numel(), V = grad_weight.size(0), D = grad_weight.size(1);
  EMBER_CHECK(grad_weight.is_contiguous() && grad.is_contiguous() && grad.numel() == n * D &&
                  grad.dtype() == grad_weight.dtype(),
              "{}: expected contiguous grad {} with {} rows of grad_weight {}", op, grad.describe(), n,
              grad_weight.describe());
  EMBER_CHECK(n <= std::numeric_limits<int>::max(), "{}: {} indices is more than the CUDA sort takes (2^31 - 1)", op, n);
  DeviceGuard guard(device);
  const size_t bytes = embedding_backward_workspace_bytes(n, V);
  const Tensor workspace = make_tensor({static_cast<int64_t>(bytes)}, DType::u8, grad.device());
  embedding_backward(grad_weight.raw_data(), grad.raw_data(), scalar_type(grad.dtype()),
                     static_cast<const int64_t*>(indices.raw_data()), n, V, D, skip_row, workspace.raw_data(), bytes,
                     stream_of(grad));
}

}  // namespace ember::cuda
