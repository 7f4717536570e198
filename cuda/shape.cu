// Shape kernels (launchers declared in cuda/shape_launch.h): one thread per output element for
// the index-map gather and tril/triu, one per input element for the adjoint (which sums its
// readers in a fixed order, so it is deterministic and needs no atomics).
// CPU twin: ops/cpu/shape.cpp.
#include "cuda/movement.cuh"
#include "cuda/shape_launch.h"

namespace ember::cuda {

namespace {

template <class T> __global__ void gather_maps_kernel(T* out, const T* x, MapsGather g, const int64_t* maps, T fill) {
  for (int64_t i = global_thread_index(); i < g.numel; i += global_thread_count()) {
    int64_t rest = i, offset = 0;
    bool filled = false;
    for (int d = g.ndim - 1; d >= 0; --d) {
      const int64_t source = maps[g.map_start[d] + rest % g.sizes[d]];
      rest /= g.sizes[d];
      filled = filled || source < 0;
      offset += source * g.x_strides[d];
    }
    out[i] = filled ? fill : x[offset];
  }
}

template <class T> __global__ void maps_adjoint_kernel(T* out, const T* grad, MapsAdjoint a, const int64_t* tables) {
  for (int64_t j = global_thread_index(); j < a.numel; j += global_thread_count()) {
    // Reader ranges [begin[d], end[d]) of this element's index along each dim.
    int64_t begin[StridedLayout::kMaxDims], end[StridedLayout::kMaxDims], pick[StridedLayout::kMaxDims];
    int64_t rest = j;
    bool read_at_all = true;
    for (int d = a.ndim - 1; d >= 0; --d) {
      const int64_t c = rest % a.sizes[d];
      rest /= a.sizes[d];
      begin[d] = tables[a.offset_start[d] + c];
      end[d] = tables[a.offset_start[d] + c + 1];
      pick[d] = begin[d];
      read_at_all = read_at_all && begin[d] < end[d];
    }
    if (!read_at_all) continue;
    T total = out[j];
    // Odometer over the readers, the last dim fastest (the CPU kernel's order).
    while (true) {
      int64_t offset = 0;
      for (int d = 0; d < a.ndim; ++d) offset += tables[a.list_start[d] + pick[d]] * a.grad_strides[d];
      total += grad[offset];
      int d = a.ndim - 1;
      for (; d >= 0; --d) {
        if (++pick[d] < end[d]) break;
        pick[d] = begin[d];
      }
      if (d < 0) break;
    }
    out[j] = total;
  }
}

// Zero is all-zero bits in every dtype, so the triangle kernel only moves words.
template <class Word>
__global__ void triangle_kernel(Word* out, const Word* x, int64_t n, int64_t rows, int64_t cols, int64_t diagonal,
                                bool lower) {
  for (int64_t i = global_thread_index(); i < n; i += global_thread_count()) {
    const int64_t c = i % cols, r = (i / cols) % rows;
    const bool keep = lower ? c - r <= diagonal : c - r >= diagonal;
    out[i] = keep ? x[i] : Word(0);
  }
}

}  // namespace

void gather_by_maps(void* out, const void* x, ScalarType type, const MapsGather& g, const int64_t* maps, double fill,
                    Stream stream) {
  if (g.numel == 0) return;
  dispatch_scalar_type(type, "gather_by_maps", [&]<class T>() {
    gather_maps_kernel<T><<<grid_for(g.numel), 256, 0, raw_stream(stream)>>>(static_cast<T*>(out),
                                                                             static_cast<const T*>(x), g, maps,
                                                                             convert<T>(fill));
  });
  EMBER_CUDA_LAUNCH_CHECK("gather_by_maps");
}

void scatter_add_by_maps(void* out, const void* grad, ScalarType type, const MapsAdjoint& a, const int64_t* tables,
                         Stream stream) {
  if (a.numel == 0) return;
  dispatch_cpu_floating(type, "scatter_add_by_maps", [&]<class T>() {
    maps_adjoint_kernel<T><<<grid_for(a.numel), 256, 0, raw_stream(stream)>>>(static_cast<T*>(out),
                                                                              static_cast<const T*>(grad), a, tables);
  });
  EMBER_CUDA_LAUNCH_CHECK("scatter_add_by_maps");
}

void triangle(void* out, const void* x, ScalarType type, int64_t n, int64_t rows, int64_t cols, int64_t diagonal,
              bool lower, Stream stream) {
  if (n == 0) return;
  dispatch_word(type, [&]<class Word>() {
    triangle_kernel<Word><<<grid_for(n), 256, 0, raw_stream(stream)>>>(static_cast<Word*>(out),
                                                                       static_cast<const Word*>(x), n, rows, cols,
                                                                       diagonal, lower);
  });
  EMBER_CUDA_LAUNCH_CHECK("tril/triu");
}

}  // namespace ember::cuda
