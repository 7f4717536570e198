// Indexing kernels (launchers declared in cuda/index_launch.h). Gathers run one thread per index
// position; scatters one thread per line along `dim`, walking it in order, so duplicate indices
// resolve exactly as on the CPU (Note [Indexed walk] in ops/cpu/index.cpp) with no atomics: the
// results, sums included, are deterministic and bitwise equal to the CPU's.
// CPU twin: ops/cpu/index.cpp.
#include "cuda/index_launch.h"
#include "cuda/movement.cuh"

namespace ember::cuda {

namespace {

// The walk over index's sizes with the three tensors' strides (0-d becomes one position).
struct Walk {
  int ndim = 1, dim = 0;
  int64_t numel = 1, target_dim_size = 1;
  int64_t sizes[StridedLayout::kMaxDims] = {1};
  int64_t index_strides[StridedLayout::kMaxDims] = {};
  int64_t value_strides[StridedLayout::kMaxDims] = {};
  int64_t target_strides[StridedLayout::kMaxDims] = {};
};

Walk walk_of(const IndexedOperands& ops) {
  Walk w;
  w.numel = ops.index_layout.numel;
  if (ops.index_layout.ndim == 0) return w;  // one position, every stride 0
  w.ndim = ops.index_layout.ndim;
  w.dim = ops.dim;
  w.target_dim_size = ops.target_layout.sizes[ops.dim];
  for (int d = 0; d < w.ndim; ++d) {
    w.sizes[d] = ops.index_layout.sizes[d];
    w.index_strides[d] = ops.index_layout.strides[d];
    w.value_strides[d] = ops.value_layout.strides[d];
    w.target_strides[d] = ops.target_layout.strides[d];
  }
  return w;
}

struct Offsets {
  int64_t index = 0, value = 0, target = 0;  // target: without the `dim` term
};

// Offsets of row-major position i over w.sizes, skipping dim `skip` (-1: none).
__device__ Offsets offsets_of(const Walk& w, int64_t i, int skip) {
  Offsets o;
  for (int d = w.ndim - 1; d >= 0; --d) {
    if (d == skip) continue;
    const int64_t c = i % w.sizes[d];
    i /= w.sizes[d];
    o.index += c * w.index_strides[d];
    o.value += c * w.value_strides[d];
    if (d != w.dim) o.target += c * w.target_strides[d];
  }
  return o;
}

__device__ __forceinline__ int64_t wrapped(int64_t i, int64_t size) { return i < 0 ? i + size : i; }

template <class Word> __global__ void gather_kernel(Walk w, const int64_t* index, Word* value, const Word* target) {
  for (int64_t i = global_thread_index(); i < w.numel; i += global_thread_count()) {
    const Offsets o = offsets_of(w, i, -1);
    value[o.value] = target[o.target + wrapped(index[o.index], w.target_dim_size) * w.target_strides[w.dim]];
  }
}

template <class T>
__global__ void scatter_kernel(Walk w, const int64_t* index, const T* value, T* target, ScatterMode mode, T scale,
                               T fill) {
  const int64_t steps = w.sizes[w.dim];
  const int64_t lines = w.numel / steps;
  const int64_t index_step = w.index_strides[w.dim], value_step = w.value_strides[w.dim];
  const int64_t target_step = w.target_strides[w.dim];
  for (int64_t line = global_thread_index(); line < lines; line += global_thread_count()) {
    const Offsets o = offsets_of(w, line, w.dim);
    for (int64_t s = 0; s < steps; ++s) {
      T& t = target[o.target + wrapped(index[o.index + s * index_step], w.target_dim_size) * target_step];
      if (mode == ScatterMode::fill) {
        t = fill;
      } else if (mode == ScatterMode::assign) {
        t = value[o.value + s * value_step];
      } else {
        t = add_scaled(t, scale, value[o.value + s * value_step]);
      }
    }
  }
}

__global__ void first_outside_kernel(const int64_t* index, int64_t n, int64_t low, int64_t high,
                                     unsigned long long* first) {
  for (int64_t i = global_thread_index(); i < n; i += global_thread_count()) {
    const int64_t v = index[i];
    if (v < low || v >= high) atomicMin(first, static_cast<unsigned long long>(i));  // the smallest position wins
  }
}

__global__ void one_hot_kernel(int64_t* out, const int64_t* index, int64_t n, int64_t classes) {
  for (int64_t i = global_thread_index(); i < n; i += global_thread_count()) out[i * classes + index[i]] = 1;
}

}  // namespace

void indexed_gather(const IndexedOperands& ops, ScalarType type, Stream stream) {
  const Walk w = walk_of(ops);
  if (w.numel == 0) return;
  dispatch_word(type, [&]<class Word>() {
    gather_kernel<Word><<<grid_for(w.numel), 256, 0, raw_stream(stream)>>>(
        w, ops.index, static_cast<Word*>(ops.value), static_cast<const Word*>(ops.target));
  });
  EMBER_CUDA_LAUNCH_CHECK("gather");
}

void indexed_scatter(const IndexedOperands& ops, ScalarType type, ScatterMode mode, double alpha, double fill,
                     Stream stream) {
  const Walk w = walk_of(ops);
  if (w.numel == 0) return;
  const int64_t lines = w.numel / w.sizes[w.dim];
  dispatch_cpu_type(type, "scatter", [&]<class T>() {
    scatter_kernel<T><<<grid_for(lines), 256, 0, raw_stream(stream)>>>(
        w, ops.index, static_cast<const T*>(ops.value), static_cast<T*>(ops.target), mode, convert<T>(alpha),
        convert<T>(fill));
  });
  EMBER_CUDA_LAUNCH_CHECK("scatter");
}

void first_outside_position(const int64_t* index, int64_t n, int64_t low, int64_t high, int64_t* first,
                            Stream stream) {
  if (n == 0) return;
  first_outside_kernel<<<grid_for(n), 256, 0, raw_stream(stream)>>>(index, n, low, high,
                                                                    reinterpret_cast<unsigned long long*>(first));
  EMBER_CUDA_LAUNCH_CHECK("index range check");
}

void one_hot(int64_t* out, const int64_t* index, int64_t n, int64_t classes, Stream stream) {
  if (n == 0 || classes == 0) return;
  one_hot_kernel<<<grid_for(n), 256, 0, raw_stream(stream)>>>(out, index, n, classes);
  EMBER_CUDA_LAUNCH_CHECK("one_hot");
}

}  // namespace ember::cuda
