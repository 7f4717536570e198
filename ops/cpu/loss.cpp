// CPU kernels for the losses. Twin: ops/loss.cpp (API, reductions, backward).
#include "ops/cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/dispatch.h"
#include "engine/parallel.h"
#include "ops/cpu/loops.h"
#include "ops/cpu/math.h"

namespace ember::cpu {

using math::fast_exp;
using math::kReductionLanes;
using math::row_dot;
using math::row_max;
using math::row_sum;

void nll_gather(const Tensor& out, const Tensor& x, const Tensor& target, const Tensor& weight, int64_t ignore_index) {
  const int64_t N = x.size(0), S = x.size(2);
  const int64_t sn = x.stride(0), sc = x.stride(1), ss = x.stride(2);
  const int64_t* t = target.data_ptr<int64_t>();
  dispatch_floating(x.dtype(), "nll_loss", [&]<class T>() {
    const T* xp = x.data_ptr<T>();
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
    T* o = out.data_ptr<T>();
    parallel_for(N * S, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t n = i / S, s = i % S, c = t[i];
        if (c == ignore_index) {
          o[i] = T(0);
          continue;
        }
        o[i] = -(w ? w[c] : T(1)) * xp[n * sn + c * sc + s * ss];
      }
    });
  });
}

void nll_scatter(const Tensor& grad_x, const Tensor& grad, const Tensor& target, const Tensor& weight,
                 int64_t ignore_index) {
  const int64_t C = grad_x.size(1), S = grad_x.size(2);
  const int64_t total = grad.size(0) * S;
  const int64_t gn = grad.stride(0), gs = grad.stride(1);
  const int64_t* t = target.data_ptr<int64_t>();
  dispatch_floating(grad_x.dtype(), "nll_loss_backward", [&]<class T>() {
    const T* g = grad.data_ptr<T>();
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
    T* gx = grad_x.data_ptr<T>();
    // Each (n, s) writes its own element: no two iterations touch the same address.
    parallel_for(total, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t n = i / S, s = i % S, c = t[i];
        if (c == ignore_index) continue;
        gx[(n * C + c) * S + s] = -(w ? w[c] : T(1)) * g[n * gn + s * gs];
      }
    });
  });
}

double nll_total_weight(const Tensor& target, const Tensor& weight, int64_t ignore_index) {
  const int64_t* t = target.data_ptr<int64_t>();
  return dispatch_floating(weight.defined() ? weight.dtype() : DType::f64, "nll_loss", [&]<class T>() {
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
    double total = 0;
    for (int64_t i = 0; i < target.numel(); ++i)
      if (t[i] != ignore_index) total += w ? static_cast<double>(w[t[i]]) : 1.0;
    return total;
  });
}

void cross_entropy_fwd(const Tensor& out, const Tensor& lse, const Tensor& logits, const Tensor& target,
                       const Tensor& weight, int64_t ignore_index) {
  const int64_t N = logits.size(0), C = logits.size(1);
  const int64_t* t = target.data_ptr<int64_t>();
  dispatch_floating(logits.dtype(), "cross_entropy", [&]<class T>() {
    const T* x = logits.data_ptr<T>();
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
    T* o = out.data_ptr<T>();
    T* l = lse.data_ptr<T>();
    // logits: (N, C) -> out, lse: (N). No (N, C) temporary: exp is summed on the fly.
    parallel_for(N, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, C)), [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const T* row = x + n * C;
        const T max_value = row_max(row, C);
        T lanes[kReductionLanes] = {};
        int64_t c = 0;
        for (; c + kReductionLanes <= C; c += kReductionLanes)
          for (int k = 0; k < kReductionLanes; ++k) lanes[k] += fast_exp(row[c + k] - max_value);
        T total = 0;
        for (int k = 0; k < kReductionLanes; ++k) total += lanes[k];
        for (; c < C; ++c) total += fast_exp(row[c] - max_value);
        l[n] = max_value + std::log(total);
        const int64_t target_class = t[n];
        o[n] = target_class == ignore_index
                   ? T(0)
                   : (w ? w[target_class] : T(1)) * ((max_value - row[target_class]) + std::log(total));
      }
    });
  });
}

