// CPU normalization kernels: fused forward and first-order backward for the row norms
// (layer_norm, rms_norm, group_norm; Note [Row normalization layout] in ops/cpu/norm.h) and for
// batch_norm. Twins: ops/norm.cpp (API, checks, autograd), ops/cpu/norm.h.
//
// Row norms run parallel over rows; each row is read from memory once and then re-read from L1
// (statistics, then normalise). Their weight/bias gradients are column sums over rows: each
// thread owns a fixed block of rows, adds rows into float partials that it flushes into double
// every 16 rows, and the block totals are added in block order, so the result does not depend
// on scheduling. Batch norm runs parallel over channels for its statistics and backward sums
// (over column ranges for (N, C) input) and over (n, c) rows (or n) for its elementwise maps.
#include "ops/cpu/norm.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace ember::cpu {

namespace {
// The data of an optional per-channel parameter, or `value` repeated when it is absent, so the
// inner loops never branch on it.
template <class T>
const T* param_or(const Tensor& t, std::vector<T>& fallback, int64_t n, T value) {
  if (t.defined()) return t.data_ptr<T>();
  fallback.assign(static_cast<size_t>(n), value);
  return fallback.data();
}

// Note [Careful sums]: sum of term(i) over [0, n) with kLanes independent accumulators of type T
// (four 512-bit registers, so the adds vectorise and never wait on one another), restarted every
// kBlock elements and added up in double. No float accumulator ever takes more than
// kBlock / kLanes = 16 terms, so float32 rows of any length sum with double-like accuracy at
// float speed. `term` returns the (already centred) value to add.
template <class T, class Term>
inline double careful_sum(int64_t n, Term term) {
  constexpr int64_t kLanes = 4 * 64 / static_cast<int64_t>(sizeof(T));
  constexpr int64_t kBlock = 16 * kLanes;
  double total = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t end = std::min(n, start + kBlock);
    T acc[kLanes] = {};
    int64_t i = start;
    for (; i + kLanes <= end; i += kLanes)
      for (int64_t l = 0; l < kLanes; ++l) acc[l] += term(i + l);
    double block = 0;
    for (; i < end; ++i) block += static_cast<double>(term(i));
    for (int64_t l = 0; l < kLanes; ++l) block += static_cast<double>(acc[l]);
    total += block;
  }
  return total;
}

// Two careful sums in one sweep: term(i, a, b) adds its two values to a and b.
template <class T, class Term>
inline std::pair<double, double> careful_sum2(int64_t n, Term term) {
  constexpr int64_t kLanes = 2 * 64 / static_cast<int64_t>(sizeof(T));
  constexpr int64_t kBlock = 16 * kLanes;
  double total_a = 0, total_b = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t end = std::min(n, start + kBlock);
    T acc_a[kLanes] = {}, acc_b[kLanes] = {};
    int64_t i = start;
    for (; i + kLanes <= end; i += kLanes)
      for (int64_t l = 0; l < kLanes; ++l) term(i + l, acc_a[l], acc_b[l]);
    T tail_a = 0, tail_b = 0;
    for (; i < end; ++i) term(i, tail_a, tail_b);
    double block_a = tail_a, block_b = tail_b;
    for (int64_t l = 0; l < kLanes; ++l) {
      block_a += static_cast<double>(acc_a[l]);
      block_b += static_cast<double>(acc_b[l]);
    }
    total_a += block_a;
    total_b += block_b;
  }
  return {total_a, total_b};
}

template <class T>
double sum_of(const T* x, int64_t n) {
  return careful_sum<T>(n, [x](int64_t i) { return x[i]; });
}

// sum((x - mean)^2); the deviation is taken before squaring (two-pass), so no cancellation.
template <class T>
double squared_deviation_sum(const T* x, int64_t n, T mean) {
  return careful_sum<T>(n, [x, mean](int64_t i) {
    const T d = x[i] - mean;
    return d * d;
  });
}

int64_t row_grain(int64_t row_numel) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, row_numel)); }

// Number of fixed row blocks for a reduction over rows: one per thread when the work is large.
int64_t block_count(int64_t rows, int64_t total_work) {
  if (total_work < 2 * kParallelGrain) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(num_threads(), rows));
}

