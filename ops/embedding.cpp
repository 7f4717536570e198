// embedding: API, checks, dispatch and backward. Kernels: ops/cpu/embedding.cpp.
// Formulas: autograd/derivatives/nn.md.
//
// Two linear ops that are each other's adjoint: the gather (forward) and the scatter-add
// (embedding_backward). The adjoint of the scatter-add is the gather with the padding row read as
// zero (those rows never received gradient), so the gather takes a `zero_padding` flag that is
// off for the user-facing forward and on inside double backward.
#include "ops/embedding.h"

#include "autograd/function.h"
#include "cuda/embedding.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/embedding.h"
#include "ops/flops.h"

namespace ember {

namespace {

// Indices as contiguous int64 (on their device), every one checked against [0, V). CUDA indices
// are checked on a host copy: one transfer that synchronizes with the device.
Tensor checked_indices(const char* op, const Tensor& indices, int64_t V) {
  check_defined(op, indices, "indices");
  EMBER_CHECK(indices.dtype() == DType::i64 || indices.dtype() == DType::i32,
              "{}: indices must be int64 or int32, got {}", op, indices.describe());
  Tensor idx = indices.to(DType::i64).contiguous();
  const Tensor host = idx.device().is_cpu() ? idx : idx.cpu();
  const int64_t* p = host.data_ptr<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i) {
    EMBER_CHECK(p[i] >= 0 && p[i] < V, "{}: index {} at position {} is out of range for {} rows (valid: [0, {}))", op,
                p[i], i, V, V);
  }
  return idx;
}

void check_padding_idx(const char* op, int64_t padding_idx, int64_t V) {
  EMBER_CHECK(padding_idx >= -1 && padding_idx < V, "{}: padding_idx {} must be in [0, {}) or -1 for none", op,
              padding_idx, V);
}

Tensor embedding_gather(const Tensor& indices, const Tensor& weight, int64_t padding_idx, bool zero_padding);

Tensor embedding_scatter(const Tensor& grad, const Tensor& indices, int64_t V, int64_t padding_idx) {
  EMBER_PROFILE_OP("embedding_backward", {grad, indices}, flops::movement({grad, indices}, flops::numel(grad)));
  const char* op = "embedding_backward";
  check_defined(op, grad, "grad");
  check_defined(op, indices, "indices");
  check_same_device(op, {&grad, &indices});
  EMBER_CHECK(is_floating(grad.dtype()), "{}: grad must be floating, got {}", op, grad.describe());
  EMBER_CHECK(V >= 0, "{}: num_weights must be non-negative, got {}", op, V);
  check_padding_idx(op, padding_idx, V);
  Tensor idx = checked_indices(op, indices, V);
  Shape expected = indices.sizes();
  expected.push_back(grad.dim() > 0 ? grad.size(-1) : 0);
  EMBER_CHECK(grad.dim() == indices.dim() + 1 && grad.sizes() == expected,
              "{}: grad {} does not match indices {} plus an embedding dim", op, grad.describe(), indices.describe());
  const int64_t D = grad.size(-1);
  Tensor out = zeros({V, D}, TensorOptions(grad.dtype()).device(grad.device()));
  const Tensor g = grad.contiguous();
  if (grad.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::embedding_bwd(out, g, idx, padding_idx));
  else cpu::embedding_bwd(out, g, idx, padding_idx);
  record_backward(op, {grad}, {out}, {indices}, [padding_idx](BackwardContext& ctx) -> TensorList {
    return {embedding_gather(ctx.saved(0), ctx.grad(0), padding_idx, /*zero_padding=*/true)};
  });
  return out;
}

Tensor embedding_gather(const Tensor& indices, const Tensor& weight, int64_t padding_idx, bool zero_padding) {
  EMBER_PROFILE_OP("embedding", {indices, weight}, flops::embedding(indices, weight));
  const char* op = "embedding";
  check_defined(op, weight, "weight");
  check_defined(op, indices, "indices");
  check_same_device(op, {&indices, &weight});
  EMBER_CHECK(weight.dim() == 2, "{}: weight must be 2-D (num_embeddings, embedding_dim), got {}", op,
              weight.describe());
  EMBER_CHECK(is_floating(weight.dtype()), "{}: weight must be floating, got {}", op, weight.describe());
  const int64_t V = weight.size(0);
  check_padding_idx(op, padding_idx, V);
  Tensor idx = checked_indices(op, indices, V);
  Shape out_shape = indices.sizes();
  out_shape.push_back(weight.size(1));
  Tensor out = make_tensor(out_shape, weight.dtype(), weight.device());
  const int64_t zero_row = zero_padding ? padding_idx : -1;
  if (weight.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::embedding_fwd(out, weight, idx, zero_row));
  else cpu::embedding_fwd(out, weight, idx, zero_row);
  record_backward(op, {weight}, {out}, {indices}, [V, padding_idx](BackwardContext& ctx) -> TensorList {
    return {embedding_scatter(ctx.grad(0), ctx.saved(0), V, padding_idx)};
  });
  return out;
}

}  // namespace

Tensor embedding(const Tensor& indices, const Tensor& weight, int64_t padding_idx) {
  return embedding_gather(indices, weight, padding_idx, /*zero_padding=*/false);
}

Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights, int64_t padding_idx) {
  return embedding_scatter(grad, indices, num_weights, padding_idx);
}

}  // namespace ember
