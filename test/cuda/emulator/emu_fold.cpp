// cuda/fold.cu in the host emulator (run.sh): unfold (im2col) and fold (col2im, a per-pixel gather
// over the covering taps in (ki, kj) order) with stride, padding and dilation; exact against a naive
// scatter in the CPU's loop order.
#include "emu.h"
#include "fold_emu.inc"

using namespace ember::cuda;

template <class T> void run(PatchShape g, int64_t N) {
  g.out_h = (g.in_h + 2 * g.pad_h - g.dilation_h * (g.kernel_h - 1) - 1) / g.stride_h + 1;
  g.out_w = (g.in_w + 2 * g.pad_w - g.dilation_w * (g.kernel_w - 1) - 1) / g.stride_w + 1;
  const int64_t C = g.channels, H = g.in_h, W = g.in_w, L = g.out_h * g.out_w, rows = C * g.kernel_h * g.kernel_w;
  std::vector<T> x(N * C * H * W), cols(N * rows * L, T(-9)), back(N * C * H * W, T(-9)), want_cols(N * rows * L), want_back(N * C * H * W, T(0));
  for (size_t i = 0; i < x.size(); ++i) x[i] = T((i * 7) % 13) - T(6);
  const ScalarType type = std::is_same_v<T, float> ? ScalarType::f32 : ScalarType::f64;
  unfold_images(cols.data(), x.data(), type, N, g, Stream{});
  fold_images(back.data(), cols.data(), type, N, g, Stream{});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ki = 0; ki < g.kernel_h; ++ki)
        for (int64_t kj = 0; kj < g.kernel_w; ++kj)
          for (int64_t oh = 0; oh < g.out_h; ++oh)
            for (int64_t ow = 0; ow < g.out_w; ++ow) {
              const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dilation_h, iw = ow * g.stride_w - g.pad_w + kj * g.dilation_w;
              const int64_t r = (c * g.kernel_h + ki) * g.kernel_w + kj, at = (n * rows + r) * L + oh * g.out_w + ow;
              const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
              want_cols[at] = inside ? x[((n * C + c) * H + ih) * W + iw] : T(0);
              if (inside) want_back[((n * C + c) * H + ih) * W + iw] += want_cols[at];
            }
  char line[200];
  std::snprintf(line, sizeof line, "fold/unfold %s N=%ld C=%ld %ldx%ld kernel %ldx%ld stride %ld pad %ld dilation %ld", emu::type_name<T>(), N,
                C, H, W, g.kernel_h, g.kernel_w, g.stride_h, g.pad_h, g.dilation_h);
  emu::check(cols == want_cols && back == want_back, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  PatchShape a;
  a.channels = 3, a.in_h = 7, a.in_w = 9, a.kernel_h = 3, a.kernel_w = 2, a.stride_h = 2, a.stride_w = 1, a.pad_h = 1, a.pad_w = 1;
  PatchShape b = a;
  b.dilation_h = 2, b.dilation_w = 3, b.stride_h = 1, b.pad_h = 2, b.pad_w = 0;
  PatchShape c;
  c.channels = 2, c.in_h = 5, c.in_w = 5, c.kernel_h = 5, c.kernel_w = 5;
  for (const PatchShape& g : {a, b, c}) {
    run<float>(g, 2);
    run<double>(g, 2);
  }
  return emu::finish("emu_fold");
}
