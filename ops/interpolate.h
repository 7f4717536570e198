// interpolate (nearest, linear, bilinear, bicubic), pixel_shuffle / pixel_unshuffle.
// Twin: ops/cpu/interpolate.cpp (kernels), autograd/derivatives/nn.md (formulas).
// Coordinates follow PyTorch's F.interpolate exactly (half-pixel centres unless align_corners;
// a given scale_factor is used as is for the coordinate map, as with recompute_scale_factor=None;
// bicubic uses A = -0.75 and clamps taps at the border).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace ember {

// x: (N, C, L) with mode "nearest" | "linear", or (N, C, H, W) with "nearest" | "bilinear" |
// "bicubic". `size` has one entry per spatial dim (or one entry for all). align_corners may only
// be given for the interpolating modes (default false).
Tensor interpolate(const Tensor& x, const Shape& size, const std::string& mode = "nearest",
                   std::optional<bool> align_corners = std::nullopt);
// Output size floor(in * scale) per spatial dim; `scale_factor` has one entry per spatial dim
// (or one entry for all).
Tensor interpolate(const Tensor& x, const std::vector<double>& scale_factor, const std::string& mode = "nearest",
                   std::optional<bool> align_corners = std::nullopt);
Tensor interpolate(const Tensor& x, double scale_factor, const std::string& mode = "nearest",
                   std::optional<bool> align_corners = std::nullopt);

// (*, C r^2, H, W) -> (*, C, H r, W r), and its inverse. Pure permutations (views + one copy).
Tensor pixel_shuffle(const Tensor& x, int64_t upscale_factor);
Tensor pixel_unshuffle(const Tensor& x, int64_t downscale_factor);

}  // namespace ember
