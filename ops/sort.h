// Sorting and scans: sort/argsort, topk, cumsum, cumprod.
// Twins: ops/cpu/sort.cpp (kernels), autograd/DERIVATIVES.md.
#pragma once
#include "engine/tensor.h"
#include "ops/reduce.h"  // ValuesIndices

namespace ember {

// Stable sort along `dim` (ties keep their order; NaN sorts as the largest value).
// The gradient of `values` is placed back at `indices`.
ValuesIndices sort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
// The k largest (or smallest) along `dim`, in sorted order (ties: the earlier index first).
// `sorted = false` is accepted and still returns them sorted.
ValuesIndices topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true);

// Inclusive scans along `dim`; integer and bool inputs give int64.
Tensor cumsum(const Tensor& x, int64_t dim);
// The backward is exact with zeros too (see sort.cpp).
Tensor cumprod(const Tensor& x, int64_t dim);

}  // namespace ember
