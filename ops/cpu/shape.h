// CPU kernels for ops/shape.cpp: run copies, index-map gathers (pad, flip, roll, repeat) and
// their adjoint, and the triangular masks. Twin: ops/shape.cpp (API, checks, backward).
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace ember::cpu {

// dst = src (same shape, any strides). With equal dtypes, rows that are contiguous in both are
// memcpy'd; otherwise the copy converts element by element (engine/copy.h).
void copy_into(const Tensor& dst, const Tensor& src);

// Note [Index maps]: an output of shape (maps[0].size(), ..., maps[n-1].size()) reads, along
// each dim d, input index maps[d][i] at output index i, or `fill` where any map says -1. Pad (every
// mode), flip, roll and repeat are such gathers: one kernel serves them all, and runs of
// consecutive indices in the last dim are copied as blocks (memcpy when the input rows are dense).
using IndexMaps = std::vector<std::vector<int64_t>>;

// out: contiguous, shape given by `maps`; x: any strides, x.dim() == maps.size().
void gather_by_maps(const Tensor& out, const Tensor& x, const IndexMaps& maps, double fill);
// The adjoint: out (contiguous, zero-filled, input shape) += grad scattered back through `maps`.
// Parallel over output (input-shaped) rows, each summed in a fixed order: deterministic.
void scatter_add_by_maps(const Tensor& out, const Tensor& grad, const IndexMaps& maps);

// out = tril(x, diagonal) (lower) or triu(x, diagonal); x, out: contiguous (..., R, C).
void triangle(const Tensor& out, const Tensor& x, int64_t diagonal, bool lower);

}  // namespace ember::cpu
