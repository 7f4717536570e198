// Convolutions: API, argument checks, dispatch and backward, side by side.
// Three differentiable cores share one geometry (Note [Convolution triangle]):
//   convolution(x, w)            y  = x ⋆ w
//   convolution_transpose(dy, w) dx = the adjoint of x ↦ x ⋆ w (conv_transpose2d's forward)
//   weight_gradient(x, dy)       dw = the adjoint of w ↦ x ⋆ w
// Each one's backward is written with the other two, so every order of derivative works.
// Kernels: ops/cpu/conv.cpp (im2col/Winograd/direct), cuda/conv.cpp (cuDNN).
// Formulas: autograd/derivatives/matmul.md.
#include "ops/conv.h"

#include "autograd/function.h"
#include "cuda/conv.h"
#include "engine/autocast.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/conv.h"
#include "ops/flops.h"
#include "ops/reduce.h"

namespace ember {

namespace {

// Note [Convolution triangle]: the three cores are bilinear and adjoint to each other:
// <dy, conv(x, w)> = <convᵀ(dy, w), x> = <weight_gradient(x, dy), w>. Hence
//   d conv / dx = convᵀ(g, w),       d conv / dw = weight_gradient(x, g)
//   d convᵀ / d dy = conv(g, w),     d convᵀ / dw = weight_gradient(g, dy)
//   d wgrad / dx = convᵀ(dy, G),     d wgrad / d dy = conv(x, G)
// The geometry always names the convolution's input (H, W) and output (out_h, out_w) explicitly,
// so asymmetric "same" padding and output_padding need no special cases.
struct ConvSpec {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1, groups = 1;
};

// conv input (N, in_channels, in_h, in_w) -> conv output (N, out_channels, out_h, out_w).
cpu::Conv2dGeometry geometry(int64_t batch, int64_t in_channels, int64_t in_h, int64_t in_w, int64_t out_channels,
                             int64_t out_h, int64_t out_w, int64_t kernel_h, int64_t kernel_w, const ConvSpec& s) {
  cpu::Conv2dGeometry g;
  g.batch = batch;
  g.in_channels = in_channels;
  g.out_channels = out_channels;
  g.groups = s.groups;
  g.patch = {.channels = in_channels / s.groups, .in_h = in_h, .in_w = in_w, .kernel_h = kernel_h,
             .kernel_w = kernel_w, .out_h = out_h, .out_w = out_w, .stride_h = s.stride_h, .stride_w = s.stride_w,
             .pad_h = s.pad_h, .pad_w = s.pad_w, .dilation_h = s.dilation_h, .dilation_w = s.dilation_w};
  return g;
}

Tensor convolution_transpose(const Tensor& dy, const Tensor& w, const Tensor& bias, const ConvSpec& s, int64_t in_h,
                             int64_t in_w);
Tensor weight_gradient(const Tensor& x, const Tensor& dy, const ConvSpec& s, int64_t kernel_h, int64_t kernel_w);

// Σ over (N, H, W): the spatial sum first reduces contiguous rows in place of a permuted copy.
Tensor bias_gradient(const Tensor& g) { return sum(sum(g, {2, 3}), {0}); }

// y = x ⋆ w + bias. x: (N, C_in, H, W), w: (C_out, C_in / groups, kh, kw) -> y: (N, C_out, out_h, out_w)
Tensor convolution(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvSpec& s, int64_t out_h,
                   int64_t out_w) {
  const int64_t in_h = x.size(2), in_w = x.size(3), kernel_h = w.size(2), kernel_w = w.size(3);
  EMBER_PROFILE_OP("conv2d", {x, w, bias},
                   flops::conv2d(x.size(0), w.size(0), out_h, out_w, w.size(1), kernel_h, kernel_w,
                                 flops::bytes_of({x, w, bias}) +
                                     flops::output_bytes({x}, x.size(0) * w.size(0) * out_h * out_w)));
  Tensor y = make_tensor({x.size(0), w.size(0), out_h, out_w}, x.dtype(), x.device());
  const Tensor xc = x.contiguous(), wc = w.contiguous(), bc = bias.defined() ? bias.contiguous() : bias;
  const cpu::Conv2dGeometry geom =
      geometry(x.size(0), x.size(1), in_h, in_w, w.size(0), out_h, out_w, kernel_h, kernel_w, s);
  if (x.device().is_cuda()) {
    EMBER_CUDA_KERNEL("conv2d", cuda::conv2d_forward(y, xc, wc, bc, geom));
  } else {
    cpu::conv2d_forward(y, xc, wc, bc, geom);
  }
  record_backward("conv2d", {x, w, bias}, {y}, {x, w},
                  [s, in_h, in_w, kernel_h, kernel_w](BackwardContext& ctx) -> TensorList {
                    const Tensor g = ctx.grad(0).contiguous();  // once, not once per gradient
                    return {ctx.needs_grad(0) ? convolution_transpose(g, ctx.saved(1), Tensor(), s, in_h, in_w) : Tensor(),
                            ctx.needs_grad(1) ? weight_gradient(ctx.saved(0), g, s, kernel_h, kernel_w) : Tensor(),
                            ctx.needs_grad(2) ? bias_gradient(g) : Tensor()};
                  });
  return y;
}

// dx = convᵀ(dy, w) + bias. dy: (N, C_out, out_h, out_w), w: (C_out, C_in / groups, kh, kw)
// -> dx: (N, C_in, in_h, in_w)
Tensor convolution_transpose(const Tensor& dy, const Tensor& w, const Tensor& bias, const ConvSpec& s, int64_t in_h,
                             int64_t in_w) {
  const int64_t out_h = dy.size(2), out_w = dy.size(3), kernel_h = w.size(2), kernel_w = w.size(3);
  const int64_t in_channels = w.size(1) * s.groups;
  EMBER_PROFILE_OP("conv_transpose2d", {dy, w, bias},
                   flops::conv2d(dy.size(0), w.size(0), out_h, out_w, w.size(1), kernel_h, kernel_w,
                                 flops::bytes_of({dy, w, bias}) +
                                     flops::output_bytes({dy}, dy.size(0) * in_channels * in_h * in_w)));
  Tensor dx = make_tensor({dy.size(0), in_channels, in_h, in_w}, dy.dtype(), dy.device());
  const Tensor dyc = dy.contiguous(), wc = w.contiguous(), bc = bias.defined() ? bias.contiguous() : bias;
  const cpu::Conv2dGeometry geom =
      geometry(dy.size(0), in_channels, in_h, in_w, w.size(0), out_h, out_w, kernel_h, kernel_w, s);
  if (dy.device().is_cuda()) {
    EMBER_CUDA_KERNEL("conv_transpose2d", cuda::conv2d_input_backward(dx, dyc, wc, bc, geom));
  } else {
    cpu::conv2d_input_backward(dx, dyc, wc, bc, geom);
  }
  record_backward("conv_transpose2d", {dy, w, bias}, {dx}, {dy, w},
                  [s, out_h, out_w, kernel_h, kernel_w](BackwardContext& ctx) -> TensorList {
                    const Tensor g = ctx.grad(0).contiguous();  // once, not once per gradient
                    return {ctx.needs_grad(0) ? convolution(g, ctx.saved(1), Tensor(), s, out_h, out_w) : Tensor(),
                            ctx.needs_grad(1) ? weight_gradient(g, ctx.saved(0), s, kernel_h, kernel_w) : Tensor(),
                            ctx.needs_grad(2) ? bias_gradient(g) : Tensor()};
                  });
  return dx;
}

// dw = Σ_n dy[n] ⋆ x[n]. x: (N, C_in, H, W), dy: (N, C_out, out_h, out_w) -> dw: (C_out, C_in / groups, kh, kw)
Tensor weight_gradient(const Tensor& x, const Tensor& dy, const ConvSpec& s, int64_t kernel_h, int64_t kernel_w) {
  const int64_t in_h = x.size(2), in_w = x.size(3), out_h = dy.size(2), out_w = dy.size(3);
  EMBER_PROFILE_OP("conv2d_weight_backward", {x, dy},
                   flops::conv2d(x.size(0), dy.size(1), out_h, out_w, x.size(1) / s.groups, kernel_h, kernel_w,
                                 flops::bytes_of({x, dy}) +
                                     flops::output_bytes({x}, dy.size(1) * x.size(1) / s.groups * kernel_h * kernel_w)));
  Tensor dw = make_tensor({dy.size(1), x.size(1) / s.groups, kernel_h, kernel_w}, x.dtype(), x.device());
  const Tensor xc = x.contiguous(), dyc = dy.contiguous();
  const cpu::Conv2dGeometry geom =
      geometry(x.size(0), x.size(1), in_h, in_w, dy.size(1), out_h, out_w, kernel_h, kernel_w, s);
  if (x.device().is_cuda()) {
    EMBER_CUDA_KERNEL("conv2d_weight_backward", cuda::conv2d_weight_backward(dw, xc, dyc, geom));
  } else {
    cpu::conv2d_weight_backward(dw, xc, dyc, geom);
  }
  record_backward("conv2d_weight_backward", {x, dy}, {dw}, {x, dy},
                  [s, in_h, in_w, out_h, out_w](BackwardContext& ctx) -> TensorList {
                    const Tensor g = ctx.grad(0).contiguous();  // once, not once per gradient
                    return {ctx.needs_grad(0) ? convolution_transpose(ctx.saved(1), g, Tensor(), s, in_h, in_w) : Tensor(),
                            ctx.needs_grad(1) ? convolution(ctx.saved(0), g, Tensor(), s, out_h, out_w) : Tensor()};
                  });
  return dw;
}

// ---------------------------------------------------------------- argument checks
void check_tensors(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_defined(op, x, "input");
  check_defined(op, w, "weight");
  check_same_device(op, {&x, &w, &bias});
  EMBER_CHECK(is_floating(x.dtype()), "{}: expected a floating-point input, got {}", op, x.describe());
  EMBER_CHECK(w.dtype() == x.dtype(), "{}: input {} and weight {} must have the same dtype", op, x.describe(),
              w.describe());
  EMBER_CHECK(!bias.defined() || bias.dtype() == x.dtype(), "{}: bias {} must have the input's dtype ({})", op,
              bias.describe(), x.describe());
}

void check_hyper(const char* op, Size2 stride, Size2 dilation, int64_t groups) {
  EMBER_CHECK(stride.h >= 1 && stride.w >= 1, "{}: stride must be positive, got ({}, {})", op, stride.h, stride.w);
  EMBER_CHECK(dilation.h >= 1 && dilation.w >= 1, "{}: dilation must be positive, got ({}, {})", op, dilation.h,
              dilation.w);
  EMBER_CHECK(groups >= 1, "{}: groups must be positive, got {}", op, groups);
}

void check_bias(const char* op, const Tensor& bias, int64_t channels) {
  EMBER_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == channels),
              "{}: bias {} must be 1-D with {} elements", op, bias.describe(), channels);
}