// ---------------------------------------------------------------- row norm backward, one row
// g, x, dx: one row of K*S elements; w: the row's K affine weights; dw_acc/db_acc: its K
// gradient accumulators (null when not wanted; flushed into double every few rows by the
// caller, Note [Careful sums]). kBroadcast: g[0] stands for every element.
template <class T, bool kBroadcast>
void row_backward(const T* g, const T* x, T* dx, const T* w, T* dw_acc, T* db_acc, int64_t K, int64_t S,
                  T mean, T rstd, bool center) {
  const int64_t n = K * S;
  double sum_gw = 0, sum_gwx = 0;  // sum(g w), sum(g w x̂)
  if (S == 1) {
    std::tie(sum_gw, sum_gwx) = careful_sum2<T>(K, [&](int64_t i, T& a, T& b) {
      const T gw = (kBroadcast ? g[0] : g[i]) * w[i];
      a += gw;
      b += gw * ((x[i] - mean) * rstd);
    });
  } else {
    for (int64_t k = 0; k < K; ++k) {
      const T* gk = kBroadcast ? g : g + k * S;
      const T* xk = x + k * S;
      const auto [sum_g, sum_gx] = careful_sum2<T>(S, [&](int64_t i, T& a, T& b) {
        const T gi = kBroadcast ? gk[0] : gk[i];
        a += gi;
        b += gi * ((xk[i] - mean) * rstd);
      });
      sum_gw += sum_g * w[k];
      sum_gwx += sum_gx * w[k];
      if (dw_acc) {
        dw_acc[k] += static_cast<T>(sum_gx);
        db_acc[k] += static_cast<T>(sum_g);
      }
    }
  }
  const T mean_gw = center ? static_cast<T>(sum_gw / n) : T(0);
  const T mean_gwx = static_cast<T>(sum_gwx / n);
  if (S == 1) {
    // One elementwise sweep: the input gradient and this row's share of the weight gradients.
    if (dx && dw_acc) {
#pragma omp simd
      for (int64_t i = 0; i < K; ++i) {
        const T gi = kBroadcast ? g[0] : g[i];
        const T xh = (x[i] - mean) * rstd;
        dx[i] = rstd * (gi * w[i] - mean_gw - xh * mean_gwx);
        dw_acc[i] += gi * xh;
        db_acc[i] += gi;
      }
    } else if (dx) {
#pragma omp simd
      for (int64_t i = 0; i < K; ++i) {
        const T gi = kBroadcast ? g[0] : g[i];
        dx[i] = rstd * (gi * w[i] - mean_gw - (x[i] - mean) * rstd * mean_gwx);
      }
    } else if (dw_acc) {
#pragma omp simd
      for (int64_t i = 0; i < K; ++i) {
        const T gi = kBroadcast ? g[0] : g[i];
        dw_acc[i] += gi * ((x[i] - mean) * rstd);
        db_acc[i] += gi;
      }
    }
    return;
  }
  if (!dx) return;
  for (int64_t k = 0; k < K; ++k) {
    const T* gk = kBroadcast ? g : g + k * S;
    const T* xk = x + k * S;
    T* dxk = dx + k * S;
    const T wk = w[k];
#pragma omp simd
    for (int64_t i = 0; i < S; ++i) {
      const T gi = kBroadcast ? gk[0] : gk[i];
      dxk[i] = rstd * (gi * wk - mean_gw - (xk[i] - mean) * rstd * mean_gwx);
    }
  }
}

// Adds per-block partials [dw(GK), db(GK)] in block order and writes the wanted gradients.
template <class T>
void write_param_grads(const std::vector<double>& partials, int64_t blocks, int64_t GK, const Tensor& grad_weight,
                       const Tensor& grad_bias) {
  T* dw = grad_weight.defined() ? grad_weight.data_ptr<T>() : nullptr;
  T* db = grad_bias.defined() ? grad_bias.data_ptr<T>() : nullptr;
  for (int64_t c = 0; c < GK; ++c) {
    double w_total = 0, b_total = 0;
    for (int64_t j = 0; j < blocks; ++j) {
      w_total += partials[j * 2 * GK + c];
      b_total += partials[j * 2 * GK + GK + c];
    }
    if (dw) dw[c] = static_cast<T>(w_total);
    if (db) db[c] = static_cast<T>(b_total);
  }
}

// ---------------------------------------------------------------- batch norm helpers
// Per-channel coefficients of out = a (x - mean) + p g + q, the one map behind batch norm's
// forward (p = 0) and its input gradient.
template <class T>
struct ChannelMap {
  std::vector<T> a, mean, p, q;
  explicit ChannelMap(int64_t C) : a(C), mean(C), p(C, T(0)), q(C) {}
};

