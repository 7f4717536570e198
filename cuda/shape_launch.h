// Launchers of cuda/shape.cu: the index-map gather (pad, flip, roll, repeat, strided
// index_select), its deterministic adjoint, and tril/triu. Raw pointers and POD tables (Note [CUDA
// kernel boundary] in cuda/layout.h); Tensor-level functions: cuda/shape.h.
#pragma once
#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// Note [Index maps] (ops/cpu/shape.h) on the device: the per-dim maps are concatenated in one
// int64 buffer; dim d's map has sizes[d] entries starting at map_start[d].
struct MapsGather {
  int ndim = 0;
  int64_t numel = 0;
  int64_t sizes[StridedLayout::kMaxDims] = {};      // the output's (contiguous) shape
  int64_t map_start[StridedLayout::kMaxDims] = {};
  int64_t x_strides[StridedLayout::kMaxDims] = {};  // the input's, in elements
};
// out[i] = x[maps(i)] or fill where a map says -1.
void gather_by_maps(void* out, const void* x, ScalarType type, const MapsGather& g, const int64_t* maps, double fill,
                    Stream stream);

// The adjoint's readers: for input index j of dim d, the output indices reading it are
// lists[list_start[d] + offsets[offset_start[d] + j] ... offsets[offset_start[d] + j + 1]), ascending.
struct MapsAdjoint {
  int ndim = 0;
  int64_t numel = 0;
  int64_t sizes[StridedLayout::kMaxDims] = {};  // the input's (contiguous) shape
  int64_t offset_start[StridedLayout::kMaxDims] = {};
  int64_t list_start[StridedLayout::kMaxDims] = {};
  int64_t grad_strides[StridedLayout::kMaxDims] = {};
};
// out[j] += sum of grad over the outputs reading j (one thread per input element, summing in the
// CPU's order: deterministic, no atomics). f32/f64.
void scatter_add_by_maps(void* out, const void* grad, ScalarType type, const MapsAdjoint& a, const int64_t* tables,
                         Stream stream);

// out = tril/triu(x): both contiguous (batch, rows, cols), n elements.
void triangle(void* out, const void* x, ScalarType type, int64_t n, int64_t rows, int64_t cols, int64_t diagonal,
              bool lower, Stream stream);

}  // namespace ember::cuda
