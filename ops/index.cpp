// Indexing ops: API, checks, dispatch, backward. Kernels: ops/cpu/index.cpp.
#include "ops/index.h"

#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"

namespace ember {

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  check_defined("masked_fill", x, "self");
  check_defined("masked_fill", mask, "mask");
  EMBER_CHECK(mask.dtype() == DType::bool_, "masked_fill: mask must be a bool tensor, got {}", mask.describe());
  const Shape shape = broadcast_shapes(x.sizes(), mask.sizes(), "masked_fill");
  EMBER_CHECK(shape == x.sizes(), "masked_fill: mask {} does not broadcast to the input {}", mask.describe(),
              x.describe());
  return where(mask, scalar_tensor(value, x.dtype()), x);
}

}  // namespace ember
