// cuda/short_conv.cu in the host emulator (run.sh): the fused causal depthwise conv1d + bias +
// activation, forward and the three-pass backward (gz, the grad_x gather, the chunked float64
// partial sums for grad_w / grad_bias on a (channel tiles, taps + 1, chunks) grid of 32 x 8
// blocks), with more than one channel tile, more than one row chunk (> 512 rows), sequences shorter
// than the kernel, a broadcast / strided incoming gradient; against double references.
#include "emu.h"
#include "short_conv_emu.inc"

using namespace ember::cuda;

double rnd() { return (rand() / (double)RAND_MAX) * 2 - 1; }
double act(ShortConvAct a, double z) {
  switch (a) {
    case ShortConvAct::silu: return z / (1 + std::exp(-z));
    case ShortConvAct::gelu: return 0.5 * z * (1 + std::erf(z / std::sqrt(2.0)));
    case ShortConvAct::relu: return z > 0 ? z : 0;
    default: return z;
  }
}
double slope(ShortConvAct a, double z) {
  switch (a) {
    case ShortConvAct::silu: { const double s = 1 / (1 + std::exp(-z)); return s * (1 + z * (1 - s)); }
    case ShortConvAct::gelu: return 0.5 * (1 + std::erf(z / std::sqrt(2.0))) + z * std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
    case ShortConvAct::relu: return z > 0 ? 1 : 0;
    default: return 1;
  }
}

template <class T> void run(int64_t B, int64_t L, int64_t D, int64_t K, ShortConvAct a, bool bias, bool broadcast_grad) {
  srand(static_cast<unsigned>(B * 1000 + L * 10 + D + K));
  ShortConvShape s{B, L, D, K, a};
  const int64_t total = B * L * D;
  std::vector<T> x(total), w(D * K), bs(D), g(total), y(total, T(-9)), gz(total, T(-9)), gx(total, T(-9)), gw(D * K, T(-9)), gb(D, T(-9));
  for (auto& v : x) v = T(rnd());
  for (auto& v : w) v = T(rnd());
  for (auto& v : bs) v = T(rnd());
  for (auto& v : g) v = T(rnd());
  // gradient strides: (B, L, D) contiguous, or broadcast over time (stride 0) as from a mean over t
  const int64_t gbs = broadcast_grad ? D : L * D, gts = broadcast_grad ? 0 : D, gds = 1;
  const int64_t chunks = short_conv_reduction_chunks(s);
  std::vector<double> partials(chunks * (K + 1) * D, -9);
  const ScalarType type = std::is_same_v<T, float> ? ScalarType::f32 : ScalarType::f64;
  short_conv_forward(s, type, x.data(), w.data(), bias ? bs.data() : nullptr, y.data(), Stream{});
  short_conv_backward(s, type, x.data(), w.data(), bias ? bs.data() : nullptr, g.data(), gbs, gts, gds, gz.data(), partials.data(),
                      gx.data(), gw.data(), bias ? gb.data() : nullptr, Stream{});
  std::vector<double> ry(total), rgz(total), rgx(total, 0), rgw(D * K, 0), rgb(D, 0);
  auto X = [&](int64_t b, int64_t t, int64_t d) { return double(x[(b * L + t) * D + d]); };
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < L; ++t)
      for (int64_t d = 0; d < D; ++d) {
        double z = bias ? double(bs[d]) : 0.0;
        for (int64_t k = 0; k < K && k <= t; ++k) z += double(w[d * K + k]) * X(b, t - k, d);
        const int64_t i = (b * L + t) * D + d;
        ry[i] = act(a, z);
        rgz[i] = double(g[b * gbs + t * gts + d * gds]) * slope(a, z);
      }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < L; ++t)
      for (int64_t d = 0; d < D; ++d) {
        const int64_t i = (b * L + t) * D + d;
        rgb[d] += rgz[i];
        for (int64_t k = 0; k < K && k <= t; ++k) {
          rgw[d * K + k] += rgz[i] * X(b, t - k, d);
          rgx[(b * L + t - k) * D + d] += double(w[d * K + k]) * rgz[i];
        }
      }
  auto dbl = [](const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); };
  double e[5] = {};
  const double tol = emu::tolerance<T>() * 5;
  bool ok = emu::close(dbl(y), ry, tol, 1e-3, &e[0]) && emu::close(dbl(gz), rgz, tol, 1e-3, &e[1]) &&
            emu::close(dbl(gx), rgx, tol, 1e-3, &e[2]) && emu::close(dbl(gw), rgw, tol, 1e-3, &e[3]);
  if (bias) ok = ok && emu::close(dbl(gb), rgb, tol, 1e-3, &e[4]);
  const char* names[] = {"none", "silu", "gelu", "relu"};
  char line[240];
  std::snprintf(line, sizeof line, "short_conv %s B=%ld L=%ld D=%ld K=%ld %s%s%s (%ld chunk(s)): y %.1e gz %.1e gx %.1e gw %.1e gb %.1e",
                emu::type_name<T>(), B, L, D, K, names[static_cast<int>(a)], bias ? " bias" : "", broadcast_grad ? " broadcast-grad" : "",
                chunks, e[0], e[1], e[2], e[3], e[4]);
  emu::check(ok, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (ShortConvAct a : {ShortConvAct::none, ShortConvAct::silu, ShortConvAct::gelu, ShortConvAct::relu}) {
    run<float>(2, 37, 35, 4, a, true, false);
    run<double>(2, 37, 35, 4, a, a != ShortConvAct::relu, a == ShortConvAct::gelu);
  }
  run<double>(3, 200, 3, 3, ShortConvAct::silu, true, false);  // 600 rows: two chunks
  run<float>(3, 200, 3, 3, ShortConvAct::none, true, true);
  run<double>(2, 2, 5, 4, ShortConvAct::gelu, true, false);    // L < K
  run<float>(1, 1, 1, 1, ShortConvAct::relu, false, false);
  return emu::finish("emu_short_conv");
}
