// Vector quantization ops: argument checks, dispatch to the CPU kernels (ops/cpu/vq.cpp) or the
// CUDA ones (cuda/vq.cpp) and the straight-through backward. Twins: ops/vq.h (API), docs/VQ.md
// (math and choices).
#include "ops/vq.h"

#include <cmath>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "cuda/vq.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "engine/profiler.h"
#include "ops/cpu/vq.h"
#include "ops/index.h"

namespace ember {

namespace {

// Every index in [0, K): an out-of-range code would read past the codebook. CPU tensors only (the
// CUDA kernels check while they read, cuda/vq.h).
void check_index_range(const char* op, const Tensor& indices, int64_t K) {
  const Tensor flat = indices.contiguous();
  const int64_t* data = flat.data_ptr<int64_t>();
  for (int64_t n = 0; n < flat.numel(); ++n) {
    EMBER_CHECK(data[n] >= 0 && data[n] < K, "{}: index {} at position {} is outside the codebook's [0, {})", op,
                data[n], n, K);
  }
}

void check_indices(const char* op, const Tensor& indices) {
  check_defined(op, indices, "indices");
  EMBER_CHECK(indices.dtype() == DType::i64, "{}: indices must be int64, got {}", op, indices.describe());
}

void check_codebook(const char* op, const Tensor& codebook) {
  check_defined(op, codebook, "codebook");
  EMBER_CHECK(codebook.dim() == 2 && codebook.size(0) >= 1,
              "{}: codebook must be (K, D) with K >= 1, got {}", op, codebook.describe());
  EMBER_CHECK(is_floating(codebook.dtype()), "{}: codebook must be floating point, got {}", op, codebook.describe());
}

}  // namespace

NearestCodes vq_nearest(const Tensor& z, const Tensor& codebook) {
  constexpr const char* kOp = "vq_nearest";
  EMBER_PROFILE_OP(kOp, {z, codebook},
                   profiler::OpCost{z.defined() && codebook.defined() && codebook.dim() == 2
                                        ? 2.0 * static_cast<double>(z.numel()) * static_cast<double>(codebook.size(0))
                                        : 0.0,
                                    0.0});
  check_defined(kOp, z, "z");
  check_codebook(kOp, codebook);
  check_same_device(kOp, {&z, &codebook});
  EMBER_CHECK(z.dim() == 2 && z.size(1) == codebook.size(1),
              "{}: z must be (N, D) with the codebook's D; got z {}, codebook {}", kOp, z.describe(),
              codebook.describe());
  EMBER_CHECK(z.dtype() == codebook.dtype(), "{}: z {} and codebook {} must share one floating dtype", kOp,
              z.describe(), codebook.describe());
  const int64_t N = z.size(0), K = codebook.size(0), D = z.size(1);
  NearestCodes result{zeros({N}, TensorOptions(DType::i64).device(z.device())),
                      zeros({N}, TensorOptions(z.dtype()).device(z.device()))};
  if (N == 0 || D == 0) return result;  // no rows, or every code at distance 0: code 0
  const Tensor zc = z.detach().contiguous(), cc = codebook.detach().contiguous();
  if (z.device().is_cuda()) {
    EMBER_CUDA_KERNEL(kOp, cuda::vq_nearest(zc, cc, result.indices, result.distances));
    return result;
  }
  dispatch_floating(z.dtype(), kOp, [&]<class T>() {
    cpu::vq_nearest<T>(N, K, D, zc.data_ptr<T>(), cc.data_ptr<T>(), result.indices.data_ptr<int64_t>(),
                       result.distances.data_ptr<T>());
  });
  return result;
}

Tensor vq_quantize_st(const Tensor& z, const Tensor& codebook, const Tensor& indices) {
  constexpr const char* kOp = "vq_quantize_st";
  EMBER_PROFILE_OP(kOp, {z, codebook, indices}, profiler::OpCost{0.0, 0.0});
  check_defined(kOp, z, "z");
  check_codebook(kOp, codebook);
  check_indices(kOp, indices);
  check_same_device(kOp, {&z, &codebook, &indices});
  EMBER_CHECK(z.dim() >= 1 && z.size(-1) == codebook.size(1) && z.dtype() == codebook.dtype(),
              "{}: z (..., D) must have the codebook's D and dtype; got z {}, codebook {}", kOp, z.describe(),
              codebook.describe());
  Shape rows_shape(z.sizes().begin(), z.sizes().end() - 1);
  EMBER_CHECK(indices.sizes() == rows_shape, "{}: indices {} must have z's shape without the last dim ({}); z {}",
              kOp, indices.describe(), shape_str(rows_shape), z.describe());
  Tensor out;
  if (z.device().is_cuda()) {
    out = empty(z.sizes(), TensorOptions(z.dtype()).device(z.device()));
    EMBER_CUDA_KERNEL(kOp, cuda::vq_gather_codes(kOp, codebook.detach().contiguous(), indices.contiguous(), out));
  } else {
    check_index_range(kOp, indices, codebook.size(0));
    NoGradGuard no_grad;
    out = index_select(codebook.detach(), 0, indices.reshape({-1})).reshape(z.sizes()).contiguous();
  }
  // The straight-through estimator: d out / d z = identity; the codebook gets no gradient.
  record_backward(kOp, {z}, {out}, {}, [](BackwardContext& ctx) -> TensorList { return {ctx.grad(0)}; });
  return out;
}

Tensor vq_code_counts(const Tensor& indices, int64_t K) {
  constexpr const char* kOp = "vq_code_counts";
  check_indices(kOp, indices);
  EMBER_CHECK(K >= 1, "{}: K must be >= 1, got {}", kOp, K);
  const Tensor flat = indices.contiguous();
  Tensor counts = empty({K}, TensorOptions(DType::i64).device(indices.device()));
  if (indices.device().is_cuda()) {
    EMBER_CUDA_KERNEL(kOp, cuda::vq_code_counts(kOp, flat, K, counts));
    return counts;
  }
  check_index_range(kOp, indices, K);
  cpu::vq_code_counts(flat.numel(), K, flat.data_ptr<int64_t>(), counts.data_ptr<int64_t>());
  return counts;
}

double vq_perplexity(const Tensor& counts) {
  constexpr const char* kOp = "vq_perplexity";
  check_defined(kOp, counts, "counts");
  EMBER_CHECK(counts.dim() == 1 && counts.dtype() != DType::bool_,
              "{}: counts must be a 1-d numeric tensor (K), got {}", kOp, counts.describe());
  // K numbers: a CUDA tensor is read back (the result is a host double anyway).
  const Tensor c = (counts.device().is_cuda() ? counts.cpu() : counts).to(DType::f64).contiguous();
  const double* data = c.data_ptr<double>();
  double total = 0.0;
  for (int64_t k = 0; k < c.numel(); ++k) {
    EMBER_CHECK(data[k] >= 0.0 && std::isfinite(data[k]), "{}: count {} of code {} must be finite and >= 0", kOp,
                data[k], k);
    total += data[k];
  }
  EMBER_CHECK(total > 0.0, "{}: counts {} sum to 0 (no code used: the distribution is undefined)", kOp,
              counts.describe());
  double entropy = 0.0;
  for (int64_t k = 0; k < c.numel(); ++k) {
    if (data[k] > 0.0) entropy -= (data[k] / total) * std::log(data[k] / total);
  }
  return std::exp(entropy);
}

}  // namespace ember
