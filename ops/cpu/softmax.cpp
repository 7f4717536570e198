// CPU kernels for softmax / log_softmax, forward and fused backward. Twin: ops/softmax.cpp.
// Numerically stable: the row maximum is subtracted before exp, so no finite input overflows.
#include "ops/cpu/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/dispatch.h"
#include "engine/parallel.h"
#include "ops/cpu/math.h"

namespace ember::cpu {

using math::fast_exp;
using math::kReductionLanes;
using math::row_dot;
using math::row_max;
using math::row_sum;

namespace {

// Columns handled together on the strided path: enough for SIMD, small enough for the stack.
constexpr int64_t kColumnBlock = 64;

int64_t row_grain(int64_t row_length) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, row_length)); }

// x, y: (rows, D), contiguous.
template <class T>
void softmax_fwd_rows(const T* x, T* y, int64_t rows, int64_t D, bool log) {
  parallel_for(rows, row_grain(D), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* xr = x + r * D;
      T* yr = y + r * D;
      const T max_value = row_max(xr, D);
      for (int64_t d = 0; d < D; ++d) yr[d] = fast_exp(xr[d] - max_value);
      const T total = row_sum(yr, D);
      if (log) {
        // (x - max) - log(total), not x - (max + log(total)): keeps float32 exact near large x.
        const T log_total = std::log(total);
        for (int64_t d = 0; d < D; ++d) yr[d] = (xr[d] - max_value) - log_total;
      } else {
        const T inverse = T(1) / total;
        for (int64_t d = 0; d < D; ++d) yr[d] *= inverse;
      }
    }
  });
}

// x, y: (outer, D, inner), contiguous; softmax over D. Work items are (outer, column block).
template <class T>
void softmax_fwd_columns(const T* x, T* y, SoftmaxLayout L, bool log) {
  const int64_t blocks = (L.inner + kColumnBlock - 1) / kColumnBlock;
  parallel_for(L.outer * blocks, row_grain(L.size * kColumnBlock), [&](int64_t begin, int64_t end) {
    T max_value[kColumnBlock], total[kColumnBlock];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t o = item / blocks;
      const int64_t c0 = (item % blocks) * kColumnBlock;
      const int64_t width = std::min(kColumnBlock, L.inner - c0);
      const T* xb = x + o * L.size * L.inner + c0;
      T* yb = y + o * L.size * L.inner + c0;
      for (int64_t i = 0; i < width; ++i) {
        max_value[i] = -std::numeric_limits<T>::infinity();
        total[i] = 0;
      }
      for (int64_t d = 0; d < L.size; ++d) {
        const T* xr = xb + d * L.inner;
        for (int64_t i = 0; i < width; ++i) max_value[i] = xr[i] > max_value[i] ? xr[i] : max_value[i];
      }
      // exp(x - max) goes into y (overwritten below for log_softmax) and into the column sums.
      for (int64_t d = 0; d < L.size; ++d) {
        const T* xr = xb + d * L.inner;
        T* yr = yb + d * L.inner;
        for (int64_t i = 0; i < width; ++i) {
          yr[i] = fast_exp(xr[i] - max_value[i]);
          total[i] += yr[i];
        }
      }
      if (log) {
        for (int64_t i = 0; i < width; ++i) total[i] = std::log(total[i]);
        for (int64_t d = 0; d < L.size; ++d)
          for (int64_t i = 0; i < width; ++i)
            yb[d * L.inner + i] = (xb[d * L.inner + i] - max_value[i]) - total[i];
      } else {
        for (int64_t i = 0; i < width; ++i) total[i] = T(1) / total[i];
        for (int64_t d = 0; d < L.size; ++d)
          for (int64_t i = 0; i < width; ++i) yb[d * L.inner + i] *= total[i];
      }
    }
  });
}

// g, y, gi: (rows, D), contiguous.
template <class T>
void softmax_bwd_rows(const T* g, const T* y, T* gi, int64_t rows, int64_t D, bool log) {
  parallel_for(rows, row_grain(D), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* gr = g + r * D;
      const T* yr = y + r * D;
      T* out = gi + r * D;
      if (log) {
        const T total = row_sum(gr, D);
        for (int64_t d = 0; d < D; ++d) out[d] = gr[d] - fast_exp(yr[d]) * total;
      } else {
        const T total = row_dot(gr, yr, D);
        for (int64_t d = 0; d < D; ++d) out[d] = yr[d] * (gr[d] - total);
      }
    }
  });
}

// g, y, gi: (outer, D, inner), contiguous.
template <class T>
void softmax_bwd_columns(const T* g, const T* y, T* gi, SoftmaxLayout L, bool log) {
  const int64_t blocks = (L.inner + kColumnBlock - 1) / kColumnBlock;
  parallel_for(L.outer * blocks, row_grain(L.size * kColumnBlock), [&](int64_t begin, int64_t end) {
    T total[kColumnBlock];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t o = item / blocks;
      const int64_t base = o * L.size * L.inner + (item % blocks) * kColumnBlock;
      const int64_t width = std::min(kColumnBlock, L.inner - (item % blocks) * kColumnBlock);
      for (int64_t i = 0; i < width; ++i) total[i] = 0;
      for (int64_t d = 0; d < L.size; ++d) {
        const int64_t at = base + d * L.inner;
        if (log) {
          for (int64_t i = 0; i < width; ++i) total[i] += g[at + i];
        } else {
          for (int64_t i = 0; i < width; ++i) total[i] += g[at + i] * y[at + i];
        }
      }
      for (int64_t d = 0; d < L.size; ++d) {
        const int64_t at = base + d * L.inner;
        if (log) {
          for (int64_t i = 0; i < width; ++i) gi[at + i] = g[at + i] - fast_exp(y[at + i]) * total[i];
        } else {
          for (int64_t i = 0; i < width; ++i) gi[at + i] = y[at + i] * (g[at + i] - total[i]);
        }
      }
    }
  });
}

}  // namespace

void softmax_fwd(const Tensor& out, const Tensor& x, SoftmaxLayout layout, bool log) {
  dispatch_floating(x.dtype(), log ? "log_softmax" : "softmax", [&]<class T>() {
    if (layout.inner == 1) {
      softmax_fwd_rows<T>(x.data_ptr<T>(), out.data_ptr<T>(), layout.outer, layout.size, log);
    } else {
      softmax_fwd_columns<T>(x.data_ptr<T>(), out.data_ptr<T>(), layout, log);
    }
  });
}

void softmax_bwd(const Tensor& grad_in, const Tensor& grad_out, const Tensor& y, SoftmaxLayout layout, bool log) {
  dispatch_floating(y.dtype(), log ? "log_softmax_backward" : "softmax_backward", [&]<class T>() {
    if (layout.inner == 1) {
      softmax_bwd_rows<T>(grad_out.data_ptr<T>(), y.data_ptr<T>(), grad_in.data_ptr<T>(), layout.outer, layout.size, log);
    } else {
      softmax_bwd_columns<T>(grad_out.data_ptr<T>(), y.data_ptr<T>(), grad_in.data_ptr<T>(), layout, log);
    }
  });
}

}  // namespace ember::cpu
