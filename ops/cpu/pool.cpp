// CPU pooling kernels. Twins: ops/pool.cpp (API, checks, backward), ops/cpu/pool.h (windows).
// Every kernel walks (B, H, W) planes; work is split over planes or output rows with
// parallel_for, and the adjoint kernels split over planes only, so no two threads ever write
// to the same plane.
#include "ops/cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace ember::cpu {

namespace {
// Elements read per output element, to size the parallel grain.
int64_t max_window_elements(const PoolWindows& w) {
  int64_t most = 1;
  for (int64_t o = 0; o < w.output_size(); ++o)
    most = std::max(most, (w.end[o] - w.start[o] + w.step - 1) / w.step);
  return most;
}

int64_t grain_for(int64_t work_per_item) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, work_per_item)); }

// Regular column windows, swept tap by tap: body(ow_begin, ow_end, offset) for each tap j, where
// outputs [ow_begin, ow_end) read input column ow * stride + offset, which lies inside [0, W).
// For one output the taps come in increasing column order, so results (ties, NaN) match the
// window-by-window loop.
template <class Body>
void for_each_column_tap(const PoolWindows& cols, Body body) {
  const int64_t s = cols.stride, W = cols.input_size, OW = cols.output_size();
  for (int64_t j = 0; j < cols.kernel; ++j) {
    const int64_t offset = j * cols.step - cols.padding;
    const int64_t begin = offset >= 0 ? 0 : (-offset + s - 1) / s;
    const int64_t end = W - 1 - offset < 0 ? 0 : std::min(OW, (W - 1 - offset) / s + 1);
    if (begin < end) body(begin, end, offset);
  }
}
}  // namespace

void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, const PoolWindows& rows,
                const PoolWindows& cols) {
  // x: (B, H, W) -> out, indices: (B, OH, OW)
  dispatch_floating(x.dtype(), "max_pool2d", [&]<class T>() {
    const int64_t H = rows.input_size, W = cols.input_size;
    const int64_t OH = rows.output_size(), OW = cols.output_size();
    const int64_t B = x.numel() / std::max<int64_t>(1, H * W);
    const T* in = x.data_ptr<T>();
    T* o = out.data_ptr<T>();
    int64_t* idx = indices.data_ptr<int64_t>();
    const int64_t work = OW * max_window_elements(rows) * max_window_elements(cols);
    parallel_for(B * OH, grain_for(work), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {  // row = (b, oh)
        const int64_t b = row / OH, oh = row % OH;
        const T* plane = in + b * H * W;
        T* o_row = o + row * OW;
        int64_t* idx_row = idx + row * OW;
        const int64_t h0 = rows.start[oh], h1 = rows.end[oh];
        if (cols.kernel > 0) {
          // Regular windows: sweep the output row once per (input row, tap); vectorises.
          for (int64_t ow = 0; ow < OW; ++ow) {
            o_row[ow] = -std::numeric_limits<T>::infinity();
            idx_row[ow] = h0 * W + cols.start[ow];
          }
          for (int64_t h = h0; h < h1; h += rows.step) {
            const T* in_row = plane + h * W;
            for_each_column_tap(cols, [&](int64_t ow_begin, int64_t ow_end, int64_t offset) {
              const int64_t s = cols.stride;
              const int64_t base = h * W + offset;
#pragma omp simd
              for (int64_t ow = ow_begin; ow < ow_end; ++ow) {
                const T v = in_row[ow * s + offset];
                const T current = o_row[ow];
                const bool take = (v > current) | (v != v);  // a NaN wins, as in PyTorch (the last one)
                o_row[ow] = take ? v : current;
                idx_row[ow] = take ? base + ow * s : idx_row[ow];
              }
            });
          }
          continue;
        }
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = cols.start[ow], w1 = cols.end[ow];
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_index = h0 * W + w0;
          for (int64_t h = h0; h < h1; h += rows.step) {
            for (int64_t w = w0; w < w1; w += cols.step) {
              const T v = plane[h * W + w];
              if (v > best || std::isnan(v)) {  // a NaN wins, as in PyTorch (the last one)
                best = v;
                best_index = h * W + w;
              }
            }
          }
          o_row[ow] = best;
          idx_row[ow] = best_index;
        }
      }
    });
  });
}

void avg_pool2d(const Tensor& out, const Tensor& x, const PoolWindows& rows, const PoolWindows& cols) {
  // x: (B, H, W) -> out: (B, OH, OW)
  dispatch_floating(x.dtype(), "avg_pool2d", [&]<class T>() {
    const int64_t H = rows.input_size, W = cols.input_size;
    const int64_t OH = rows.output_size(), OW = cols.output_size();
    const int64_t B = x.numel() / std::max<int64_t>(1, H * W);
    const T* in = x.data_ptr<T>();
    T* o = out.data_ptr<T>();
    const int64_t work = OW * max_window_elements(rows) * max_window_elements(cols);
    parallel_for(B * OH, grain_for(work), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {  // row = (b, oh)
        const int64_t b = row / OH, oh = row % OH;
        const T* plane = in + b * H * W;
        T* o_row = o + row * OW;
        if (cols.kernel > 0) {  // regular windows: accumulate the output row tap by tap
          std::fill(o_row, o_row + OW, T(0));
          for (int64_t h = rows.start[oh]; h < rows.end[oh]; h += rows.step) {
            const T* in_row = plane + h * W;
            for_each_column_tap(cols, [&](int64_t ow_begin, int64_t ow_end, int64_t offset) {
              const int64_t s = cols.stride;
#pragma omp simd
              for (int64_t ow = ow_begin; ow < ow_end; ++ow) o_row[ow] += in_row[ow * s + offset];
            });
          }
          for (int64_t ow = 0; ow < OW; ++ow) o_row[ow] = static_cast<T>(o_row[ow] * (rows.scale[oh] * cols.scale[ow]));
          continue;
        }
        for (int64_t ow = 0; ow < OW; ++ow) {
          T total = 0;
          for (int64_t h = rows.start[oh]; h < rows.end[oh]; h += rows.step)
            for (int64_t w = cols.start[ow]; w < cols.end[ow]; w += cols.step) total += plane[h * W + w];
          o_row[ow] = static_cast<T>(total * (rows.scale[oh] * cols.scale[ow]));
        }
      }
    });
  });
}

