// cuda/damped_ema.cu in the host emulator (run.sh): the EMA kernel's Vandermonde sums and their
// backward (one block per (d, n), threads striding over j > 256, two block sums sharing a scratch),
// including decay 0 (0^0 = 1); against ops/damped_ema.cpp's repeated-multiplication loops in double.
#include "emu.h"
#include "damped_ema_emu.inc"

using namespace ember::cuda;

double rnd() { return (rand() / (double)RAND_MAX) * 2 - 1; }

template <class T> void run(int64_t D, int64_t N, int64_t L) {
  srand(static_cast<unsigned>(D * 100 + N * 10 + L));
  std::vector<T> w(D * N), q(D * N), g(D * L), out(D * L, T(-9)), gw(D * N, T(-9)), gq(D * N, T(-9));
  for (auto& v : w) v = T(rnd());
  for (auto& v : q) v = T(0.5 + 0.49 * rnd());
  q[0] = T(0);
  for (auto& v : g) v = T(rnd());
  const ScalarType type = std::is_same_v<T, float> ? ScalarType::f32 : ScalarType::f64;
  ema_vandermonde_forward(type, D, N, L, w.data(), q.data(), out.data(), Stream{});
  ema_vandermonde_backward(type, D, N, L, w.data(), q.data(), g.data(), gw.data(), gq.data(), Stream{});
  std::vector<double> rout(D * L, 0), rgw(D * N, 0), rgq(D * N, 0);
  for (int64_t d = 0; d < D; ++d)
    for (int64_t n = 0; n < N; ++n) {
      const double qv = double(q[d * N + n]), wv = double(w[d * N + n]);
      double p = 1, p_prev = 0;  // q^j, q^(j-1)
      for (int64_t j = 0; j < L; ++j) {
        rout[d * L + j] += wv * p;
        rgw[d * N + n] += double(g[d * L + j]) * p;
        if (j > 0) rgq[d * N + n] += wv * double(g[d * L + j]) * j * p_prev;
        p_prev = p;
        p *= qv;
      }
    }
  auto dbl = [](const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); };
  double e[3];
  const double tol = emu::tolerance<T>() * 10;
  const bool ok = emu::close(dbl(out), rout, tol, 1e-3, &e[0]) && emu::close(dbl(gw), rgw, tol, 1e-3, &e[1]) &&
                  emu::close(dbl(gq), rgq, tol, 1e-3, &e[2]);
  char line[200];
  std::snprintf(line, sizeof line, "damped_ema vandermonde %s D=%ld N=%ld L=%ld: out %.1e grad_weight %.1e grad_decay %.1e",
                emu::type_name<T>(), D, N, L, e[0], e[1], e[2]);
  emu::check(ok, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (auto [D, N, L] : {std::tuple{3L, 5L, 300L}, {2L, 2L, 7L}, {1L, 1L, 1L}, {5L, 3L, 33L}}) {
    run<float>(D, N, L);
    run<double>(D, N, L);
  }
  return emu::finish("emu_damped_ema");
}
