// Pooling kernels (launchers declared in cuda/pool_launch.h): one thread per output element for
// the forwards (the window walked rows then columns, ascending: the CPU's order, so ties, NaNs and
// float sums agree bitwise), one thread per input element for the adjoints (no atomics:
// deterministic). CPU twin: ops/cpu/pool.cpp.
#include <cuda/std/limits>

#include "cuda/movement.cuh"
#include "cuda/pool_launch.h"

namespace ember::cuda {

namespace {

template <class T>
__global__ void max_pool_kernel(T* out, int64_t* indices, const T* x, int64_t planes, AxisWindows rows,
                                AxisWindows cols) {
  const int64_t H = rows.input_size, W = cols.input_size, OH = rows.output_size, OW = cols.output_size;
  const int64_t total = planes * OH * OW;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t ow = t % OW, oh = (t / OW) % OH, b = t / (OW * OH);
    const T* plane = x + b * H * W;
    const int64_t h0 = rows.start[oh], w0 = cols.start[ow];
    T best = -::cuda::std::numeric_limits<T>::infinity();
    int64_t best_index = h0 * W + w0;
    for (int64_t h = h0; h < rows.end[oh]; h += rows.step) {
      for (int64_t w = w0; w < cols.end[ow]; w += cols.step) {
        const T v = plane[h * W + w];
        if (v > best || v != v) {  // a NaN wins (the last one), as on the CPU and in PyTorch
          best = v;
          best_index = h * W + w;
        }
      }
    }
    out[t] = best;
    indices[t] = best_index;
  }
}

template <class T>
__global__ void avg_pool_kernel(T* out, const T* x, int64_t planes, AxisWindows rows, AxisWindows cols) {
  const int64_t H = rows.input_size, W = cols.input_size, OH = rows.output_size, OW = cols.output_size;
  const int64_t total = planes * OH * OW;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t ow = t % OW, oh = (t / OW) % OH, b = t / (OW * OH);
    const T* plane = x + b * H * W;
    T sum = 0;
    for (int64_t h = rows.start[oh]; h < rows.end[oh]; h += rows.step)
      for (int64_t w = cols.start[ow]; w < cols.end[ow]; w += cols.step) sum += plane[h * W + w];
    out[t] = static_cast<T>(sum * (rows.scale[oh] * cols.scale[ow]));
  }
}

template <class T>
__global__ void avg_pool_adjoint_kernel(T* grad_input, const T* grad, int64_t planes, AxisWindows rows,
                                        AxisWindows cols) {
  const int64_t H = rows.input_size, W = cols.input_size, OH = rows.output_size, OW = cols.output_size;
  const int64_t total = planes * H * W;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t w = t % W, h = (t / W) % H, b = t / (W * H);
    const T* g = grad + b * OH * OW;
    T sum = 0;
    for (int64_t r = rows.reader_offsets[h]; r < rows.reader_offsets[h + 1]; ++r) {
      const int64_t oh = rows.readers[r];
      for (int64_t c = cols.reader_offsets[w]; c < cols.reader_offsets[w + 1]; ++c) {
        const int64_t ow = cols.readers[c];
        sum += static_cast<T>(g[oh * OW + ow] * (rows.scale[oh] * cols.scale[ow]));
      }
    }
    grad_input[t] = sum;
  }
}

__global__ void plane_keys_kernel(uint32_t* keys, int64_t* positions, int* offsets, const int64_t* indices,
                                  int64_t planes, int64_t plane_out) {
  const int64_t total = planes * plane_out;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    keys[t] = static_cast<uint32_t>(indices[t]);
    positions[t] = t % plane_out;
  }
  for (int64_t b = global_thread_index(); b <= planes; b += global_thread_count())
    offsets[b] = static_cast<int>(b * plane_out);
}

template <class T>
__global__ void plane_sum_runs_kernel(T* out, const T* src, const uint32_t* keys, const int64_t* positions,
                                      int64_t planes, int64_t plane_in, int64_t plane_out) {
  const int64_t total = planes * plane_in;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t b = t / plane_in;
    const auto p = static_cast<uint32_t>(t % plane_in);
    // lower_bound of p in this plane's sorted keys
    int64_t lo = b * plane_out, hi = lo + plane_out;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (keys[mid] < p) lo = mid + 1;
      else hi = mid;
    }
    T sum = 0;
    for (int64_t r = lo; r < (b + 1) * plane_out && keys[r] == p; ++r) sum += src[b * plane_out + positions[r]];
    out[t] = sum;
  }
}