void avg_pool2d_adjoint(const Tensor& grad_input, const Tensor& grad, const PoolWindows& rows,
                        const PoolWindows& cols) {
  // grad: (B, OH, OW) -> grad_input: (B, H, W); each window spreads its weighted gradient.
  dispatch_floating(grad.dtype(), "avg_pool2d_backward", [&]<class T>() {
    const int64_t H = rows.input_size, W = cols.input_size;
    const int64_t OH = rows.output_size(), OW = cols.output_size();
    const int64_t B = grad_input.numel() / std::max<int64_t>(1, H * W);
    const T* g = grad.data_ptr<T>();
    T* gi = grad_input.data_ptr<T>();
    const int64_t work = OH * OW * max_window_elements(rows) * max_window_elements(cols) + H * W;
    parallel_for(B, grain_for(work), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        T* plane = gi + b * H * W;
        std::fill(plane, plane + H * W, T(0));
        for (int64_t oh = 0; oh < OH; ++oh) {
          const T* g_row = g + (b * OH + oh) * OW;
          if (cols.kernel > 0) {  // regular windows: one tap spreads to distinct columns
            for (int64_t h = rows.start[oh]; h < rows.end[oh]; h += rows.step) {
              T* gi_row = plane + h * W;
              const double row_scale = rows.scale[oh];
              for_each_column_tap(cols, [&](int64_t ow_begin, int64_t ow_end, int64_t offset) {
                const int64_t s = cols.stride;
                for (int64_t ow = ow_begin; ow < ow_end; ++ow)
                  gi_row[ow * s + offset] += static_cast<T>(g_row[ow] * (row_scale * cols.scale[ow]));
              });
            }
            continue;
          }
          for (int64_t ow = 0; ow < OW; ++ow) {
            const T v = static_cast<T>(g_row[ow] * (rows.scale[oh] * cols.scale[ow]));
            for (int64_t h = rows.start[oh]; h < rows.end[oh]; h += rows.step)
              for (int64_t w = cols.start[ow]; w < cols.end[ow]; w += cols.step) plane[h * W + w] += v;
          }
        }
      }
    });
  });
}

bool plane_scatter_add(const Tensor& out, const Tensor& src, const Tensor& indices) {
  // src, indices: (B, Q) -> out: (B, P)
  bool all_valid = true;
  dispatch_floating(out.dtype(), "max_pool_scatter", [&]<class T>() {
    const int64_t B = src.size(0), Q = src.size(1), P = out.size(1);
    const T* s = src.data_ptr<T>();
    const int64_t* idx = indices.data_ptr<int64_t>();
    T* o = out.data_ptr<T>();
    bool valid = true;
    parallel_for(B, grain_for(Q + P), [&](int64_t begin, int64_t end) {
      bool chunk_valid = true;
      for (int64_t b = begin; b < end; ++b) {
        T* plane = o + b * P;
        std::fill(plane, plane + P, T(0));
        for (int64_t q = 0; q < Q; ++q) {
          const int64_t i = idx[b * Q + q];
          if (i < 0 || i >= P) {
            chunk_valid = false;
            continue;
          }
          plane[i] += s[b * Q + q];
        }
      }
      if (!chunk_valid) {
#pragma omp atomic write
        valid = false;
      }
    });
    all_valid = valid;
  });
  return all_valid;
}

bool plane_gather(const Tensor& out, const Tensor& x, const Tensor& indices) {
  // x: (B, P), indices: (B, Q) -> out: (B, Q)
  bool all_valid = true;
  dispatch_floating(out.dtype(), "max_pool_gather", [&]<class T>() {
    const int64_t B = out.size(0), Q = out.size(1), P = x.size(1);
    const T* in = x.data_ptr<T>();
    const int64_t* idx = indices.data_ptr<int64_t>();
    T* o = out.data_ptr<T>();
    bool valid = true;
    parallel_for(B * Q, kParallelGrain, [&](int64_t begin, int64_t end) {
      bool chunk_valid = true;
      for (int64_t k = begin; k < end; ++k) {
        const int64_t i = idx[k];
        const bool ok = i >= 0 && i < P;
        chunk_valid = chunk_valid && ok;
        o[k] = ok ? in[(k / Q) * P + i] : T(0);
      }
      if (!chunk_valid) {
#pragma omp atomic write
        valid = false;
      }
    });
    all_valid = valid;
  });
  return all_valid;
}

}  // namespace ember::cpu
