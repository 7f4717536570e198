// Raw data movement without autograd: strided copy with dtype conversion. The differentiable
// wrappers (clone, contiguous, to, copy_) live in engine/tensor.cpp and ops/view.cpp.
#pragma once
#include "engine/tensor.h"

namespace ember {

// dst[i] = convert(src[i]) for every index; src must already have dst's shape (expand it first).
void copy_data(const Tensor& dst, const Tensor& src);
// Reads element `linear_index` (row-major over sizes) of any tensor as double.
double read_element(const Tensor& t, int64_t linear_index);
void fill_data(const Tensor& dst, double value);

}  // namespace ember
