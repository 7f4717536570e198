// The chunked linear-attention kernels in the host emulator against a naive double reference (run.sh).
#include "emu.h"
#include "linear_attention_emu.inc"

using namespace ember::cuda;

struct Case { int64_t BH, L, dk, dv, chunk; bool causal; bool gates; size_t limit; };

int failures = 0;

template <class T>
void run(const Case& c, unsigned seed) {
  srand(seed);
  auto rnd = [] { return (rand() / (double)RAND_MAX) * 2 - 1; };
  const int64_t BH = c.BH, L = c.L, dk = c.dk, dv = c.dv;
  std::vector<T> q(BH * L * dk), k(BH * L * dk), v(BH * L * dv), dO(BH * L * dv), g(BH * L);
  for (auto& x : q) x = rnd() * 0.5;
  for (auto& x : k) x = rnd() * 0.5;
  for (auto& x : v) x = rnd();
  for (auto& x : dO) x = rnd();
  for (auto& x : g) x = std::log(0.6 + 0.4 * (rnd() + 1) / 2);
  LinearAttentionArgs a;
  a.batch_heads = BH; a.L = L; a.dk = dk; a.dv = dv; a.chunk = c.chunk; a.causal = c.causal;
  emu::optin_limit = c.limit * sizeof(T) / 4;
  const ScalarType type = std::is_same_v<T, float> ? ScalarType::f32 : ScalarType::f64;
  std::vector<T> out(BH * L * dv, T(-5)), dq(BH * L * dk, T(-5)), dkk(BH * L * dk, T(-5)), dvv(BH * L * dv, T(-5)), dg(BH * L, T(-5));
  const T* gp = c.gates ? g.data() : nullptr;
  linear_attention_forward(a, type, q.data(), k.data(), v.data(), gp, out.data(), Stream{});
  const size_t fsm = emu::last_smem;
  linear_attention_backward(a, type, q.data(), k.data(), v.data(), gp, dO.data(), dq.data(), dkk.data(), dvv.data(),
                            c.gates ? dg.data() : nullptr, Stream{});
  std::vector<double> r_out(BH * L * dv, 0), r_dq(BH * L * dk, 0), r_dk(BH * L * dk, 0), r_dv(BH * L * dv, 0), r_dg(BH * L, 0);
  for (int64_t bh = 0; bh < BH; ++bh) {
    std::vector<double> cum(L);
    double run = 0;
    for (int64_t t = 0; t < L; ++t) { run += c.gates ? (double)g[bh * L + t] : 0.0; cum[t] = run; }
    for (int64_t t = 0; t < L; ++t) {
      for (int64_t s = 0; s < L; ++s) {
        if (c.causal && s > t) continue;
        const double decay = c.causal ? std::exp(cum[t] - cum[s]) : 1.0;
        double qk = 0;
        for (int64_t x = 0; x < dk; ++x) qk += (double)q[(bh * L + t) * dk + x] * (double)k[(bh * L + s) * dk + x];
        double dov = 0;
        for (int64_t y = 0; y < dv; ++y) dov += (double)dO[(bh * L + t) * dv + y] * (double)v[(bh * L + s) * dv + y];
        const double w = qk * decay, gw = dov * decay;
        for (int64_t y = 0; y < dv; ++y) {
          r_out[(bh * L + t) * dv + y] += w * v[(bh * L + s) * dv + y];
          r_dv[(bh * L + s) * dv + y] += w * dO[(bh * L + t) * dv + y];
        }
        for (int64_t x = 0; x < dk; ++x) {
          r_dq[(bh * L + t) * dk + x] += gw * k[(bh * L + s) * dk + x];
          r_dk[(bh * L + s) * dk + x] += gw * q[(bh * L + t) * dk + x];
        }
      }
    }
    double acc = 0;
    for (int64_t t = L - 1; t >= 0; --t) {
      double dc = 0;
      for (int64_t x = 0; x < dk; ++x) dc += q[(bh * L + t) * dk + x] * r_dq[(bh * L + t) * dk + x] - k[(bh * L + t) * dk + x] * r_dk[(bh * L + t) * dk + x];
      acc += dc;
      r_dg[bh * L + t] = acc;
    }
  }
  auto dbl = [](const auto& x) { return std::vector<double>(x.begin(), x.end()); };
  const double atol = 1e-2;  // floor of the normwise scale: gradients that are 0 in exact arithmetic (L = 1)
  const double eo = max_rel_err(dbl(out), r_out, atol), eq = max_rel_err(dbl(dq), r_dq, atol), ek = max_rel_err(dbl(dkk), r_dk, atol),
               ev = max_rel_err(dbl(dvv), r_dv, atol), eg = c.gates ? max_rel_err(dbl(dg), r_dg, atol) : 0.0;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  const bool ok_case = eo < tol && eq < tol && ek < tol && ev < tol && eg < tol;
  if (!ok_case) ++failures;
  std::printf("%s %s BH=%ld L=%ld dk=%ld dv=%ld chunk=%ld causal=%d gates=%d fwd smem=%zu: out %.1e dq %.1e dk %.1e dv %.1e dg %.1e\n",
              ok_case ? "OK  " : "FAIL", std::is_same_v<T, float> ? "f32" : "f64", BH, L, dk, dv, c.chunk, c.causal, c.gates, fsm, eo, eq, ek, ev, eg);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  const Case cases[] = {
      {2, 1, 8, 8, 16, true, false, 232448},
      {2, 1, 8, 8, 16, true, true, 232448},
      {2, 37, 8, 5, 16, true, false, 232448},
      {2, 37, 8, 5, 16, true, true, 232448},
      {2, 150, 12, 40, 16, true, true, 232448},
      {2, 150, 12, 40, 100, true, true, 232448},
      {2, 150, 12, 40, 7, true, false, 232448},
      {2, 150, 12, 40, 16, false, false, 232448},
      {2, 37, 12, 70, 16, false, false, 232448},
      {1, 130, 60, 64, 64, true, true, 40000},  // forces a smaller chunk
  };
  for (const Case& c : cases) run<double>(c, 3);
  for (const Case& c : cases) run<float>(c, 4);
  std::printf("%d failure(s)\n", failures);
  return failures == 0 && emu::faults == 0 ? 0 : 1;  // faults: emu.h (exited-lane shuffles, device exceptions)
}
