// cuda/loss.cu in the host emulator (run.sh): nll gather/scatter over strided (N, C, S) views with
// class weights and an ignored class, nll's total weight (one block, > 256 targets), the fused
// cross_entropy forward (warp rows and block rows) and backward (per-sample and broadcast
// gradients), the seven pointwise losses with a broadcast target, BCE with logits and pos_weight,
// the clamped log and the [0, 1] range flag; against double references of ops/cpu/loss.cpp's formulas.
#include "emu.h"
#include "loss_emu.inc"

using namespace ember::cuda;

template <class T> constexpr ScalarType scalar_type_of() {
  if constexpr (std::is_same_v<T, float>) return ScalarType::f32;
  else if constexpr (std::is_same_v<T, double>) return ScalarType::f64;
  else return ScalarType::bf16;
}
double rnd() { return (rand() / (double)RAND_MAX) * 2 - 1; }
template <class T> emu::Array<T> random_array(int64_t n, double scale, double shift = 0) {
  emu::Array<T> a(n);
  for (auto& v : a) v = T(static_cast<float>(shift + scale * rnd()));
  return a;
}
template <class T> double tol() { return std::is_same_v<T, float> ? 1e-5 : emu::tolerance<T>(); }
using D = std::vector<double>;
StridedLayout dense(std::vector<int64_t> sizes, std::vector<int64_t> strides) {
  StridedLayout l;
  l.ndim = static_cast<int>(sizes.size());
  int64_t expect = 1;
  for (int d = l.ndim - 1; d >= 0; --d) {
    l.sizes[d] = sizes[d], l.strides[d] = strides[d], l.numel *= sizes[d];
    if (sizes[d] != 1 && strides[d] != expect) l.contiguous = false;
    expect *= sizes[d];
  }
  return l;
}
template <class... E> void report(bool ok, const char* fmt, E... e) {
  char line[260];
  std::snprintf(line, sizeof line, fmt, e...);
  emu::check(ok, line);
}

template <class T> void nll(bool weighted) {
  const int64_t N = 5, C = 7, S = 3, ignore = 2;
  srand(11);
  emu::Array<T> x = random_array<T>(N * S * C, 2), w = random_array<T>(C, 0.5, 1), gs = random_array<T>(S * N, 1);
  std::vector<int64_t> target(N * S);
  for (int64_t i = 0; i < N * S; ++i) target[i] = (i * 5 + 1) % C;  // includes the ignored class 2
  // x stored (N, S, C): the (N, C, S) view has strides (S C, 1, C)
  NllDims d{N, C, S, S * C, 1, C};
  emu::Array<T> out(N * S, T(-9.0f)), gx(N * C * S, T(0.0f));
  const T* wp = weighted ? w.data() : nullptr;
  nll_gather(out.data(), x.data(), target.data(), wp, scalar_type_of<T>(), d, ignore, Stream{});
  // grad stored (S, N): the (N, S) view has strides (1, N)
  NllDims g{N, C, S, 1, 0, N};
  nll_scatter(gx.data(), gs.data(), target.data(), wp, scalar_type_of<T>(), g, ignore, Stream{});
  D rout(N * S), rgx(N * C * S, 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t t = target[n * S + s];
      const double wt = weighted ? emu::to_double(w[t]) : 1.0;
      rout[n * S + s] = t == ignore ? 0.0 : -wt * emu::to_double(x[(n * S + s) * C + t]);
      if (t != ignore) rgx[(n * C + t) * S + s] = -wt * emu::to_double(gs[s * N + n]);
    }
  double e1, e2;
  const bool ok = emu::close(emu::doubles(out), rout, tol<T>(), 1e-3, &e1) && emu::close(emu::doubles(gx), rgx, tol<T>(), 1e-3, &e2);
  report(ok, "nll gather/scatter %s (5, 7, 3) strided%s: %.1e %.1e", emu::type_name<T>(), weighted ? " weighted" : "", e1, e2);
  // total weight over 300 targets
  std::vector<int64_t> many(300);
  for (int64_t i = 0; i < 300; ++i) many[i] = (i * 3) % C;
  double total = -1, want = 0;
  nll_total_weight(&total, many.data(), 300, wp, scalar_type_of<T>(), ignore, Stream{});
  for (int64_t t : many) want += t == ignore ? 0.0 : (weighted ? emu::to_double(w[t]) : 1.0);
  report(std::abs(total - want) <= 1e-12 * want, "nll total weight %s 300 targets%s: %.17g vs %.17g", emu::type_name<T>(),
         weighted ? " weighted" : "", total, want);
}