// conv2d on 4-D x and w; `op` names the user-facing op (conv1d runs here too).
Tensor conv2d_checked(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias, Size2 stride,
                      const ConvPadding& padding, Size2 dilation, int64_t groups) {
  check_hyper(op, stride, dilation, groups);
  const int64_t in_channels = x.size(1), out_channels = w.size(0);
  EMBER_CHECK(w.size(1) * groups == in_channels,
              "{}: input {} has {} channels but weight {} with groups={} expects {}", op, x.describe(), in_channels,
              w.describe(), groups, w.size(1) * groups);
  EMBER_CHECK(out_channels % groups == 0, "{}: weight {} has {} output channels, not divisible by groups={}", op,
              w.describe(), out_channels, groups);
  EMBER_CHECK(w.size(2) >= 1 && w.size(3) >= 1, "{}: empty kernel {}", op, w.describe());
  check_bias(op, bias, out_channels);
  const int64_t span_h = dilation.h * (w.size(2) - 1) + 1, span_w = dilation.w * (w.size(3) - 1) + 1;
  ConvSpec s{stride.h, stride.w, 0, 0, dilation.h, dilation.w, groups};
  int64_t out_h = 0, out_w = 0;
  if (padding.mode == "same") {
    EMBER_CHECK(stride.h == 1 && stride.w == 1, "{}: padding='same' needs stride 1, got ({}, {})", op, stride.h,
                stride.w);
    // An odd total pads one more at the bottom/right, as PyTorch does.
    s.pad_h = (span_h - 1) / 2;
    s.pad_w = (span_w - 1) / 2;
    out_h = x.size(2);
    out_w = x.size(3);
  } else {
    EMBER_CHECK(padding.mode.empty() || padding.mode == "valid",
                "{}: padding must be 'same', 'valid' or sizes, got '{}'", op, padding.mode);
    EMBER_CHECK(padding.size.h >= 0 && padding.size.w >= 0, "{}: padding must be non-negative, got ({}, {})", op,
                padding.size.h, padding.size.w);
    s.pad_h = padding.size.h;
    s.pad_w = padding.size.w;
    const int64_t padded_h = x.size(2) + 2 * s.pad_h, padded_w = x.size(3) + 2 * s.pad_w;
    EMBER_CHECK(padded_h >= span_h && padded_w >= span_w,
                "{}: input {} (padded to {}x{}) is smaller than the dilated kernel {}x{} of weight {}", op,
                x.describe(), padded_h, padded_w, span_h, span_w, w.describe());
    out_h = (padded_h - span_h) / stride.h + 1;
    out_w = (padded_w - span_w) / stride.w + 1;
  }
  return convolution(x, w, bias, s, out_h, out_w);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, ConvPadding padding,
              Size2 dilation, int64_t groups) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): 16-bit CUDA math, float32 accumulation.
  if (autocast_wants_lower({&x, &weight, &bias})) {
    return conv2d(autocast_lower(x), autocast_lower(weight), autocast_lower(bias), stride, padding, dilation, groups);
  }
  check_tensors("conv2d", x, weight, bias);
  EMBER_CHECK(x.dim() == 3 || x.dim() == 4, "conv2d: input must be (N, C, H, W) or (C, H, W), got {}",
              x.describe());
  EMBER_CHECK(weight.dim() == 4, "conv2d: weight must be (C_out, C_in / groups, kh, kw), got {}", weight.describe());
  if (x.dim() == 3) return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0);
  return conv2d_checked("conv2d", x, weight, bias, stride, padding, dilation, groups);
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride, ConvPadding padding,
              int64_t dilation, int64_t groups) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): 16-bit CUDA math, float32 accumulation.
  if (autocast_wants_lower({&x, &weight, &bias})) {
    return conv1d(autocast_lower(x), autocast_lower(weight), autocast_lower(bias), stride, padding, dilation, groups);
  }
  EMBER_PROFILE_OP("conv1d", {x, weight, bias}, {});
  check_tensors("conv1d", x, weight, bias);
  EMBER_CHECK(x.dim() == 2 || x.dim() == 3, "conv1d: input must be (N, C, L) or (C, L), got {}", x.describe());
  EMBER_CHECK(weight.dim() == 3, "conv1d: weight must be (C_out, C_in / groups, k), got {}", weight.describe());
  if (x.dim() == 2) return conv1d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0);
  EMBER_CHECK(padding.size.h == padding.size.w, "conv1d: padding takes one size, got ({}, {})", padding.size.h,
              padding.size.w);
  ConvPadding padding_2d = padding;
  padding_2d.size = Size2(0, padding.size.w);
  // A length-L signal is a 1 x L image with a 1 x k kernel.
  return conv2d_checked("conv1d", x.unsqueeze(2), weight.unsqueeze(2), bias, Size2(1, stride), padding_2d,
                        Size2(1, dilation), groups)
      .squeeze(2);
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
                        Size2 output_padding, int64_t groups, Size2 dilation) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): 16-bit CUDA math, float32 accumulation.
  if (autocast_wants_lower({&x, &weight, &bias})) {
    return conv_transpose2d(autocast_lower(x), autocast_lower(weight), autocast_lower(bias), stride, padding,
                            output_padding, groups, dilation);
  }
  const char* op = "conv_transpose2d";
  check_tensors(op, x, weight, bias);
  EMBER_CHECK(x.dim() == 3 || x.dim() == 4, "{}: input must be (N, C, H, W) or (C, H, W), got {}", op,
              x.describe());
  EMBER_CHECK(weight.dim() == 4, "{}: weight must be (C_in, C_out / groups, kh, kw), got {}", op, weight.describe());
  if (x.dim() == 3) {
    return conv_transpose2d(x.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation)
        .squeeze(0);
  }
  check_hyper(op, stride, dilation, groups);
  EMBER_CHECK(x.size(1) == weight.size(0), "{}: input {} has {} channels but weight {} expects {}", op, x.describe(),
              x.size(1), weight.describe(), weight.size(0));
  EMBER_CHECK(weight.size(0) % groups == 0, "{}: weight {} has {} input channels, not divisible by groups={}", op,
              weight.describe(), weight.size(0), groups);
  EMBER_CHECK(weight.size(2) >= 1 && weight.size(3) >= 1, "{}: empty kernel {}", op, weight.describe());
  EMBER_CHECK(padding.h >= 0 && padding.w >= 0, "{}: padding must be non-negative, got ({}, {})", op, padding.h,
              padding.w);
  EMBER_CHECK(output_padding.h >= 0 && output_padding.w >= 0 &&
                  (output_padding.h < stride.h || output_padding.h < dilation.h) &&
                  (output_padding.w < stride.w || output_padding.w < dilation.w),
              "{}: output_padding ({}, {}) must be non-negative and smaller than stride or dilation", op,
              output_padding.h, output_padding.w);
  check_bias(op, bias, weight.size(1) * groups);
  const int64_t out_h = (x.size(2) - 1) * stride.h - 2 * padding.h + dilation.h * (weight.size(2) - 1) +
                        output_padding.h + 1;
  const int64_t out_w = (x.size(3) - 1) * stride.w - 2 * padding.w + dilation.w * (weight.size(3) - 1) +
                        output_padding.w + 1;
  EMBER_CHECK(out_h >= 1 && out_w >= 1, "{}: input {} with weight {} gives an empty output ({}x{})", op,
              x.describe(), weight.describe(), out_h, out_w);
  const ConvSpec s{stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, groups};
  return convolution_transpose(x, weight, bias, s, out_h, out_w);
}

