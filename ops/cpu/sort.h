// CPU kernels for sorting, top-k, scans and the gather/scatter pair their backwards use.
// Twin: ops/sort.cpp (API, checks, backward). Every kernel sees its tensors as contiguous
// (outer, dim, inner) blocks: the ops layer makes inputs contiguous and allocates outputs.
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

// values/indices: (outer, k, inner); x: (outer, n, inner). The first k of a stable sort along
// `dim` (NaN sorts as the largest value, as in PyTorch). k == n is a full sort.
void sort(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim, bool descending, int64_t k);

enum class ScanOp { sum, prod };
// out = inclusive scan of x along `dim` (from the end when `reverse`). out: x's float dtype or i64.
void scan(const Tensor& out, const Tensor& x, int64_t dim, ScanOp op, bool reverse);

}  // namespace ember::cpu
