// Gradient clipping (optim/clip.h). One pass to measure (accumulated in double, per thread chunk),
// one pass to scale, on raw pointers.
#include "optim/clip.h"

#include <cmath>
#include <limits>

#include "autograd/grad_mode.h"
#include "engine/dispatch.h"
#include "engine/error.h"
#include "engine/parallel.h"
#include "ops/ops.h"
#include "optim/optimizer.h"

namespace ember::optim {
namespace {

// Sum of |g|^p (or max |g| when p is infinite) over one contiguous gradient, in a fixed order
// (the same bits whatever the thread count).
double grad_power_sum(const Tensor& grad, double p) {
  const bool inf = std::isinf(p);
  if (grad.device().is_cuda()) {  // through the ops' CUDA kernels, summed in float64 on the device
    const Tensor a = abs(grad.to(DType::f64));
    return inf ? max(a).item<double>() : sum(p == 2.0 ? mul(a, a) : p == 1.0 ? a : pow(a, p)).item<double>();
  }
  return dispatch_floating(grad.dtype(), "clip_grad_norm_", [&]<class T>() {
    const T* g = grad.data_ptr<T>();
    if (inf) {
      double most = 0.0;
      for (int64_t i = 0; i < grad.numel(); ++i) {
        const double a = std::fabs(static_cast<double>(g[i]));
        if (a > most || std::isnan(a)) most = a;
      }
      return most;
    }
    return optim::chunked_sums<1>(grad.numel(), [=](int64_t i, std::array<double, 1>& sum) {
      const double a = std::fabs(static_cast<double>(g[i]));
      sum[0] += p == 2.0 ? a * a : p == 1.0 ? a : std::pow(a, p);
    })[0];
  });
}

template <class F> void for_each_grad(const std::vector<Tensor>& params, const char* op, F&& fn) {
  for (size_t i = 0; i < params.size(); ++i) {
    EMBER_CHECK(params[i].defined(), "{}: parameter {} is an undefined tensor", op, i);
    const Tensor& grad = params[i].grad();
    if (!grad.defined()) continue;
    EMBER_CHECK(grad.dtype() == DType::f32 || grad.dtype() == DType::f64,
                "{}: the gradient of parameter {} is {}; expected float32 or float64", op, i, grad.describe());
    EMBER_CHECK(grad.is_contiguous(), "{}: the gradient of parameter {} ({}) is not contiguous", op, i,
                grad.describe());
    fn(grad);
  }
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type, bool error_if_nonfinite) {
  EMBER_CHECK(max_norm >= 0.0 && !std::isnan(max_norm), "clip_grad_norm_: max_norm must be >= 0, got {}", max_norm);
  EMBER_CHECK(norm_type > 0.0, "clip_grad_norm_: norm_type must be > 0 (or infinity), got {}", norm_type);
  NoGradGuard no_grad;
  const bool inf = std::isinf(norm_type);
  double accumulated = 0.0;
  for_each_grad(params, "clip_grad_norm_", [&](const Tensor& grad) {
    const double part = grad_power_sum(grad, norm_type);
    accumulated = inf ? ((part > accumulated || std::isnan(part)) ? part : accumulated) : accumulated + part;
  });
  const double total = inf ? accumulated : norm_type == 2.0 ? std::sqrt(accumulated)
                                                            : std::pow(accumulated, 1.0 / norm_type);
  EMBER_CHECK(!error_if_nonfinite || std::isfinite(total),
              "clip_grad_norm_: the total norm of order {} of the gradients is {}, so they cannot be clipped; "
              "set error_if_nonfinite=false to scale them anyway", norm_type, total);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0 || std::isnan(coef)) {
    for_each_grad(params, "clip_grad_norm_", [&](const Tensor& grad) {
      if (grad.device().is_cuda()) {
        Tensor(grad).mul_(coef);
        return;
      }
      dispatch_floating(grad.dtype(), "clip_grad_norm_", [&]<class T>() {
        T* g = grad.data_ptr<T>();
        const T scale = static_cast<T>(coef);
        parallel_for(grad.numel(), kParallelGrain, [=](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) g[i] *= scale;
        });
      });
      grad.bump_version();
    });
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  EMBER_CHECK(clip_value >= 0.0 && !std::isnan(clip_value), "clip_grad_value_: clip_value must be >= 0, got {}",
              clip_value);
  NoGradGuard no_grad;
  for_each_grad(params, "clip_grad_value_", [&](const Tensor& grad) {
    if (grad.device().is_cuda()) {
      Tensor(grad).clamp_(-clip_value, clip_value);
      return;
    }
    dispatch_floating(grad.dtype(), "clip_grad_value_", [&]<class T>() {
      T* g = grad.data_ptr<T>();
      const T hi = static_cast<T>(clip_value), lo = -hi;
      parallel_for(grad.numel(), kParallelGrain, [=](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) g[i] = g[i] < lo ? lo : (g[i] > hi ? hi : g[i]);  // NaN stays NaN
      });
    });
    grad.bump_version();
  });
}

}  // namespace ember::optim
