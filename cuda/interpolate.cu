// Interpolation kernels (launchers declared in cuda/interpolate_launch.h). The forward runs one
// thread per output element and the adjoint one thread per input element, each summing its taps
// in the CPU kernel's order (rows of taps, then columns), so the adjoint needs no atomics and is
// deterministic. Weights are rounded to the element type first, as on the CPU.
// CPU twin: ops/cpu/interpolate.cpp.
#include "cuda/interpolate_launch.h"
#include "cuda/movement.cuh"

namespace ember::cuda {

namespace {

template <class T>
__global__ void interpolate_kernel(T* out, const T* x, int64_t planes, InterpTable h, InterpTable w) {
  const int64_t total = planes * h.out * w.out;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t ow = t % w.out, oh = (t / w.out) % h.out, p = t / (w.out * h.out);
    const T* plane = x + p * h.in * w.in;
    T value = 0;
    for (int64_t i = 0; i < h.count; ++i) {
      const T* row = plane + h.index[oh * h.count + i] * w.in;
      T acc = 0;  // the horizontal pass of this input row
      for (int64_t j = 0; j < w.count; ++j)
        acc += static_cast<T>(w.weight[ow * w.count + j]) * row[w.index[ow * w.count + j]];
      const T wh = static_cast<T>(h.weight[oh * h.count + i]);
      value = i == 0 ? wh * acc : value + wh * acc;
    }
    out[t] = value;
  }
}

template <class T>
__global__ void interpolate_adjoint_kernel(T* grad_in, const T* grad, int64_t planes, InterpTable h, InterpTable w) {
  const int64_t total = planes * h.in * w.in;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t iw = t % w.in, ih = (t / w.in) % h.in, p = t / (w.in * h.in);
    const T* g = grad + p * h.out * w.out;
    T total_grad = 0;
    for (int64_t c = w.reader_offsets[iw]; c < w.reader_offsets[iw + 1]; ++c) {
      const int64_t ow = w.readers[c];
      T column = 0;  // the vertical adjoint at (ih, ow)
      for (int64_t r = h.reader_offsets[ih]; r < h.reader_offsets[ih + 1]; ++r)
        column += static_cast<T>(h.reader_weights[r]) * g[h.readers[r] * w.out + ow];
      total_grad += static_cast<T>(w.reader_weights[c]) * column;
    }
    grad_in[t] = total_grad;
  }
}

}  // namespace

void interpolate_fwd(void* out, const void* x, ScalarType type, int64_t planes, const InterpTable& h,
                     const InterpTable& w, Stream stream) {
  const int64_t total = planes * h.out * w.out;
  if (total == 0) return;
  dispatch_cpu_floating(type, "interpolate", [&]<class T>() {
    interpolate_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(static_cast<T*>(out),
                                                                           static_cast<const T*>(x), planes, h, w);
  });
  EMBER_CUDA_LAUNCH_CHECK("interpolate");
}

void interpolate_adjoint(void* grad_in, const void* grad, ScalarType type, int64_t planes, const InterpTable& h,
                         const InterpTable& w, Stream stream) {
  const int64_t total = planes * h.in * w.in;
  if (total == 0) return;
  dispatch_cpu_floating(type, "interpolate_backward", [&]<class T>() {
    interpolate_adjoint_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(
        static_cast<T*>(grad_in), static_cast<const T*>(grad), planes, h, w);
  });
  EMBER_CUDA_LAUNCH_CHECK("interpolate_backward");
}

}  // namespace ember::cuda
