// The iteration space of cuda/elementwise_map.cuh's kernels, computed on the host: dims that are
// contiguous for every operand are merged and size-1 dims dropped, so a transposed or broadcast
// operand costs as few index divisions as its layout allows and a dense one reaches the
// vectorized kernel. Plain C++ (g++ and nvcc), so test/cuda/test_consistency_elementwise.cpp checks
// it on machines without a GPU.
#pragma once
#include <cstdint>

#include "cuda/elementwise_launch.h"

namespace ember::cuda {

// Dims innermost first; one stride row per operand (row 0 = the output).
template <int N> struct MapLayout {
  int ndim = 0;
  int64_t sizes[StridedLayout::kMaxDims] = {};
  int64_t strides[N][StridedLayout::kMaxDims] = {};
};

// Every operand's layout has the output's sizes (cuda::Operand). Dim d merges into the innermost
// kept dim when, for every operand, stepping d equals stepping over the whole kept dim.
template <int N> MapLayout<N> coalesce(const Operand* const (&operands)[N]) {
  MapLayout<N> m;
  const StridedLayout& shape = operands[0]->layout;
  for (int d = shape.ndim - 1; d >= 0; --d) {
    const int64_t size = shape.sizes[d];
    if (size == 1) continue;
    bool mergeable = m.ndim > 0;
    for (int k = 0; k < N && mergeable; ++k) {
      mergeable = operands[k]->layout.strides[d] == m.strides[k][m.ndim - 1] * m.sizes[m.ndim - 1];
    }
    if (mergeable) {
      m.sizes[m.ndim - 1] *= size;  // the merged dim keeps the inner strides
      continue;
    }
    m.sizes[m.ndim] = size;
    for (int k = 0; k < N; ++k) m.strides[k][m.ndim] = operands[k]->layout.strides[d];
    ++m.ndim;
  }
  return m;
}

// Element offsets of linear index i for every operand: the walk the strided kernel does.
template <int N>
#ifdef __CUDACC__
__host__ __device__
#endif
inline void map_offsets(const MapLayout<N>& layout, int64_t i, int64_t (&offsets)[N]) {
  for (int k = 0; k < N; ++k) offsets[k] = 0;
  for (int d = 0; d < layout.ndim; ++d) {
    const int64_t coordinate = i % layout.sizes[d];
    i /= layout.sizes[d];
    for (int k = 0; k < N; ++k) offsets[k] += coordinate * layout.strides[k][d];
  }
}

}  // namespace ember::cuda