template <class T, bool kHasGrad, bool kBroadcast>
void apply_channel_map(T* out, const T* x, const T* g, const ChannelMap<T>& map, const BatchNormShape& shape) {
  const int64_t C = shape.channels, S = shape.inner;
  if (S == 1) {  // (N, C): vectorise across the channels of each row
    const T *a = map.a.data(), *m = map.mean.data(), *p = map.p.data(), *q = map.q.data();
    parallel_for(shape.batch, row_grain(C), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const T* xr = x + b * C;
        const T* gr = kHasGrad && !kBroadcast ? g + b * C : g;
        T* o = out + b * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) {
          T v = a[c] * (xr[c] - m[c]) + q[c];
          if constexpr (kHasGrad) v += p[c] * (kBroadcast ? gr[0] : gr[c]);
          o[c] = v;
        }
      }
    });
    return;
  }
  parallel_for(shape.batch * C, row_grain(S), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {  // row = (n, c)
      const int64_t c = row % C;
      const T a = map.a[c], m = map.mean[c], p = map.p[c], q = map.q[c];
      const T* xr = x + row * S;
      const T* gr = kHasGrad ? (kBroadcast ? g : g + row * S) : nullptr;
      T* o = out + row * S;
#pragma omp simd
      for (int64_t i = 0; i < S; ++i) {
        T v = a * (xr[i] - m) + q;
        if constexpr (kHasGrad) v += p * (kBroadcast ? gr[0] : gr[i]);
        o[i] = v;
      }
    }
  });
}

// Per-channel totals (a, b) over (N, S) of x: (N, C, S); term(offset, c, a, b) adds the element at
// flat offset (n*C + c)*S + i of channel c. Channels go to threads; with S > 1 each channel walks
// its N contiguous runs (Note [Careful sums]); with S == 1 ((N, C) input) a thread walks its
// column range row by row, so reads stay contiguous, adding into T partials flushed to double.
template <class T, class Term>
void channel_sums2(const BatchNormShape& shape, std::vector<double>& total_a, std::vector<double>& total_b,
                   Term term) {
  const int64_t N = shape.batch, C = shape.channels, S = shape.inner;
  total_a.assign(static_cast<size_t>(C), 0.0);
  total_b.assign(static_cast<size_t>(C), 0.0);
  if (S > 1) {
    parallel_for(C, row_grain(shape.count()), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        for (int64_t b = 0; b < N; ++b) {
          const int64_t row = (b * C + c) * S;
          const auto [a, bb] = careful_sum2<T>(S, [&](int64_t i, T& x, T& y) { term(row + i, c, x, y); });
          total_a[c] += a;
          total_b[c] += bb;
        }
      }
    });
    return;
  }
  parallel_for(C, row_grain(N), [&](int64_t begin, int64_t end) {
    constexpr int64_t kFlushRows = 16;
    const int64_t width = end - begin;
    std::vector<T> part_a(static_cast<size_t>(width), T(0)), part_b(static_cast<size_t>(width), T(0));
    T* pa = part_a.data();
    T* pb = part_b.data();
    for (int64_t b = 0; b < N; ++b) {
#pragma omp simd
      for (int64_t j = 0; j < width; ++j) term(b * C + begin + j, begin + j, pa[j], pb[j]);
      if ((b + 1) % kFlushRows == 0 || b + 1 == N) {
        for (int64_t j = 0; j < width; ++j) {
          total_a[begin + j] += static_cast<double>(pa[j]);
          total_b[begin + j] += static_cast<double>(pb[j]);
          pa[j] = pb[j] = T(0);
        }
      }
    }
  });
}
}  // namespace

// ---------------------------------------------------------------- row norms
void row_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                      const Tensor& bias, const RowNormShape& shape, double eps) {
  // x, y: (R, K, S); mean, rstd: (R); weight, bias: (G*K)
  dispatch_floating(x.dtype(), "norm forward", [&]<class T>() {
    const int64_t K = shape.channels, S = shape.inner, n = shape.row_numel(), G = shape.groups;
    std::vector<T> w_fallback, b_fallback;
    const T* w = param_or(weight, w_fallback, G * K, T(1));
    const T* b = param_or(bias, b_fallback, G * K, T(0));
    const T* xp = x.data_ptr<T>();
    T* yp = y.data_ptr<T>();
    T* mean_p = mean.data_ptr<T>();
    T* rstd_p = rstd.data_ptr<T>();
    parallel_for(shape.rows, row_grain(n), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = xp + r * n;
        T* yr = yp + r * n;
        const T m = shape.center ? static_cast<T>(sum_of(xr, n) / static_cast<double>(n)) : T(0);
        const double var = squared_deviation_sum(xr, n, m) / static_cast<double>(n);
        const T s = static_cast<T>(1.0 / std::sqrt(var + eps));
        mean_p[r] = m;
        rstd_p[r] = s;
        const T* wr = w + (r % G) * K;
        const T* br = b + (r % G) * K;
        if (S == 1) {
#pragma omp simd
          for (int64_t i = 0; i < K; ++i) yr[i] = (xr[i] - m) * s * wr[i] + br[i];
        } else {
          for (int64_t k = 0; k < K; ++k) {
            const T scale = s * wr[k], shift = br[k];
            const T* xk = xr + k * S;
            T* yk = yr + k * S;
#pragma omp simd
            for (int64_t i = 0; i < S; ++i) yk[i] = (xk[i] - m) * scale + shift;
          }
        }
      }
    });
  });
}