template <class T> void cross_entropy(int64_t N, int64_t C, bool weighted, int64_t grad_stride) {
  srand(static_cast<unsigned>(N * 100 + C));
  const int64_t ignore = -100;
  emu::Array<T> x = random_array<T>(N * C, 3), w = random_array<T>(C, 0.5, 1), g = random_array<T>(N, 1, 0.5);
  std::vector<int64_t> target(N);
  for (int64_t n = 0; n < N; ++n) target[n] = n == 1 ? ignore : (n * 7 + 3) % C;
  emu::Array<T> out(N, T(-9.0f)), lse(N, T(-9.0f)), gx(N * C, T(-9.0f));
  const T* wp = weighted ? w.data() : nullptr;
  cross_entropy_forward(out.data(), lse.data(), x.data(), target.data(), wp, scalar_type_of<T>(), N, C, ignore, Stream{});
  cross_entropy_backward(gx.data(), g.data(), grad_stride, x.data(), lse.data(), target.data(), wp, scalar_type_of<T>(), N, C,
                         ignore, Stream{});
  D rout(N), rlse(N), rgx(N * C);
  for (int64_t n = 0; n < N; ++n) {
    double m = -INFINITY, s = 0;
    for (int64_t c = 0; c < C; ++c) m = std::max(m, emu::to_double(x[n * C + c]));
    for (int64_t c = 0; c < C; ++c) s += std::exp(emu::to_double(x[n * C + c]) - m);
    rlse[n] = m + std::log(s);
    const int64_t t = target[n];
    const double wt = t == ignore ? 0.0 : weighted ? emu::to_double(w[t]) : 1.0;
    rout[n] = t == ignore ? 0.0 : wt * (rlse[n] - emu::to_double(x[n * C + t]));
    const double scale = emu::to_double(g[n * grad_stride]) * wt, kl = emu::to_double(lse[n]);
    for (int64_t c = 0; c < C; ++c)
      rgx[n * C + c] = t == ignore ? 0.0 : scale * std::exp(emu::to_double(x[n * C + c]) - kl) - (c == t ? scale : 0.0);
  }
  double e[3];
  const bool ok = emu::close(emu::doubles(out), rout, tol<T>(), 1e-3, &e[0]) && emu::close(emu::doubles(lse), rlse, tol<T>(), 1e-3, &e[1]) &&
                  emu::close(emu::doubles(gx), rgx, tol<T>() * 2, 1e-3, &e[2]);
  report(ok, "cross_entropy %s N=%ld C=%ld%s grad_stride=%ld: out %.1e lse %.1e grad %.1e", emu::type_name<T>(), N, C,
         weighted ? " weighted" : "", grad_stride, e[0], e[1], e[2]);
}

double reference_pointwise(LossKind kind, double x, double t, double p) {
  switch (kind) {
    case LossKind::mse: return (x - t) * (x - t);
    case LossKind::l1: return std::abs(x - t);
    case LossKind::smooth_l1: { const double z = std::abs(x - t); return z < p ? 0.5 * z * z / p : z - 0.5 * p; }
    case LossKind::huber: { const double z = std::abs(x - t); return z < p ? 0.5 * z * z : p * (z - 0.5 * p); }
    case LossKind::bce: return -(t * std::max(std::log(x), -100.0) + (1 - t) * std::max(std::log1p(-x), -100.0));
    case LossKind::kl_div: return (t == 0 ? 0.0 : t * std::log(t)) - t * x;
    case LossKind::kl_div_log_target: return std::exp(t) * (t - x);
  }
  return 0;
}

