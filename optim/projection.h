// The scale-invariance projection shared by AdamP and SGDP (Heo et al. 2021, "AdamP: Slowing Down
// the Slowdown for Momentum Optimizers on Scale-invariant Weights", as clovaai/AdamP): when the
// gradient is nearly orthogonal to the weight (|cos(g, w)| < δ/√(view width) for every output
// channel, else for the whole tensor), the update's radial component along w is removed and weight
// decay is scaled by wd_ratio. Used by optim/adamp.cpp and optim/sgdp.cpp; parameters with
// dim <= 1 are never projected.
//
// Two passes over the parameter, no temporary its size: plan_projection() runs `prepare(i)` once
// per element (the optimizer updates its moments there and returns the unprojected update) and
// gathers per-row dot products; the optimizer's second pass subtracts w·scale(row).
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "engine/parallel.h"
#include "engine/tensor.h"

namespace ember::optim {

struct Projection {
  bool active = false;
  int64_t row_len = 1;         // elements per row of the view that was projected
  std::vector<double> scales;  // per row: (w_r·d_r)/(‖w_r‖ + ε)²; projected d = d − w·scale
  double scale(int64_t i) const { return active ? scales[static_cast<size_t>(i / row_len)] : 0.0; }
};

// w, g: the parameter and its gradient, shape (rows, ...) flattened; prepare(i) -> the update d_i.
template <class T, class Prepare>
Projection plan_projection(const Tensor& param, const T* w, const T* g, Prepare prepare, double delta, double eps) {
  const int64_t n = param.numel();
  if (param.dim() <= 1) {
    parallel_for(n, kParallelGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) prepare(i);
    });
    return {};
  }
  const int64_t rows = param.size(0), cols = n / rows;
  // Per row: g·w, ‖g‖², ‖w‖², w·d.
  std::vector<std::array<double, 4>> sums(static_cast<size_t>(rows), std::array<double, 4>{});
  parallel_for(rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      std::array<double, 4>& s = sums[static_cast<size_t>(r)];
      for (int64_t i = r * cols; i < (r + 1) * cols; ++i) {
        const double d = static_cast<double>(prepare(i)), wi = static_cast<double>(w[i]), gi = static_cast<double>(g[i]);
        s[0] += gi * wi;
        s[1] += gi * gi;
        s[2] += wi * wi;
        s[3] += wi * d;
      }
    }
  });
  const auto cosine = [&](double dot, double g_sq, double w_sq) {
    return std::fabs(dot) / std::max(std::sqrt(g_sq) * std::sqrt(w_sq), eps);
  };
  Projection out;
  // Channel view: every row nearly orthogonal.
  double worst = 0.0;
  for (const auto& s : sums) worst = std::max(worst, cosine(s[0], s[1], s[2]));
  if (worst < delta / std::sqrt(static_cast<double>(cols))) {
    out.active = true;
    out.row_len = cols;
    for (const auto& s : sums) {
      const double norm = std::sqrt(s[2]) + eps;
      out.scales.push_back(s[3] / (norm * norm));
    }
    return out;
  }
  // Layer view: the whole tensor as one row.
  std::array<double, 4> total{};
  for (const auto& s : sums) {
    for (size_t k = 0; k < 4; ++k) total[k] += s[k];
  }
  if (cosine(total[0], total[1], total[2]) < delta / std::sqrt(static_cast<double>(n))) {
    const double norm = std::sqrt(total[2]) + eps;
    out.active = true;
    out.row_len = n;
    out.scales = {total[3] / (norm * norm)};
  }
  return out;
}

}  // namespace ember::optim