void row_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                       const GradInput& grad, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                       const Tensor& weight, const RowNormShape& shape) {
  dispatch_floating(x.dtype(), "norm backward", [&]<class T>() {
    const int64_t R = shape.rows, K = shape.channels, S = shape.inner, n = shape.row_numel(), G = shape.groups;
    const int64_t GK = G * K;
    std::vector<T> w_fallback;
    const T* w = param_or(weight, w_fallback, GK, T(1));
    const T* gp = grad.data.data_ptr<T>();
    const T* xp = x.data_ptr<T>();
    const T* mean_p = mean.data_ptr<T>();
    const T* rstd_p = rstd.data_ptr<T>();
    T* dxp = grad_x.defined() ? grad_x.data_ptr<T>() : nullptr;
    const bool want_params = grad_weight.defined() || grad_bias.defined();
    const int64_t blocks = block_count(R, R * n);
    std::vector<double> partials(want_params ? blocks * 2 * GK : 0, 0.0);
    auto run = [&]<bool kBroadcast>() {
      parallel_for(blocks, 1, [&](int64_t block_begin, int64_t block_end) {
        // Rows add into T partials (vectorised), flushed into the block's double totals every
        // kFlushRows rows, so no float partial sums more than kFlushRows terms.
        constexpr int64_t kFlushRows = 16;
        std::vector<T> row_partials(want_params ? 2 * GK : 0, T(0));
        for (int64_t j = block_begin; j < block_end; ++j) {
          double* totals = want_params ? partials.data() + j * 2 * GK : nullptr;
          const int64_t row_end = (j + 1) * R / blocks;
          for (int64_t r = j * R / blocks; r < row_end; ++r) {
            const int64_t a = (r % G) * K;
            row_backward<T, kBroadcast>(kBroadcast ? gp : gp + r * n, xp + r * n, dxp ? dxp + r * n : nullptr, w + a,
                                        totals ? row_partials.data() + a : nullptr,
                                        totals ? row_partials.data() + GK + a : nullptr, K, S, mean_p[r], rstd_p[r],
                                        shape.center);
            if (totals && ((r + 1) % kFlushRows == 0 || r + 1 == row_end)) {
              for (int64_t c = 0; c < 2 * GK; ++c) {
                totals[c] += static_cast<double>(row_partials[c]);
                row_partials[c] = T(0);
              }
            }
          }
        }
      });
    };
    if (grad.broadcast) run.template operator()<true>();
    else run.template operator()<false>();
    if (want_params) write_param_grads<T>(partials, blocks, GK, grad_weight, grad_bias);
  });
}

// ---------------------------------------------------------------- batch norm
void batch_norm_stats(const Tensor& mean, const Tensor& var, const Tensor& x, const BatchNormShape& shape) {
  // x: (N, C, S) -> mean, var: (C), biased variance (two passes: mean, then squared deviations)
  dispatch_floating(x.dtype(), "batch_norm", [&]<class T>() {
    const int64_t N = shape.batch, C = shape.channels, S = shape.inner;
    const double count = static_cast<double>(shape.count());
    const T* xp = x.data_ptr<T>();
    T* mean_p = mean.data_ptr<T>();
    T* var_p = var.data_ptr<T>();
    if (S == 1) {  // (N, C): column sums
      std::vector<double> sums, unused;
      channel_sums2<T>(shape, sums, unused, [xp](int64_t k, int64_t, T& a, T&) { a += xp[k]; });
      for (int64_t c = 0; c < C; ++c) mean_p[c] = static_cast<T>(sums[c] / count);
      channel_sums2<T>(shape, sums, unused, [xp, mean_p](int64_t k, int64_t c, T& a, T&) {
        const T d = xp[k] - mean_p[c];
        a += d * d;
      });
      for (int64_t c = 0; c < C; ++c) var_p[c] = static_cast<T>(sums[c] / count);
      return;
    }
    // Both passes over one channel while its (N, S) slab is still in cache.
    parallel_for(C, row_grain(shape.count()), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        double total = 0;
        for (int64_t b = 0; b < N; ++b) total += sum_of(xp + (b * C + c) * S, S);
        const T mu = static_cast<T>(total / count);
        double squares = 0;
        for (int64_t b = 0; b < N; ++b) squares += squared_deviation_sum(xp + (b * C + c) * S, S, mu);
        mean_p[c] = mu;
        var_p[c] = static_cast<T>(squares / count);
      }
    });
  });
}

