// Launchers of cuda/pool.cu: max/avg pooling over (B, H, W) planes through per-axis window
// tables, the avg-pool adjoint, and the plane gather / deterministic scatter-add of max pooling's
// backward. Raw pointers and POD tables (Note [CUDA kernel boundary] in cuda/layout.h);
// Tensor level: cuda/pool.h. CPU twin: ops/cpu/pool.h (PoolWindows).
#pragma once
#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// One axis of ops/cpu/pool.h's PoolWindows on the device: window o reads start[o], start[o] +
// step, ... (< end[o]) with weight scale[o]. The pointers are into device tables.
struct AxisWindows {
  const int64_t* start = nullptr;
  const int64_t* end = nullptr;
  const double* scale = nullptr;
  int64_t step = 1, input_size = 0, output_size = 0;
  // The adjoint's readers (avg pool backward): the windows covering input p are
  // readers[reader_offsets[p] ... reader_offsets[p + 1]), ascending.
  const int64_t* reader_offsets = nullptr;
  const int64_t* readers = nullptr;
};

// x: (B, H, W) -> out, indices: (B, OH, OW). NaN wins; ties keep the first (the CPU's rule).
void max_pool2d(void* out, int64_t* indices, const void* x, ScalarType type, int64_t planes, const AxisWindows& rows,
                const AxisWindows& cols, Stream stream);
void avg_pool2d(void* out, const void* x, ScalarType type, int64_t planes, const AxisWindows& rows,
                const AxisWindows& cols, Stream stream);
// grad_input: (B, H, W) overwritten; one thread per input element sums its windows in order.
void avg_pool2d_adjoint(void* grad_input, const void* grad, ScalarType type, int64_t planes, const AxisWindows& rows,
                        const AxisWindows& cols, Stream stream);

// Max pooling's backward without atomics: the (index, q) pairs of each plane are stably sorted
// (cuda/sort_launch.h), then one thread per input element sums the run of its index in q order.
// keys: (B, Q) uint32 = indices; positions: q.
void plane_scatter_keys(uint32_t* keys, int64_t* positions, int* offsets, const int64_t* indices, int64_t planes,
                        int64_t plane_out, Stream stream);
// out: (B, P) = for each p, the sum over the sorted run of p of src[b, q] (0 if none).
void plane_sum_runs(void* out, const void* src, ScalarType type, const uint32_t* sorted_keys,
                    const int64_t* sorted_positions, int64_t planes, int64_t plane_in, int64_t plane_out,
                    Stream stream);
// out: (B, Q) = x[b, indices[b, q]] (indices already checked).
void plane_gather(void* out, const void* x, ScalarType type, const int64_t* indices, int64_t planes, int64_t plane_in,
                  int64_t plane_out, Stream stream);

}  // namespace ember::cuda