Tensor conv2d_weight_backward(const Tensor& x, const Tensor& grad_out, Size2 kernel_size, Size2 stride,
                              Size2 padding, Size2 dilation, int64_t groups) {
  const char* op = "conv2d_weight_backward";
  check_tensors(op, x, grad_out, Tensor());
  check_hyper(op, stride, dilation, groups);
  EMBER_CHECK(x.dim() == 4 && grad_out.dim() == 4 && x.size(0) == grad_out.size(0),
              "{}: expected input (N, C_in, H, W) and grad_out (N, C_out, H_out, W_out), got {} and {}", op,
              x.describe(), grad_out.describe());
  EMBER_CHECK(kernel_size.h >= 1 && kernel_size.w >= 1 && padding.h >= 0 && padding.w >= 0,
              "{}: bad kernel size ({}, {}) or padding ({}, {})", op, kernel_size.h, kernel_size.w, padding.h,
              padding.w);
  EMBER_CHECK(x.size(1) % groups == 0 && grad_out.size(1) % groups == 0,
              "{}: channels of {} and {} must be divisible by groups={}", op, x.describe(), grad_out.describe(), groups);
  const int64_t expected_h = (x.size(2) + 2 * padding.h - dilation.h * (kernel_size.h - 1) - 1) / stride.h + 1;
  const int64_t expected_w = (x.size(3) + 2 * padding.w - dilation.w * (kernel_size.w - 1) - 1) / stride.w + 1;
  EMBER_CHECK(grad_out.size(2) == expected_h && grad_out.size(3) == expected_w,
              "{}: grad_out {} does not match the conv2d output {}x{} of input {}", op, grad_out.describe(), expected_h,
              expected_w, x.describe());
  const ConvSpec s{stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, groups};
  return weight_gradient(x, grad_out, s, kernel_size.h, kernel_size.w);
}

}  // namespace ember
