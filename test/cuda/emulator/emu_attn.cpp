// The fused attention kernels in the host emulator against a naive double reference (run.sh).
#include "emu.h"
#include "attention_emu.inc"

using namespace ember::cuda;

template <class T> double to_double(T x) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) return static_cast<double>(x);
  else return static_cast<double>(static_cast<float>(x));
}

struct Case {
  int64_t BH, L, S, d, dv;
  bool causal;
  int mask;  // 0 none, 1 bool (L,S) broadcast, 2 float (2, 1, L, S) per batch
  double dropout;
  size_t limit;
};

int failures = 0;

template <class T>
void run(const Case& c, unsigned seed) {
  srand(seed);
  auto rnd = [] { return (rand() / (double)RAND_MAX) * 2 - 1; };
  const int64_t BH = c.BH, L = c.L, S = c.S, d = c.d, dv = c.dv;
  std::vector<T> q(BH * L * d), k(BH * S * d), v(BH * S * dv), dO(BH * L * dv);
  for (auto& x : q) x = T(float(rnd() * 2));
  for (auto& x : k) x = T(float(rnd() * 2));
  for (auto& x : v) x = T(float(rnd()));
  for (auto& x : dO) x = T(float(rnd()));
  AttentionArgs a;
  a.batch_heads = BH; a.L = L; a.S = S; a.d = d; a.dv = dv; a.causal = c.causal; a.scale = 0.7;
  std::vector<unsigned char> bmask;
  std::vector<T> fmask;
  // batch dims (2, BH/2): mask (.., L, S)
  if (c.mask == 1) {
    bmask.resize(L * S);
    for (int64_t i = 0; i < L; ++i) for (int64_t j = 0; j < S; ++j) bmask[i * S + j] = (i == 3) ? 0 : (rnd() > -0.4);
    a.mask = bmask.data(); a.mask_is_bool = true;
    a.mask_layout.ndim = 4; int64_t sz[4] = {2, BH / 2, L, S}, st[4] = {0, 0, S, 1};
    for (int i = 0; i < 4; ++i) { a.mask_layout.sizes[i] = sz[i]; a.mask_layout.strides[i] = st[i]; }
  } else if (c.mask == 2) {
    fmask.resize(2 * L * S);
    for (auto& x : fmask) x = T(float(rnd()));
    a.mask = fmask.data();
    a.mask_layout.ndim = 4; int64_t sz[4] = {2, BH / 2, L, S}, st[4] = {L * S, 0, S, 1};
    for (int i = 0; i < 4; ++i) { a.mask_layout.sizes[i] = sz[i]; a.mask_layout.strides[i] = st[i]; }
  }
  a.dropout_p = c.dropout; a.dropout_seed = 1234567; a.dropout_offset = 99;
  emu::optin_limit = c.limit * sizeof(acc_t<T>) / 4;
  using A = acc_t<T>;
  std::vector<T> out(BH * L * dv);
  std::vector<A> lse(BH * L), delta(BH * L);
  std::vector<T> dq(BH * L * d), dk(BH * S * d), dvv(BH * S * dv), dscores(BH * L * S, T(-7.0f));
  const ScalarType type = std::is_same_v<T, float> ? ScalarType::f32 : std::is_same_v<T, double> ? ScalarType::f64 : std::is_same_v<T, __half> ? ScalarType::f16 : ScalarType::bf16;
  attention_forward(a, type, q.data(), k.data(), v.data(), out.data(), lse.data(), Stream{});
  const size_t fwd_smem = emu::last_smem;
  attention_backward(a, type, q.data(), k.data(), v.data(), out.data(), dO.data(), lse.data(), delta.data(), dq.data(),
                     dk.data(), dvv.data(), c.mask == 2 ? dscores.data() : nullptr, Stream{});
  // reference in double
  std::vector<double> r_out(BH * L * dv, 0), r_lse(BH * L), r_dq(BH * L * d, 0), r_dk(BH * S * d, 0),
      r_dv(BH * S * dv, 0), r_ds(BH * L * S, 0);
  for (int64_t bh = 0; bh < BH; ++bh) {
    const int64_t batch0 = bh / (BH / 2);
    for (int64_t i = 0; i < L; ++i) {
      std::vector<double> s(S), p(S), z(S), dp(S);
      double m = -INFINITY;
      for (int64_t j = 0; j < S; ++j) {
        double x = 0;
        for (int64_t t = 0; t < d; ++t) x += to_double(q[(bh * L + i) * d + t]) * to_double(k[(bh * S + j) * d + t]);
        x *= 0.7;
        if (c.causal && j > i) x = -INFINITY;
        if (c.mask == 1 && !bmask[i * S + j]) x = -INFINITY;
        if (c.mask == 2) x += to_double(fmask[batch0 * L * S + i * S + j]);
        s[j] = x; m = std::max(m, x);
      }
      double sum = 0;
      for (int64_t j = 0; j < S; ++j) { p[j] = m == -INFINITY ? 0 : std::exp(s[j] - m); sum += p[j]; }
      for (int64_t j = 0; j < S; ++j) {
        p[j] = sum == 0 ? 0 : p[j] / sum;
        z[j] = c.dropout > 0 ? (double)dropout_factor<double>(a, bh, i, j) : 1.0;
      }
      r_lse[bh * L + i] = sum == 0 ? INFINITY : m + std::log(sum);
      for (int64_t cc = 0; cc < dv; ++cc) {
        double o = 0;
        for (int64_t j = 0; j < S; ++j) o += p[j] * z[j] * to_double(v[(bh * S + j) * dv + cc]);
        r_out[(bh * L + i) * dv + cc] = o;
      }
      double D = 0;
      for (int64_t j = 0; j < S; ++j) {
        double x = 0;
        for (int64_t cc = 0; cc < dv; ++cc) x += to_double(dO[(bh * L + i) * dv + cc]) * to_double(v[(bh * S + j) * dv + cc]);
        dp[j] = x * z[j];
        D += p[j] * dp[j];
      }
      for (int64_t j = 0; j < S; ++j) {
        const double ds = p[j] * (dp[j] - D);
        r_ds[(bh * L + i) * S + j] = ds;
        for (int64_t t = 0; t < d; ++t) {
          r_dq[(bh * L + i) * d + t] += 0.7 * ds * to_double(k[(bh * S + j) * d + t]);
          r_dk[(bh * S + j) * d + t] += 0.7 * ds * to_double(q[(bh * L + i) * d + t]);
        }
        for (int64_t cc = 0; cc < dv; ++cc) r_dv[(bh * S + j) * dv + cc] += p[j] * z[j] * to_double(dO[(bh * L + i) * dv + cc]);
      }
    }
  }
  auto dbl = [](const auto& x) { std::vector<double> r; for (const auto& e : x) r.push_back(to_double(e)); return r; };
  const double atol = 1e-2;  // floor of the normwise scale: gradients that are 0 in exact arithmetic (L = 1)
  std::vector<double> lse_k = dbl(lse), lse_r = r_lse;
  for (size_t i = 0; i < lse_k.size(); ++i) if (std::isinf(lse_r[i]) && std::isinf(lse_k[i]) && lse_k[i] > 0) lse_k[i] = lse_r[i] = 0;
  const double e_out = max_rel_err(dbl(out), r_out, atol), e_lse = max_rel_err(lse_k, lse_r, atol),
               e_dq = max_rel_err(dbl(dq), r_dq, atol), e_dk = max_rel_err(dbl(dk), r_dk, atol),
               e_dv = max_rel_err(dbl(dvv), r_dv, atol),
               e_ds = c.mask == 2 ? max_rel_err(dbl(dscores), r_ds, atol) : 0.0;
  const double tol = std::is_same_v<T, float> ? 2e-4 : std::is_same_v<T, double> ? 1e-11 : 2e-2;

  const bool ok_case = e_out < tol && e_lse < tol && e_dq < tol && e_dk < tol && e_dv < tol && e_ds < tol;
  if (!ok_case) ++failures;
  std::printf("%s %s BH=%ld L=%ld S=%ld d=%ld dv=%ld causal=%d mask=%d p=%.1f smem=%zu: out %.1e lse %.1e dq %.1e dk %.1e dv %.1e ds %.1e\n",
              ok_case ? "OK  " : "FAIL", std::is_same_v<T, float> ? "f32" : std::is_same_v<T, double> ? "f64" : "16b", BH, L, S, d, dv, c.causal, c.mask, c.dropout,
              fwd_smem, e_out, e_lse, e_dq, e_dk, e_dv, e_ds);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  const Case cases[] = {
      {2, 1, 1, 8, 8, false, 0, 0, 232448},
      {2, 37, 37, 8, 5, true, 0, 0, 232448},
      {2, 130, 130, 12, 20, false, 0, 0, 232448},
      {2, 130, 130, 12, 20, true, 0, 0, 232448},
      {2, 70, 33, 8, 8, true, 0, 0, 232448},
      {2, 33, 100, 8, 6, true, 0, 0, 232448},
      {4, 50, 70, 8, 8, false, 1, 0, 232448},
      {4, 50, 70, 8, 8, false, 2, 0, 232448},
      {2, 70, 70, 8, 8, true, 0, 0.3, 232448},
      {2, 70, 90, 8, 8, false, 2, 0.3, 232448},
      {2, 130, 130, 64, 64, true, 0, 0, 232448},  // bf16/f16: the tensor-core forward
      {4, 70, 90, 64, 64, false, 1, 0, 232448},
      {4, 70, 90, 64, 64, false, 2, 0.3, 232448},
      {2, 100, 100, 128, 128, true, 0, 0.3, 232448},
      {2, 1, 1, 128, 128, false, 0, 0, 232448},
      {2, 100, 100, 60, 60, true, 0, 0, 60000},   // forces tile 32/16
      {2, 100, 100, 60, 60, false, 1, 0, 30000},
  };
  for (const Case& c : cases) { run<float>(c, 1); }
  for (const Case& c : cases) { run<double>(c, 2); }
  for (const Case& c : cases) { run<__nv_bfloat16>(c, 5); }
  for (const Case& c : cases) { run<__half>(c, 6); }
  std::printf("%d failure(s)\n", failures);
  return failures == 0 && emu::faults == 0 ? 0 : 1;  // faults: emu.h (exited-lane shuffles, device exceptions)
}
