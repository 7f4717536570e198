// Shape arithmetic shared by every op: sizes/strides, numel, contiguity, dim wrapping,
// broadcasting. Strides are in elements, never bytes.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace ember {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& sizes);
Shape contiguous_strides(const Shape& sizes);
std::string shape_str(const Shape& sizes);  // "[2, 3, 4]"
// Wraps a possibly negative dim into [0, ndim); errors name `op`. ndim 0 accepts -1 and 0.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// Wraps and sorts a list of dims; an empty list means "all dims". Duplicates are an error.
std::vector<int64_t> wrap_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op);
// NumPy/PyTorch broadcasting of two shapes; errors name `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Whether `sizes` with `strides` lays out elements densely in row-major order.
bool is_contiguous_layout(const Shape& sizes, const Shape& strides);

}  // namespace ember
