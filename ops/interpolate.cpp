// interpolate and pixel_shuffle: API, checks, dispatch and backward. Kernels: ops/cpu/interpolate.cpp.
// Formulas: autograd/derivatives/nn.md.
//
// Interpolation is linear in x, so its backward is the adjoint op (a weighted scatter) and the
// adjoint's backward is the forward again: interp_forward and interp_adjoint record each other.
// Both work on (P, H, W) planes; 1-D inputs are planes with H = 1.
#include "ops/interpolate.h"

#include <cmath>

#include "autograd/function.h"
#include "cuda/interpolate.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/interpolate.h"
#include "ops/flops.h"

namespace ember {

namespace {

using cpu::InterpPlan;

Tensor interp_adjoint(const Tensor& grad, const InterpPlan& plan);

// x: (P, H, W) -> (P, OH, OW)
Tensor interp_forward(const Tensor& x, const InterpPlan& plan) {
  EMBER_PROFILE_OP("interpolate", {x}, flops::per_input_element(x, 0, static_cast<double>(x.numel() > 0 ? x.size(0) * plan.h.out * plan.w.out : 0)));
  Tensor out = empty({x.size(0), plan.h.out, plan.w.out}, TensorOptions(x.dtype()).device(x.device()));
  const Tensor input = x.contiguous();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("interpolate", cuda::interpolate_fwd(out, input, plan)); else cpu::interpolate_fwd(out, input, plan);
  record_backward("interpolate", {x}, {out}, {}, [plan](BackwardContext& ctx) -> TensorList {
    return {interp_adjoint(ctx.grad(0), plan)};
  });
  return out;
}

// grad: (P, OH, OW) -> (P, H, W)
Tensor interp_adjoint(const Tensor& grad, const InterpPlan& plan) {
  EMBER_PROFILE_OP("interpolate_backward", {grad}, flops::per_input_element(grad, 0, static_cast<double>(grad.numel() > 0 ? grad.size(0) * plan.h.in * plan.w.in : 0)));
  Tensor out = zeros({grad.size(0), plan.h.in, plan.w.in}, TensorOptions(grad.dtype()).device(grad.device()));
  const Tensor g = grad.contiguous();
  if (grad.device().is_cuda()) EMBER_CUDA_KERNEL("interpolate_backward", cuda::interpolate_adjoint(out, g, plan)); else cpu::interpolate_adjoint(out, g, plan);
  record_backward("interpolate_backward", {grad}, {out}, {}, [plan](BackwardContext& ctx) -> TensorList {
    return {interp_forward(ctx.grad(0), plan)};
  });
  return out;
}

cpu::InterpMode parse_mode(const char* op, const std::string& mode, const Tensor& x) {
  const int64_t spatial = x.dim() - 2;
  if (mode == "nearest") return cpu::InterpMode::nearest;
  if (mode == "linear" && spatial == 1) return cpu::InterpMode::linear;
  if (mode == "bilinear" && spatial == 2) return cpu::InterpMode::linear;
  if (mode == "bicubic" && spatial == 2) return cpu::InterpMode::cubic;
  EMBER_FAIL("{}: mode '{}' is not supported for input {} (use 'nearest' or 'linear' for (N, C, L), "
             "'nearest', 'bilinear' or 'bicubic' for (N, C, H, W))",
             op, mode, x.describe());
}

// One entry per spatial dim, or one entry for all of them.
template <class V>
std::vector<V> per_spatial_dim(const char* op, const char* what, const std::vector<V>& values, int64_t spatial) {
  EMBER_CHECK(static_cast<int64_t>(values.size()) == spatial || values.size() == 1,
              "{}: {} needs 1 or {} entries for {} spatial dims, got {}", op, what, spatial, spatial, values.size());
  return values.size() == 1 ? std::vector<V>(spatial, values[0]) : values;
}

// Shared by the size and scale_factor forms: `out_sizes` and `scales` (0 = none) per spatial dim.
Tensor interpolate_impl(const Tensor& x, const Shape& out_sizes, const std::vector<double>& scales,
                        const std::string& mode, std::optional<bool> align_corners) {
  const char* op = "interpolate";
  const int64_t spatial = x.dim() - 2;
  InterpPlan plan;
  plan.mode = parse_mode(op, mode, x);
  EMBER_CHECK(!align_corners || plan.mode != cpu::InterpMode::nearest,
              "{}: align_corners can only be set with the interpolating modes (linear, bilinear, bicubic), not '{}'",
              op, mode);
  plan.align_corners = align_corners.value_or(false);
  for (int64_t d = 0; d < spatial; ++d) {
    EMBER_CHECK(x.size(2 + d) > 0, "{}: input {} has an empty spatial dim", op, x.describe());
    EMBER_CHECK(out_sizes[d] > 0, "{}: output size {} for input {} must be positive", op, shape_str(out_sizes),
                x.describe());
  }
  cpu::InterpAxis* axes[2] = {&plan.h, &plan.w};
  const int64_t first_axis = 2 - spatial;  // 1-D inputs only use the W axis
  for (int64_t d = 0; d < spatial; ++d) *axes[first_axis + d] = {x.size(2 + d), out_sizes[d], scales[d]};
  const int64_t N = x.size(0), C = x.size(1);
  Tensor planes = x.reshape({N * C, plan.h.in, plan.w.in});
  Shape out_shape{N, C};
  for (int64_t d = 0; d < spatial; ++d) out_shape.push_back(out_sizes[d]);
  return interp_forward(planes, plan).reshape(out_shape);
}

void check_interpolate_input(const Tensor& x) {
  const char* op = "interpolate";
  check_defined(op, x, "input");  // any device (Note [CUDA dispatch]: cuda/interpolate.h)
  EMBER_CHECK(x.dim() == 3 || x.dim() == 4, "{}: expected (N, C, L) or (N, C, H, W) input, got {}", op, x.describe());
  EMBER_CHECK(is_floating(x.dtype()), "{}: expected a floating-point input, got {}", op, x.describe());
}

}  // namespace

Tensor interpolate(const Tensor& x, const Shape& size, const std::string& mode, std::optional<bool> align_corners) {
  check_interpolate_input(x);
  const int64_t spatial = x.dim() - 2;
  const Shape sizes = per_spatial_dim("interpolate", "size", size, spatial);
  return interpolate_impl(x, sizes, std::vector<double>(spatial, 0.0), mode, align_corners);
}

Tensor interpolate(const Tensor& x, const std::vector<double>& scale_factor, const std::string& mode,
                   std::optional<bool> align_corners) {
  check_interpolate_input(x);
  const int64_t spatial = x.dim() - 2;
  const std::vector<double> scales = per_spatial_dim("interpolate", "scale_factor", scale_factor, spatial);
  Shape sizes;
  for (int64_t d = 0; d < spatial; ++d) {
    EMBER_CHECK(scales[d] > 0.0 && std::isfinite(scales[d]), "interpolate: scale_factor {} must be positive and finite",
                scales[d]);
    sizes.push_back(static_cast<int64_t>(std::floor(static_cast<double>(x.size(2 + d)) * scales[d])));
  }
  return interpolate_impl(x, sizes, scales, mode, align_corners);
}

Tensor interpolate(const Tensor& x, double scale_factor, const std::string& mode, std::optional<bool> align_corners) {
  return interpolate(x, std::vector<double>{scale_factor}, mode, align_corners);
}

// ---------------------------------------------------------------- pixel_shuffle / unshuffle
Tensor pixel_shuffle(const Tensor& x, int64_t r) {
  const char* op = "pixel_shuffle";
  check_defined(op, x, "input");
  EMBER_CHECK(x.dim() >= 3, "{}: expected (*, C r^2, H, W) input, got {}", op, x.describe());
  EMBER_CHECK(r > 0, "{}: upscale_factor must be positive, got {}", op, r);
  const int64_t d = x.dim();
  const int64_t channels = x.size(d - 3), H = x.size(d - 2), W = x.size(d - 1);
  EMBER_CHECK(channels % (r * r) == 0, "{}: channels {} of input {} are not divisible by upscale_factor^2 = {}", op,
              channels, x.describe(), r * r);
  Shape batch(x.sizes().begin(), x.sizes().end() - 3);
  const int64_t B = numel_of(batch);
  const int64_t C = channels / (r * r);
  // (B, C, r, r, H, W) -> (B, C, H, r, W, r)
  Tensor out = x.reshape({B, C, r, r, H, W}).permute({0, 1, 4, 2, 5, 3}).reshape({B, C, H * r, W * r});
  Shape out_shape = batch;
  out_shape.insert(out_shape.end(), {C, H * r, W * r});
  return out.reshape(out_shape);
}

Tensor pixel_unshuffle(const Tensor& x, int64_t r) {
  const char* op = "pixel_unshuffle";
  check_defined(op, x, "input");
  EMBER_CHECK(x.dim() >= 3, "{}: expected (*, C, H r, W r) input, got {}", op, x.describe());
  EMBER_CHECK(r > 0, "{}: downscale_factor must be positive, got {}", op, r);
  const int64_t d = x.dim();
  const int64_t C = x.size(d - 3), Hr = x.size(d - 2), Wr = x.size(d - 1);
  EMBER_CHECK(Hr % r == 0 && Wr % r == 0, "{}: spatial size of input {} is not divisible by downscale_factor {}", op,
              x.describe(), r);
  Shape batch(x.sizes().begin(), x.sizes().end() - 3);
  const int64_t B = numel_of(batch);
  const int64_t H = Hr / r, W = Wr / r;
  // (B, C, H, r, W, r) -> (B, C, r, r, H, W)
  Tensor out = x.reshape({B, C, H, r, W, r}).permute({0, 1, 3, 5, 2, 4}).reshape({B, C * r * r, H, W});
  Shape out_shape = batch;
  out_shape.insert(out_shape.end(), {C * r * r, H, W});
  return out.reshape(out_shape);
}

}  // namespace ember