void cross_entropy_bwd(const Tensor& grad_logits, const Tensor& grad, const Tensor& logits, const Tensor& lse,
                       const Tensor& target, const Tensor& weight, int64_t ignore_index) {
  const int64_t N = logits.size(0), C = logits.size(1);
  const int64_t* t = target.data_ptr<int64_t>();
  const int64_t grad_stride = grad.dim() == 0 ? 0 : grad.stride(0);
  dispatch_floating(logits.dtype(), "cross_entropy_backward", [&]<class T>() {
    const T* x = logits.data_ptr<T>();
    const T* l = lse.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
    T* gx = grad_logits.data_ptr<T>();
    parallel_for(N, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, C)), [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        T* out = gx + n * C;
        const int64_t target_class = t[n];
        if (target_class == ignore_index) {
          std::fill(out, out + C, T(0));
          continue;
        }
        const T scale = g[n * grad_stride] * (w ? w[target_class] : T(1));
        const T* row = x + n * C;
        const T row_lse = l[n];
        for (int64_t c = 0; c < C; ++c) out[c] = scale * fast_exp(row[c] - row_lse);
        out[target_class] -= scale;
      }
    });
  });
}

void pointwise_loss(const Tensor& out, const Tensor& input, const Tensor& target, PointwiseLoss kind, double param) {
  dispatch_floating(out.dtype(), "loss", [&]<class T>() {
    const T p = static_cast<T>(param);
    auto run = [&](auto f) { binary_kernel<T>(out, input, target, f); };
    switch (kind) {
      case PointwiseLoss::mse: run([](T x, T t) { return (x - t) * (x - t); }); break;
      case PointwiseLoss::l1: run([](T x, T t) { return std::abs(x - t); }); break;
      case PointwiseLoss::smooth_l1:
        run([p](T x, T t) {
          const T z = std::abs(x - t);
          return z < p ? T(0.5) * z * z / p : z - T(0.5) * p;
        });
        break;
      case PointwiseLoss::huber:
        run([p](T x, T t) {
          const T z = std::abs(x - t);
          return z < p ? T(0.5) * z * z : p * (z - T(0.5) * p);
        });
        break;
      case PointwiseLoss::bce:
        run([](T x, T t) {
          const T log_p = std::max(std::log(x), T(-100));
          const T log_1mp = std::max(std::log1p(-x), T(-100));
          return -(t * log_p + (T(1) - t) * log_1mp);
        });
        break;
      case PointwiseLoss::kl_div: run([](T x, T t) { return (t == T(0) ? T(0) : t * std::log(t)) - t * x; }); break;
      case PointwiseLoss::kl_div_log_target: run([](T x, T t) { return std::exp(t) * (t - x); }); break;
    }
  });
}

void bce_with_logits(const Tensor& out, const Tensor& logits, const Tensor& target, const Tensor& pos_weight) {
  dispatch_floating(out.dtype(), "binary_cross_entropy_with_logits", [&]<class T>() {
    ternary_kernel<T>(out, logits, target, pos_weight, [](T x, T t, T pw) {
      const T softplus_neg_x = std::log1p(std::exp(-std::abs(x))) + std::max(-x, T(0));  // log(1 + e^-x)
      return (T(1) - t) * x + (T(1) + (pw - T(1)) * t) * softplus_neg_x;
    });
  });
}

void clamped_log(const Tensor& out, const Tensor& x) {
  dispatch_floating(out.dtype(), "loss_log", [&]<class T>() {
    unary_kernel<T>(out, x, [](T v) { return std::max(std::log(v), T(-100)); });
  });
}

bool all_in_unit_interval(const Tensor& x) {
  return dispatch_floating(x.dtype(), "binary_cross_entropy", [&]<class T>() {
    const Tensor c = x.contiguous();
    const T* p = c.data_ptr<T>();
    bool ok = true;
    for (int64_t i = 0; i < c.numel(); ++i) ok &= p[i] >= T(0) && p[i] <= T(1);
    return ok;
  });
}

}  // namespace ember::cpu
