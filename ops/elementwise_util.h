// Shared argument handling for elementwise ops: promotion, broadcasting, scalar wrapping.
// Used by ops/elementwise.cpp, ops/unary.cpp, ops/activation.cpp and ops/compare.cpp.
#pragma once
#include <optional>

#include "engine/tensor.h"

namespace ember {

struct BinaryArgs {
  Tensor a, b;  // converted to `dtype` (not expanded: kernels broadcast by stride)
  Shape shape;  // broadcast shape
  DType dtype;
};

// Checks devices, promotes to result_type (or `compute` when given), broadcasts the shapes.
BinaryArgs prepare_binary(const char* op, const Tensor& a, const Tensor& b, std::optional<DType> compute = {});
// A 0-d tensor holding `value` in the dtype a Python scalar would take next to `like`.
Tensor wrap_scalar(double value, const Tensor& like);
// Options for a result of `dtype` on the device of `like` (outputs live with their inputs).
TensorOptions options_like(const Tensor& like, DType dtype);
// The float dtype an op like exp/div computes in: the input's if floating, else float32.
DType float_dtype_for(DType dtype);
// Sum `grad` down to `shape` (undoing broadcasting) — the backward of every broadcasting op.
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace ember
