// Conv1d, Conv2d, ConvTranspose2d over ops/conv.h, PyTorch's init and extra_repr.
// See models/nn/conv.h; tests: test/nn/test_layers.cpp.
#include "models/nn/conv.h"

#include <fmt/format.h>

#include "engine/error.h"
#include "engine/factories.h"
#include "models/nn/init.h"

namespace ember::nn {

namespace {

std::string pair_str(Size2 s) { return fmt::format("({}, {})", s.h, s.w); }

std::string padding_str(const ConvPadding& p) {
  return p.mode.empty() ? pair_str(p.size) : fmt::format("'{}'", p.mode);
}

void check_channels(const char* type, int64_t in_channels, int64_t out_channels, int64_t groups) {
  EMBER_CHECK(in_channels > 0 && out_channels > 0 && groups > 0,
              "{}: channels and groups must be positive, got in_channels={}, out_channels={}, groups={}", type,
              in_channels, out_channels, groups);
  EMBER_CHECK(in_channels % groups == 0 && out_channels % groups == 0,
              "{}: in_channels ({}) and out_channels ({}) must be divisible by groups ({})", type, in_channels,
              out_channels, groups);
}

// x must be batched (spatial_dims + 2 dims) or unbatched (spatial_dims + 1) with `channels` channels.
void check_input(const char* type, const Tensor& x, int64_t spatial_dims, int64_t channels) {
  const int64_t batched = spatial_dims + 2;
  EMBER_CHECK(x.defined() && (x.dim() == batched || x.dim() == batched - 1), "{}: expected a {}-D (batched) or {}-D "
              "input with {} channels, got {}", type, batched, batched - 1, channels,
              x.defined() ? x.describe() : std::string("undefined"));
  const int64_t c = x.size(x.dim() == batched ? 1 : 0);
  EMBER_CHECK(c == channels, "{}: expected input with {} channels, got {} channels in {}", type, channels, c,
              x.describe());
}

// The common tail of the repr: only settings that differ from the defaults, as PyTorch prints them.
std::string conv_repr(int64_t in, int64_t out, const std::string& kernel, const std::string& stride,
                      const std::string& padding, bool padding_default, const std::string& dilation,
                      bool dilation_default, int64_t groups, bool bias) {
  std::string s = fmt::format("{}, {}, kernel_size={}, stride={}", in, out, kernel, stride);
  if (!padding_default) s += ", padding=" + padding;
  if (!dilation_default) s += ", dilation=" + dilation;
  if (groups != 1) s += fmt::format(", groups={}", groups);
  if (!bias) s += ", bias=False";
  return s;
}

}  // namespace

// ---- Conv2d ----

Conv2d::Conv2d(int64_t in_channels_, int64_t out_channels_, Size2 kernel_size_, Conv2dOptions options_)
    : Module("Conv2d"), in_channels(in_channels_), out_channels(out_channels_), kernel_size(kernel_size_),
      options(std::move(options_)) {
  check_channels("Conv2d", in_channels, out_channels, options.groups);
  weight = register_parameter(
      "weight", empty({out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w}));
  if (options.bias) bias = register_parameter("bias", empty({out_channels}));
  reset_parameters();
}

void Conv2d::reset_parameters() { init::linear_default_(weight, bias); }

Tensor Conv2d::forward(const Tensor& x) {
  // x: (N, C_in, H, W) -> (N, C_out, H', W')
  check_input("Conv2d", x, 2, in_channels);
  return conv2d(x, weight, bias, options.stride, options.padding, options.dilation, options.groups);
}

std::string Conv2d::extra_repr() const {
  const auto& p = options.padding;
  return conv_repr(in_channels, out_channels, pair_str(kernel_size), pair_str(options.stride), padding_str(p),
                   p.mode.empty() && p.size.h == 0 && p.size.w == 0, pair_str(options.dilation),
                   options.dilation.h == 1 && options.dilation.w == 1, options.groups, options.bias);
}

// ---- Conv1d ----

Conv1d::Conv1d(int64_t in_channels_, int64_t out_channels_, int64_t kernel_size_, Conv1dOptions options_)
    : Module("Conv1d"), in_channels(in_channels_), out_channels(out_channels_), kernel_size(kernel_size_),
      options(std::move(options_)) {
  check_channels("Conv1d", in_channels, out_channels, options.groups);
  weight = register_parameter("weight", empty({out_channels, in_channels / options.groups, kernel_size}));
  if (options.bias) bias = register_parameter("bias", empty({out_channels}));
  reset_parameters();
}

void Conv1d::reset_parameters() { init::linear_default_(weight, bias); }

Tensor Conv1d::forward(const Tensor& x) {
  // x: (N, C_in, L) -> (N, C_out, L')
  check_input("Conv1d", x, 1, in_channels);
  return conv1d(x, weight, bias, options.stride, options.padding, options.dilation, options.groups);
}

std::string Conv1d::extra_repr() const {
  const auto& p = options.padding;
  // A 1d padding is held in the pair's width.
  const std::string padding = p.mode.empty() ? fmt::format("({},)", p.size.w) : fmt::format("'{}'", p.mode);
  return conv_repr(in_channels, out_channels, fmt::format("({},)", kernel_size),
                   fmt::format("({},)", options.stride), padding, p.mode.empty() && p.size.w == 0,
                   fmt::format("({},)", options.dilation), options.dilation == 1, options.groups, options.bias);
}

// ---- ConvTranspose2d ----

ConvTranspose2d::ConvTranspose2d(int64_t in_channels_, int64_t out_channels_, Size2 kernel_size_,
                                 ConvTranspose2dOptions options_)
    : Module("ConvTranspose2d"), in_channels(in_channels_), out_channels(out_channels_), kernel_size(kernel_size_),
      options(std::move(options_)) {
  check_channels("ConvTranspose2d", in_channels, out_channels, options.groups);
  // weight: (C_in, C_out / groups, kH, kW), so PyTorch's fan_in is C_out / groups * kH * kW.
  weight = register_parameter(
      "weight", empty({in_channels, out_channels / options.groups, kernel_size.h, kernel_size.w}));
  if (options.bias) bias = register_parameter("bias", empty({out_channels}));
  reset_parameters();
}

void ConvTranspose2d::reset_parameters() { init::linear_default_(weight, bias); }

Tensor ConvTranspose2d::forward(const Tensor& x) {
  check_input("ConvTranspose2d", x, 2, in_channels);
  return conv_transpose2d(x, weight, bias, options.stride, options.padding, options.output_padding, options.groups,
                          options.dilation);
}

std::string ConvTranspose2d::extra_repr() const {
  std::string s = conv_repr(in_channels, out_channels, pair_str(kernel_size), pair_str(options.stride),
                            pair_str(options.padding), options.padding.h == 0 && options.padding.w == 0,
                            pair_str(options.dilation), options.dilation.h == 1 && options.dilation.w == 1,
                            options.groups, options.bias);
  if (options.output_padding.h != 0 || options.output_padding.w != 0) {
    s += ", output_padding=" + pair_str(options.output_padding);
  }
  return s;
}

}  // namespace ember::nn