template <class Word>
__global__ void plane_gather_kernel(Word* out, const Word* x, const int64_t* indices, int64_t planes, int64_t plane_in,
                                    int64_t plane_out) {
  const int64_t total = planes * plane_out;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count())
    out[t] = x[(t / plane_out) * plane_in + indices[t]];
}

}  // namespace

void max_pool2d(void* out, int64_t* indices, const void* x, ScalarType type, int64_t planes, const AxisWindows& rows,
                const AxisWindows& cols, Stream stream) {
  const int64_t total = planes * rows.output_size * cols.output_size;
  if (total == 0) return;
  dispatch_cpu_floating(type, "max_pool2d", [&]<class T>() {
    max_pool_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(static_cast<T*>(out), indices,
                                                                        static_cast<const T*>(x), planes, rows, cols);
  });
  EMBER_CUDA_LAUNCH_CHECK("max_pool2d");
}

void avg_pool2d(void* out, const void* x, ScalarType type, int64_t planes, const AxisWindows& rows,
                const AxisWindows& cols, Stream stream) {
  const int64_t total = planes * rows.output_size * cols.output_size;
  if (total == 0) return;
  dispatch_cpu_floating(type, "avg_pool2d", [&]<class T>() {
    avg_pool_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(static_cast<T*>(out),
                                                                        static_cast<const T*>(x), planes, rows, cols);
  });
  EMBER_CUDA_LAUNCH_CHECK("avg_pool2d");
}

void avg_pool2d_adjoint(void* grad_input, const void* grad, ScalarType type, int64_t planes, const AxisWindows& rows,
                        const AxisWindows& cols, Stream stream) {
  const int64_t total = planes * rows.input_size * cols.input_size;
  if (total == 0) return;
  dispatch_cpu_floating(type, "avg_pool2d_backward", [&]<class T>() {
    avg_pool_adjoint_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(
        static_cast<T*>(grad_input), static_cast<const T*>(grad), planes, rows, cols);
  });
  EMBER_CUDA_LAUNCH_CHECK("avg_pool2d_backward");
}

void plane_scatter_keys(uint32_t* keys, int64_t* positions, int* offsets, const int64_t* indices, int64_t planes,
                        int64_t plane_out, Stream stream) {
  plane_keys_kernel<<<grid_for(planes * plane_out + 1), 256, 0, raw_stream(stream)>>>(keys, positions, offsets,
                                                                                     indices, planes, plane_out);
  EMBER_CUDA_LAUNCH_CHECK("max_pool_scatter");
}

void plane_sum_runs(void* out, const void* src, ScalarType type, const uint32_t* sorted_keys,
                    const int64_t* sorted_positions, int64_t planes, int64_t plane_in, int64_t plane_out,
                    Stream stream) {
  const int64_t total = planes * plane_in;
  if (total == 0) return;
  dispatch_cpu_floating(type, "max_pool_scatter", [&]<class T>() {
    plane_sum_runs_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(
        static_cast<T*>(out), static_cast<const T*>(src), sorted_keys, sorted_positions, planes, plane_in, plane_out);
  });
  EMBER_CUDA_LAUNCH_CHECK("max_pool_scatter");
}

void plane_gather(void* out, const void* x, ScalarType type, const int64_t* indices, int64_t planes, int64_t plane_in,
                  int64_t plane_out, Stream stream) {
  const int64_t total = planes * plane_out;
  if (total == 0) return;
  dispatch_word(type, [&]<class Word>() {
    plane_gather_kernel<Word><<<grid_for(total), 256, 0, raw_stream(stream)>>>(
        static_cast<Word*>(out), static_cast<const Word*>(x), indices, planes, plane_in, plane_out);
  });
  EMBER_CUDA_LAUNCH_CHECK("max_pool_gather");
}

}  // namespace ember::cuda
