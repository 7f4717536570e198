// Launchers of cuda/sort.cu: sort/top-k along a dim (CUB's stable segmented sort), cumsum/cumprod,
// and the stable segmented sort itself, which the pooling family's deterministic scatter-add
// reuses. Raw pointers (Note [CUDA kernel boundary] in cuda/layout.h); Tensor level: cuda/sort.h.
// Workspaces are allocated by the caller (a uint8 tensor from the caching allocator) after asking
// for their size.
#pragma once
#include <cstddef>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// x: (outer, n, inner) contiguous -> values, indices: (outer, k, inner), the first k of the
// stable sort along n (NaN the largest value, ties in index order, as on the CPU).
size_t sort_workspace_bytes(ScalarType type, int64_t outer, int64_t n, int64_t inner);
void sort_lines(void* values, int64_t* indices, const void* x, ScalarType type, int64_t outer, int64_t n, int64_t inner,
                int64_t k, bool descending, void* workspace, size_t workspace_bytes, Stream stream);

// out = inclusive scan (sum or product) of x: (outer, n, inner) contiguous along n, from the end
// when `reverse`. Floats accumulate in double, integers in int64 (out is then int64), like the CPU.
void scan_lines(void* out, const void* x, ScalarType type, int64_t outer, int64_t n, int64_t inner, bool product,
                bool reverse, Stream stream);

// Stable sort of (key, value) pairs within each segment [offsets[s], offsets[s + 1]) (items and
// segments below 2^31). Keys are unsigned, key_bytes 4 or 8; values int64.
size_t segmented_sort_bytes(int key_bytes, int64_t items, int64_t segments);
void segmented_stable_sort(int key_bytes, const void* keys_in, void* keys_out, const int64_t* values_in,
                           int64_t* values_out, int64_t items, int64_t segments, const int* offsets, void* temp,
                           size_t temp_bytes, Stream stream);

}  // namespace ember::cuda
