// CPU kernels for interpolate: tap tables per axis, then one gather (forward) or scatter
// (adjoint) loop shared by every mode. Twin: ops/interpolate.cpp.
#include "ops/cpu/interpolate.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace ember::cpu {

namespace {

using Taps = InterpTaps;

// PyTorch's area_pixel_compute_scale: input step per output step.
double source_scale(const InterpAxis& a, bool align_corners) {
  if (align_corners) return a.out > 1 ? static_cast<double>(a.in - 1) / static_cast<double>(a.out - 1) : 0.0;
  return a.scale_factor > 0.0 ? 1.0 / a.scale_factor : static_cast<double>(a.in) / static_cast<double>(a.out);
}

// Keys' cubic convolution kernel with A = -0.75 (as PyTorch and OpenCV); t in [0, 1).
void cubic_weights(double t, double w[4]) {
  constexpr double A = -0.75;
  auto near = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };          // |x| <= 1
  auto far = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };     // 1 < |x| < 2
  w[0] = far(t + 1);
  w[1] = near(t);
  w[2] = near(1 - t);
  w[3] = far(2 - t);
}

}  // namespace

InterpTaps make_taps(InterpMode mode, bool align_corners, const InterpAxis& a) {
  Taps taps;
  if (a.in == 1 && a.out == 1) {  // the unused H axis of 1-D inputs, or a trivial axis
    taps.index = {0};
    taps.weight = {1.0};
    return taps;
  }
  taps.count = mode == InterpMode::nearest ? 1 : (mode == InterpMode::linear ? 2 : 4);
  taps.index.resize(a.out * taps.count);
  taps.weight.resize(a.out * taps.count);
  const double scale = source_scale(a, align_corners);
  for (int64_t o = 0; o < a.out; ++o) {
    int64_t* idx = &taps.index[o * taps.count];
    double* wt = &taps.weight[o * taps.count];
    switch (mode) {
      case InterpMode::nearest: {
        // PyTorch computes this index in float32; doing the same keeps the floors identical.
        const float s = a.scale_factor > 0.0 ? static_cast<float>(1.0 / a.scale_factor)
                                             : static_cast<float>(a.in) / static_cast<float>(a.out);
        idx[0] = std::min(static_cast<int64_t>(std::floor(static_cast<float>(o) * s)), a.in - 1);
        wt[0] = 1.0;
        break;
      }
      case InterpMode::linear: {
        double src = align_corners ? scale * o : scale * (o + 0.5) - 0.5;
        if (src < 0) src = 0;
        const int64_t i0 = std::min(static_cast<int64_t>(src), a.in - 1);
        idx[0] = i0;
        idx[1] = i0 + (i0 < a.in - 1 ? 1 : 0);
        wt[1] = src - static_cast<double>(i0);
        wt[0] = 1.0 - wt[1];
        break;
      }
      case InterpMode::cubic: {
        const double src = align_corners ? scale * o : scale * (o + 0.5) - 0.5;
        const double floor_src = std::floor(src);
        cubic_weights(src - floor_src, wt);
        for (int64_t k = 0; k < 4; ++k) idx[k] = std::clamp(static_cast<int64_t>(floor_src) - 1 + k, int64_t{0}, a.in - 1);
        break;
      }
    }
  }
  return taps;
}

namespace {

// Which input rows any output row reads (downsampling skips the rest).
std::vector<char> rows_used(const Taps& taps, int64_t in) {
  std::vector<char> used(in, 0);
  for (int64_t i : taps.index) used[i] = 1;
  return used;
}

}  // namespace

