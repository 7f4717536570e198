// Launchers of cuda/index.cu: the indexed gather and scatter behind gather, scatter, scatter_add,
// index_select, index_add, plus the index range check and one_hot. Raw pointers and StridedLayouts
// (Note [CUDA kernel boundary] in cuda/layout.h); the Tensor-level functions are in cuda/index.h.
#pragma once
#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// The three tensors of an indexed op (Note [Indexed walk] in ops/cpu/index.cpp): `index` (int64)
// and `value` (gather's out, scatter's src) are walked together over index's sizes; `target` is
// addressed through the index along `dim`: target[pos with dim := index[pos]]. index_select and
// index_add pass a 1-d index as an expanded layout (stride 0 except along dim).
struct IndexedOperands {
  const int64_t* index = nullptr;
  StridedLayout index_layout;   // its sizes are the walk's sizes
  void* value = nullptr;
  StridedLayout value_layout;   // strides only (sizes >= index's)
  void* target = nullptr;
  StridedLayout target_layout;  // strides and sizes[dim]
  int dim = 0;
};

// value[pos] = target[pos with dim := index[pos]] for every index position.
void indexed_gather(const IndexedOperands& ops, ScalarType type, Stream stream);
enum class ScatterMode : uint8_t { assign, add, fill };
// target[pos with dim := index[pos]] = value[pos] (assign), += alpha * value[pos] (add), = fill
// (fill: value unused). One thread per line along `dim`, walking it in order: duplicates resolve
// like the CPU (last wins / summed in index order), deterministic and without atomics.
void indexed_scatter(const IndexedOperands& ops, ScalarType type, ScatterMode mode, double alpha, double fill,
                     Stream stream);

// *first = the smallest position p < n with index[p] outside [low, high); *first must hold n on
// entry (left unchanged when every index is inside).
void first_outside_position(const int64_t* index, int64_t n, int64_t low, int64_t high, int64_t* first,
                            Stream stream);
// out: (n, classes) int64 zeros; out[i, index[i]] = 1.
void one_hot(int64_t* out, const int64_t* index, int64_t n, int64_t classes, Stream stream);

}  // namespace ember::cuda
