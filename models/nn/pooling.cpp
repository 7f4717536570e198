// Pooling modules over ops/pool.h. See models/nn/pooling.h; tests: test/nn/test_layers.cpp.
#include "models/nn/pooling.h"

#include <fmt/format.h>

#include "engine/error.h"
#include "ops/reduce.h"

namespace ember::nn {

namespace {

std::string arg_str(const Pool2dArg& a) {
  if (a.values.size() == 1) return std::to_string(a.values[0]);
  return fmt::format("({})", fmt::join(a.values, ", "));
}

// Pooling takes (N, C, H, W) or unbatched (C, H, W).
void check_image(const char* type, const Tensor& x) {
  EMBER_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), "{}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) "
              "input, got {}", type, x.defined() ? x.describe() : std::string("undefined"));
}

}  // namespace

MaxPool2d::MaxPool2d(Pool2dArg kernel_size_, Pool2dArg stride_, Pool2dArg padding_)
    : Module("MaxPool2d"), kernel_size(std::move(kernel_size_)), stride(stride_.empty() ? kernel_size : stride_),
      padding(std::move(padding_)) {}

Tensor MaxPool2d::forward(const Tensor& x) {
  check_image("MaxPool2d", x);
  return max_pool2d(x, kernel_size, stride, padding);
}

std::string MaxPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, dilation=1, ceil_mode=False", arg_str(kernel_size),
                     arg_str(stride), arg_str(padding));
}

AvgPool2d::AvgPool2d(Pool2dArg kernel_size_, Pool2dArg stride_, Pool2dArg padding_)
    : Module("AvgPool2d"), kernel_size(std::move(kernel_size_)), stride(stride_.empty() ? kernel_size : stride_),
      padding(std::move(padding_)) {}

Tensor AvgPool2d::forward(const Tensor& x) {
  check_image("AvgPool2d", x);
  return avg_pool2d(x, kernel_size, stride, padding);
}

std::string AvgPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}", arg_str(kernel_size), arg_str(stride),
                     arg_str(padding));
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Pool2dArg output_size_)
    : Module("AdaptiveAvgPool2d"), output_size(std::move(output_size_)) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  check_image("AdaptiveAvgPool2d", x);
  return adaptive_avg_pool2d(x, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const { return "output_size=" + arg_str(output_size); }

Tensor GlobalAvgPool::forward(const Tensor& x) {
  // x: (N, C, *spatial) -> (N, C)
  EMBER_CHECK(x.defined() && x.dim() >= 3, "GlobalAvgPool: expected input (N, C, *spatial) with at least 3 dims, "
              "got {}", x.defined() ? x.describe() : std::string("undefined"));
  std::vector<int64_t> spatial;
  for (int64_t d = 2; d < x.dim(); ++d) spatial.push_back(d);
  return mean(x, spatial);
}

}  // namespace ember::nn
