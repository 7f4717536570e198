// View ops are Tensor methods (engine/tensor.h); this header adds the free-function forms and
// the scatter-into-zeros ops their backwards need (differentiable, for double backward).
#pragma once
#include "engine/tensor.h"

namespace ember {

// zeros(input_shape) with `grad` written into [start:end:step] along `dim` (backward of slice).
Tensor slice_backward(const Tensor& grad, const Shape& input_shape, int64_t dim, int64_t start, int64_t end,
                      int64_t step);
// zeros(input_shape) with `grad` written at `index` along `dim` (backward of select).
Tensor select_backward(const Tensor& grad, const Shape& input_shape, int64_t dim, int64_t index);

inline Tensor reshape(const Tensor& x, const Shape& sizes) { return x.reshape(sizes); }
inline Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) { return x.permute(dims); }
inline Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) { return x.transpose(d0, d1); }
inline Tensor expand(const Tensor& x, const Shape& sizes) { return x.expand(sizes); }
inline Tensor squeeze(const Tensor& x, int64_t dim) { return x.squeeze(dim); }
inline Tensor unsqueeze(const Tensor& x, int64_t dim) { return x.unsqueeze(dim); }
inline Tensor flatten(const Tensor& x, int64_t start = 0, int64_t end = -1) { return x.flatten(start, end); }
inline Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  return x.narrow(dim, start, length);
}
inline Tensor select(const Tensor& x, int64_t dim, int64_t index) { return x.select(dim, index); }
inline Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1) {
  return x.slice(dim, start, end, step);
}

}  // namespace ember
