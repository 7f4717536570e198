// CPU kernels for embedding: row gather (forward) and deterministic scatter-add (backward).
// Twin: ops/embedding.cpp.
#include "ops/cpu/embedding.h"

#include <algorithm>

#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace ember::cpu {

void embedding_fwd(const Tensor& out, const Tensor& weight, const Tensor& indices, int64_t zero_row) {
  const int64_t n = indices.numel();
  const int64_t D = weight.size(1);
  const int64_t* idx = indices.data_ptr<int64_t>();
  const int64_t row_stride = weight.stride(0), col_stride = weight.stride(1);
  dispatch_floating(weight.dtype(), "embedding", [&]<class T>() {
    const T* w = weight.data_ptr<T>();
    T* o = out.data_ptr<T>();
    parallel_for(n, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, D)), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        T* dst = o + i * D;
        if (idx[i] == zero_row) {
          std::fill(dst, dst + D, T(0));
          continue;
        }
        const T* src = w + idx[i] * row_stride;
        if (col_stride == 1) {
          std::copy(src, src + D, dst);
        } else {
          for (int64_t d = 0; d < D; ++d) dst[d] = src[d * col_stride];
        }
      }
    });
  });
}

void embedding_bwd(const Tensor& grad_weight, const Tensor& grad, const Tensor& indices, int64_t skip_row) {
  const int64_t n = indices.numel();
  const int64_t V = grad_weight.size(0);
  const int64_t D = grad_weight.size(1);
  const int64_t* idx = indices.data_ptr<int64_t>();
  dispatch_floating(grad_weight.dtype(), "embedding_backward", [&]<class T>() {
    const T* g = grad.data_ptr<T>();
    T* gw = grad_weight.data_ptr<T>();
    // Each thread owns a range of vocabulary rows and scans all indices in order, so every row
    // sums its contributions in index order: the same bits on any thread count, and no atomics.
    const int64_t grain = std::max<int64_t>(1, V * kParallelGrain / std::max<int64_t>(1, n * D));
    parallel_for(V, grain, [&](int64_t row_begin, int64_t row_end) {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t v = idx[i];
        if (v < row_begin || v >= row_end || v == skip_row) continue;
        T* dst = gw + v * D;
        const T* src = g + i * D;
        for (int64_t d = 0; d < D; ++d) dst[d] += src[d];
      }
    });
  });
}

}  // namespace ember::cpu
