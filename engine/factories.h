// Tensor factories (deterministic ones; random ones are in engine/random.h).
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace ember {

Tensor empty(const Shape& sizes, TensorOptions options = {});
Tensor zeros(const Shape& sizes, TensorOptions options = {});
Tensor ones(const Shape& sizes, TensorOptions options = {});
Tensor full(const Shape& sizes, double value, TensorOptions options = {});
Tensor scalar_tensor(double value, TensorOptions options = {});  // 0-d
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// [start, end) in steps of `step` (like torch.arange); the dtype defaults to f32.
Tensor arange(double end, TensorOptions options = {});
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, int64_t m = -1, TensorOptions options = {});  // m = -1: square

// Copies `values` into a new tensor of shape `sizes` (default: 1-D). The dtype follows T unless
// options say otherwise.
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& sizes = {}, TensorOptions options = TensorOptions(dtype_v<T>));
// Copies `numel(sizes)` elements of type `dtype` from a user pointer.
Tensor from_blob(const void* data, const Shape& sizes, DType dtype, bool requires_grad = false);

}  // namespace ember