void batch_norm_forward(const Tensor& y, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                        const Tensor& weight, const Tensor& bias, const BatchNormShape& shape) {
  // x, y: (N, C, S); mean, rstd, weight, bias: (C)
  dispatch_floating(x.dtype(), "batch_norm", [&]<class T>() {
    const int64_t C = shape.channels;
    std::vector<T> w_fallback, b_fallback;
    const T* w = param_or(weight, w_fallback, C, T(1));
    const T* b = param_or(bias, b_fallback, C, T(0));
    ChannelMap<T> map(C);
    for (int64_t c = 0; c < C; ++c) {
      map.a[c] = rstd.data_ptr<T>()[c] * w[c];
      map.mean[c] = mean.data_ptr<T>()[c];
      map.q[c] = b[c];
    }
    apply_channel_map<T, false, false>(y.data_ptr<T>(), x.data_ptr<T>(), nullptr, map, shape);
  });
}

void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                         const GradInput& grad, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                         const Tensor& weight, const BatchNormShape& shape, bool training) {
  dispatch_floating(x.dtype(), "batch_norm backward", [&]<class T>() {
    const int64_t C = shape.channels;
    const double count = static_cast<double>(shape.count());
    std::vector<T> w_fallback;
    const T* w = param_or(weight, w_fallback, C, T(1));
    const T* gp = grad.data.data_ptr<T>();
    const T* xp = x.data_ptr<T>();
    const T* mean_p = mean.data_ptr<T>();
    const T* rstd_p = rstd.data_ptr<T>();
    // Per channel: sum(g) and sum(g (x - mean)).
    std::vector<double> sum_g, sum_gx;
    if (grad.broadcast) {
      const T g0 = gp[0];
      channel_sums2<T>(shape, sum_g, sum_gx, [xp, mean_p, g0](int64_t k, int64_t c, T& a, T& b) {
        a += g0;
        b += g0 * (xp[k] - mean_p[c]);
      });
    } else {
      channel_sums2<T>(shape, sum_g, sum_gx, [gp, xp, mean_p](int64_t k, int64_t c, T& a, T& b) {
        a += gp[k];
        b += gp[k] * (xp[k] - mean_p[c]);
      });
    }
    if (grad_weight.defined())
      for (int64_t c = 0; c < C; ++c) grad_weight.data_ptr<T>()[c] = static_cast<T>(sum_gx[c] * rstd_p[c]);
    if (grad_bias.defined())
      for (int64_t c = 0; c < C; ++c) grad_bias.data_ptr<T>()[c] = static_cast<T>(sum_g[c]);
    if (!grad_x.defined()) return;
    // dx = w rstd g + a (x - mean) + q with, in training (x̂ = (x - mean) rstd),
    //   a = -w rstd^2 mean(g x̂),  q = -w rstd mean(g); in eval a = q = 0.
    ChannelMap<T> map(C);
    for (int64_t c = 0; c < C; ++c) {
      const double wr = static_cast<double>(w[c]) * rstd_p[c];
      map.mean[c] = mean_p[c];
      map.p[c] = static_cast<T>(wr);
      map.a[c] = training ? static_cast<T>(-wr * rstd_p[c] * (sum_gx[c] * rstd_p[c]) / count) : T(0);
      map.q[c] = training ? static_cast<T>(-wr * sum_g[c] / count) : T(0);
    }
    T* dx = grad_x.data_ptr<T>();
    if (grad.broadcast) apply_channel_map<T, true, true>(dx, xp, gp, map, shape);
    else apply_channel_map<T, true, false>(dx, xp, gp, map, shape);
  });
}

}  // namespace ember::cpu