template <class T> void pointwise() {
  srand(5);
  const int64_t R = 7, C = 133;  // (7, 133): four blocks
  const StridedLayout xl = dense({R, C}, {1, R});            // transposed storage
  const StridedLayout tl = dense({R, C}, {0, 1});            // target broadcast along rows
  const char* names[] = {"mse", "l1", "smooth_l1", "huber", "bce", "kl_div", "kl_div_log_target"};
  for (int k = 0; k < 7; ++k) {
    const LossKind kind = static_cast<LossKind>(k);
    const bool unit = kind == LossKind::bce;
    emu::Array<T> x(R * C), t(C), out(R * C, T(-9.0f));
    for (auto& v : x) v = T(static_cast<float>(unit ? 0.5 + 0.49 * rnd() : 2 * rnd()));
    for (int64_t i = 0; i < C; ++i) t[i] = T(static_cast<float>(unit || kind == LossKind::kl_div ? (i % 9 == 0 ? 0.0 : 0.5 + 0.5 * rnd()) : 2 * rnd()));
    pointwise_loss(out.data(), x.data(), xl, t.data(), tl, scalar_type_of<T>(), kind, 0.7, Stream{});
    D want(R * C);
    for (int64_t i = 0; i < R * C; ++i)
      want[i] = reference_pointwise(kind, emu::to_double(x[xl.offset_of(i)]), emu::to_double(t[tl.offset_of(i)]), static_cast<double>(static_cast<acc_t<T>>(0.7)));  // the kernel gets param in acc_t<T>
    double e;
    const bool close_ok = emu::close(emu::doubles(out), want, tol<T>() * 4, 1e-3, &e);  // before the report reads e
    report(close_ok, "%s %s (7, 133) transposed input, broadcast target: %.1e",
           names[k], emu::type_name<T>(), e);
  }
  // BCE with logits, pos_weight (C) broadcast along rows
  emu::Array<T> x = random_array<T>(R * C, 6), t = random_array<T>(R * C, 0.5, 0.5), pw = random_array<T>(C, 0.5, 1.5), out(R * C);
  const StridedLayout plain = dense({R, C}, {C, 1}), pl = dense({R, C}, {0, 1});
  bce_with_logits(out.data(), x.data(), xl, t.data(), plain, pw.data(), pl, scalar_type_of<T>(), Stream{});
  D want(R * C);
  for (int64_t i = 0; i < R * C; ++i) {
    const double xv = emu::to_double(x[xl.offset_of(i)]), tv = emu::to_double(t[i]), pv = emu::to_double(pw[i % C]);
    const double log_sig = -std::log1p(std::exp(-xv)), log_1m = -std::log1p(std::exp(xv));
    want[i] = -(pv * tv * log_sig + (1 - tv) * log_1m);
  }
  double e;
  const bool close_ok = emu::close(emu::doubles(out), want, tol<T>() * 4, 1e-3, &e);  // before the report reads e
  report(close_ok, "bce_with_logits %s (7, 133) pos_weight: %.1e", emu::type_name<T>(), e);
  // clamped log (0 -> -100) and the range flag
  emu::Array<T> u(R * C), logs(R * C);
  for (int64_t i = 0; i < R * C; ++i) u[i] = T(static_cast<float>(i % 50 == 0 ? 0.0 : 0.5 + 0.5 * rnd()));
  clamped_log(logs.data(), u.data(), xl, scalar_type_of<T>(), Stream{});
  for (int64_t i = 0; i < R * C; ++i) want[i] = std::max(std::log(emu::to_double(u[xl.offset_of(i)])), -100.0);
  const bool log_ok = emu::close(emu::doubles(logs), want, tol<T>(), 1e-3, &e);  // before the report reads e
  report(log_ok, "clamped_log %s (7, 133): %.1e", emu::type_name<T>(), e);
  int32_t inside = 0, above = 0, nan = 0;
  flag_outside_unit_interval(&inside, u.data(), xl, scalar_type_of<T>(), Stream{});
  u[R * C - 1] = T(1.5f);
  flag_outside_unit_interval(&above, u.data(), xl, scalar_type_of<T>(), Stream{});
  u[R * C - 1] = T(NAN);
  flag_outside_unit_interval(&nan, u.data(), xl, scalar_type_of<T>(), Stream{});
  report(inside == 0 && above == 1 && nan == 1, "outside-[0, 1] flag %s: %d %d %d (want 0 1 1)", emu::type_name<T>(), inside, above, nan);
}

template <class T> void all() {
  nll<T>(false);
  nll<T>(true);
  cross_entropy<T>(9, 33, true, 1);
  cross_entropy<T>(17, 5, false, 0);
  cross_entropy<T>(3, 1500, true, 1);
  cross_entropy<T>(2, 1025, false, 0);
  pointwise<T>();
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  all<float>();
  all<double>();
  all<__nv_bfloat16>();
  return emu::finish("emu_loss");
}
