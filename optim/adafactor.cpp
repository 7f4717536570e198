// AdaFactor (optim/adafactor.h). A parameter with dim >= 2 is viewed as (B, R, C) (C the last dim,
// R the one before, B the rest); slots "exp_avg_sq_row" (B, R) and "exp_avg_sq_col" (B, C) hold the
// factored second moment, "exp_avg_sq" (same shape as w) the unfactored one.
//   pass 1: row/col means of g² + ε (factored) or v = β2ₜ·v + (1 − β2ₜ)(g² + ε); ‖w‖² for RMS(w)
//   pass 2: u = g / √(row/mean(row) · col) (or g/√v); Σu² for RMS(u)
//   pass 3: u = lr·u / max(1, RMS(u)/clip); m = β1·m + (1 − β1)·u (if β1 > 0); w = w − lr·λ·w − (m or u)
#include "optim/adafactor.h"

#include <cmath>


namespace ember::optim {

AdaFactor::AdaFactor(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("adafactor", std::move(groups),
                merge_options("adafactor",
                              {{"lr", 1e-3}, {"relative_step", 0.0}, {"eps", 1e-30}, {"eps_scale", 1e-3},
                               {"clip_threshold", 1.0}, {"decay_rate", -0.8}, {"beta1", 0.0}, {"weight_decay", 0.0},
                               {"scale_parameter", 1.0}, {"warmup_init", 0.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("eps", 0.0, 1e300);
  check_option("eps_scale", 0.0, 1e300);
  check_option("clip_threshold", 0.0, 1e300, true);
  check_option("decay_rate", -1e300, 0.0, false, true);
  check_option("beta1", 0.0, 1.0, false, true);
  check_option("weight_decay", 0.0, 1e300);
}

// Factored parameters (dim >= 2) viewed as (B, R, C): rows (B, R), columns (B, C).
Shape AdaFactor::slot_shape(const Tensor& param, const std::string& slot_name) const {
  if (param.dim() < 2 || (slot_name != "exp_avg_sq_row" && slot_name != "exp_avg_sq_col")) return param.sizes();
  const int64_t cols = param.size(-1), rows = param.size(-2), batch = param.numel() / std::max<int64_t>(rows * cols, 1);
  return slot_name == "exp_avg_sq_row" ? Shape{batch, rows} : Shape{batch, cols};
}

void AdaFactor::step() {
  for_each_param([&](ParamRef& p) {
    const double eps = p.group.get("eps"), beta1 = p.group.get("beta1"), wd = p.group.get("weight_decay");
    const double t = static_cast<double>(p.step);
    const double beta2t = 1.0 - std::pow(t, p.group.get("decay_rate"));
    const bool factored = p.param.dim() >= 2;
    const int64_t n = p.param.numel();
    const int64_t cols = factored ? p.param.size(-1) : n, rows = factored ? p.param.size(-2) : 1;
    const int64_t batch = n / std::max<int64_t>(rows * cols, 1);
    dispatch_floating(p.param.dtype(), "adafactor", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      const double w_sq = chunked_sums<1>(n, [=](int64_t i, std::array<double, 1>& s) {
        s[0] += static_cast<double>(w[i]) * static_cast<double>(w[i]);
      })[0];
      double lr = p.group.get("lr");
      if (p.group.flag("relative_step")) {
        const double cap = p.group.flag("warmup_init") ? 1e-6 * t : 1e-2;
        lr = std::min(cap, 1.0 / std::sqrt(t));
        if (p.group.flag("scale_parameter")) lr *= std::max(p.group.get("eps_scale"), std::sqrt(w_sq / n));
      }
      // pass 1 + the per-element second-moment estimate for pass 2
      T* row_state = nullptr;
      T* col_state = nullptr;
      T* full_state = nullptr;
      std::vector<double> row_mean(static_cast<size_t>(batch));
      if (factored) {
        Tensor& row_t = slot(p.index, "exp_avg_sq_row", slot_shape(p.param, "exp_avg_sq_row"), p.param.dtype());
        Tensor& col_t = slot(p.index, "exp_avg_sq_col", slot_shape(p.param, "exp_avg_sq_col"), p.param.dtype());
        row_state = row_t.data_ptr<T>();
        col_state = col_t.data_ptr<T>();
        parallel_for(batch, 1, [&](int64_t begin, int64_t end) {
          std::vector<double> col_sum(static_cast<size_t>(cols));
          for (int64_t b = begin; b < end; ++b) {
            std::fill(col_sum.begin(), col_sum.end(), 0.0);
            double mean_of_rows = 0.0;
            for (int64_t r = 0; r < rows; ++r) {
              const T* gr = g + (b * rows + r) * cols;
              double row_sum = 0.0;
              for (int64_t c = 0; c < cols; ++c) {
                const double u = static_cast<double>(gr[c]) * static_cast<double>(gr[c]) + eps;
                row_sum += u;
                col_sum[static_cast<size_t>(c)] += u;
              }
              T& s = row_state[b * rows + r];
              s = T(beta2t) * s + T(1.0 - beta2t) * T(row_sum / static_cast<double>(cols));
              mean_of_rows += static_cast<double>(s);
            }
            row_mean[static_cast<size_t>(b)] = mean_of_rows / static_cast<double>(rows);
            for (int64_t c = 0; c < cols; ++c) {
              T& s = col_state[b * cols + c];
              s = T(beta2t) * s + T(1.0 - beta2t) * T(col_sum[static_cast<size_t>(c)] / static_cast<double>(rows));
            }
          }
        });
      } else {
        T* v = full_state = slot(p.index, "exp_avg_sq", p.param).template data_ptr<T>();
        elementwise(n, [=](int64_t i) { v[i] = T(beta2t) * v[i] + T(1.0 - beta2t) * (g[i] * g[i] + T(eps)); });
      }
      const double* means = row_mean.data();
      const auto update = [=](int64_t i) -> T {
        if (!factored) return g[i] / std::sqrt(full_state[i]);
        const int64_t c = i % cols, r = (i / cols) % rows, b = i / (rows * cols);
        const T r_factor = T(1) / std::sqrt(row_state[b * rows + r] / T(means[b]));
        const T c_factor = T(1) / std::sqrt(col_state[b * cols + c]);
        return r_factor * c_factor * g[i];
      };
      // pass 2: RMS of the update
      const double u_sq = chunked_sums<1>(n, [=](int64_t i, std::array<double, 1>& s) {
        const double u = static_cast<double>(update(i));
        s[0] += u * u;
      })[0];
      const double clip = std::max(1.0, std::sqrt(u_sq / static_cast<double>(n)) / p.group.get("clip_threshold"));
      const double scale = lr / clip, shrink = 1.0 - wd * lr;
      T* m = beta1 > 0.0 ? slot(p.index, "exp_avg", p.param).template data_ptr<T>() : nullptr;
      // pass 3
      elementwise(n, [=](int64_t i) {
        T u = update(i) * T(scale);
        if (m) u = m[i] = T(beta1) * m[i] + T(1.0 - beta1) * u;
        w[i] = w[i] * T(shrink) - u;
      });
    });
  });
}

}  // namespace ember::optim