// Both directions run separably per (P) plane: a horizontal pass through a (H, OW) buffer and
// a vertical pass whose inner loop runs over a whole output row (unit stride, vectorised).
// Planes are the parallel work items, so the adjoint's overlapping scatters never race and
// always sum in the same order.
void interpolate_fwd(const Tensor& out, const Tensor& x, const InterpPlan& plan) {
  const Taps th = make_taps(plan.mode, plan.align_corners, plan.h);
  const Taps tw = make_taps(plan.mode, plan.align_corners, plan.w);
  const int64_t P = x.size(0), H = plan.h.in, W = plan.w.in, OH = plan.h.out, OW = plan.w.out;
  dispatch_floating(x.dtype(), "interpolate", [&]<class T>() {
    const T* in = x.data_ptr<T>();
    T* o = out.data_ptr<T>();
    const std::vector<T> wh(th.weight.begin(), th.weight.end()), ww(tw.weight.begin(), tw.weight.end());
    const std::vector<char> used = rows_used(th, H);
    // x: (P, H, W) -> rows: (H, OW) -> out: (P, OH, OW)
    parallel_for(P, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, (H + OH) * OW * 2)),
                 [&](int64_t begin, int64_t end) {
      std::vector<T> rows(H * OW);
      for (int64_t p = begin; p < end; ++p) {
        const T* plane = in + p * H * W;
        for (int64_t h = 0; h < H; ++h) {
          if (!used[h]) continue;
          const T* src = plane + h * W;
          T* dst = rows.data() + h * OW;
          for (int64_t ow = 0; ow < OW; ++ow) {
            T acc = 0;
            for (int64_t j = 0; j < tw.count; ++j) acc += ww[ow * tw.count + j] * src[tw.index[ow * tw.count + j]];
            dst[ow] = acc;
          }
        }
        for (int64_t oh = 0; oh < OH; ++oh) {
          T* dst = o + (p * OH + oh) * OW;
          const T* first = rows.data() + th.index[oh * th.count] * OW;
          const T w0 = wh[oh * th.count];
          for (int64_t ow = 0; ow < OW; ++ow) dst[ow] = w0 * first[ow];
          for (int64_t i = 1; i < th.count; ++i) {
            const T* src = rows.data() + th.index[oh * th.count + i] * OW;
            const T wi = wh[oh * th.count + i];
            for (int64_t ow = 0; ow < OW; ++ow) dst[ow] += wi * src[ow];
          }
        }
      }
    });
  });
}

void interpolate_adjoint(const Tensor& grad_in, const Tensor& grad, const InterpPlan& plan) {
  const Taps th = make_taps(plan.mode, plan.align_corners, plan.h);
  const Taps tw = make_taps(plan.mode, plan.align_corners, plan.w);
  const int64_t P = grad.size(0), H = plan.h.in, W = plan.w.in, OH = plan.h.out, OW = plan.w.out;
  dispatch_floating(grad.dtype(), "interpolate_backward", [&]<class T>() {
    const T* g = grad.data_ptr<T>();
    T* gi = grad_in.data_ptr<T>();
    const std::vector<T> wh(th.weight.begin(), th.weight.end()), ww(tw.weight.begin(), tw.weight.end());
    const std::vector<char> used = rows_used(th, H);
    // grad: (P, OH, OW) -> rows: (H, OW) (vertical adjoint) -> grad_in: (P, H, W) (horizontal adjoint)
    parallel_for(P, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, (H + OH) * OW * 2)),
                 [&](int64_t begin, int64_t end) {
      std::vector<T> rows(H * OW);
      for (int64_t p = begin; p < end; ++p) {
        std::fill(rows.begin(), rows.end(), T(0));
        for (int64_t oh = 0; oh < OH; ++oh) {
          const T* src = g + (p * OH + oh) * OW;
          for (int64_t i = 0; i < th.count; ++i) {
            T* dst = rows.data() + th.index[oh * th.count + i] * OW;
            const T wi = wh[oh * th.count + i];
            for (int64_t ow = 0; ow < OW; ++ow) dst[ow] += wi * src[ow];
          }
        }
        T* plane = gi + p * H * W;
        for (int64_t h = 0; h < H; ++h) {
          if (!used[h]) continue;  // no output row reads it: its gradient stays zero
          const T* src = rows.data() + h * OW;
          T* dst = plane + h * W;
          for (int64_t ow = 0; ow < OW; ++ow)
            for (int64_t j = 0; j < tw.count; ++j) dst[tw.index[ow * tw.count + j]] += ww[ow * tw.count + j] * src[ow];
        }
      }
    });
  });
}

}  // namespace ember::cpu
