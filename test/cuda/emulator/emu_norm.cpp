// cuda/norm.cu in the host emulator (run.sh): layer/RMS/group norm (warp rows, block rows, groups
// with an inner extent, optional affine parameters, a broadcast incoming gradient) and batch norm
// (statistics, forward, training and eval backward), forward and backward, against double
// references of the formulas in ops/cpu/norm.cpp. The backward gets the kernel's own saved
// statistics, as autograd hands them over.
#include "emu.h"
#include "norm_emu.inc"

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
template <class T> double tol() { return std::is_same_v<T, float> ? 1e-4 : emu::tolerance<T>(); }

struct RowCase { int64_t rows, channels, inner, groups; bool center, affine, broadcast; };

template <class T> void row_case(const RowCase& c) {
  srand(static_cast<unsigned>(c.rows * 31 + c.channels * 7 + c.inner));
  const int64_t n = c.channels * c.inner, total = c.rows * n, params = c.groups * c.channels;
  RowNormDims dims{c.rows, c.channels, c.inner, c.groups, c.center};
  const double eps = 1e-5;
  emu::Array<T> x = random_array<T>(total, 2, 0.5), w = random_array<T>(params, 1, 1), b = random_array<T>(params, 1);
  emu::Array<T> g = random_array<T>(total, 1), y(total), mean(c.rows), rstd(c.rows), dx(total), dw(params), db(params);
  const T* wp = c.affine ? w.data() : nullptr;
  row_norm_forward(y.data(), mean.data(), rstd.data(), x.data(), wp, c.affine ? b.data() : nullptr, scalar_type_of<T>(), dims,
                   eps, Stream{});
  row_norm_backward(dx.data(), c.affine ? dw.data() : nullptr, c.affine ? db.data() : nullptr, GradPointer{g.data(), c.broadcast},
                    x.data(), mean.data(), rstd.data(), wp, scalar_type_of<T>(), dims, Stream{});
  std::vector<double> ry(total), rmean(c.rows), rrstd(c.rows), rdx(total), rdw(params, 0), rdb(params, 0);
  auto W = [&](int64_t p) { return c.affine ? emu::to_double(w[p]) : 1.0; };
  auto G = [&](int64_t i) { return emu::to_double(g[c.broadcast ? 0 : i]); };
  for (int64_t r = 0; r < c.rows; ++r) {
    const int64_t base = r * n, a0 = (r % c.groups) * c.channels;
    double m = 0, sq = 0;
    if (c.center) {
      for (int64_t i = 0; i < n; ++i) m += emu::to_double(x[base + i]);
      m /= n;
    }
    for (int64_t i = 0; i < n; ++i) sq += (emu::to_double(x[base + i]) - m) * (emu::to_double(x[base + i]) - m);
    const double rs = 1 / std::sqrt(sq / n + eps);
    rmean[r] = m, rrstd[r] = rs;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t p = a0 + i / c.inner;
      ry[base + i] = (emu::to_double(x[base + i]) - m) * rs * W(p) + (c.affine ? emu::to_double(b[p]) : 0.0);
    }
    // backward with the kernel's statistics
    const double km = emu::to_double(mean[r]), kr = emu::to_double(rstd[r]);
    double sgw = 0, sgwx = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t p = a0 + i / c.inner;
      const double xh = (emu::to_double(x[base + i]) - km) * kr;
      sgw += G(base + i) * W(p), sgwx += G(base + i) * W(p) * xh;
      rdw[p] += G(base + i) * xh, rdb[p] += G(base + i);
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t p = a0 + i / c.inner;
      const double xh = (emu::to_double(x[base + i]) - km) * kr;
      rdx[base + i] = kr * (G(base + i) * W(p) - (c.center ? sgw / n : 0.0) - xh * sgwx / n);
    }
  }
  double e[6] = {};
  const double t = tol<T>();
  bool ok = emu::close(emu::doubles(y), ry, t, 1e-3, &e[0]) && emu::close(emu::doubles(rstd), rrstd, t, 1e-3, &e[1]) &&
            emu::close(emu::doubles(mean), rmean, t, 1e-1, &e[2]) && emu::close(emu::doubles(dx), rdx, t, 1e-3, &e[3]);
  if (c.affine) ok = ok && emu::close(emu::doubles(dw), rdw, t, 1e-3, &e[4]) && emu::close(emu::doubles(db), rdb, t, 1e-3, &e[5]);
  char line[260];
  std::snprintf(line, sizeof line, "%s %s rows=%ld channels=%ld inner=%ld groups=%ld%s%s: y %.1e rstd %.1e mean %.1e dx %.1e dw %.1e db %.1e",
                c.center ? (c.groups > 1 ? "group_norm" : "layer_norm") : "rms_norm", emu::type_name<T>(), c.rows, c.channels, c.inner,
                c.groups, c.affine ? " affine" : "", c.broadcast ? " broadcast-grad" : "", e[0], e[1], e[2], e[3], e[4], e[5]);
  emu::check(ok, line);
}

struct BatchCase { int64_t batch, channels, inner; bool affine, training, broadcast; };

template <class T> void batch_case(const BatchCase& c) {
  srand(static_cast<unsigned>(c.batch * 31 + c.channels * 7 + c.inner));
  const int64_t C = c.channels, count = c.batch * c.inner, total = C * count;
  BatchNormDims dims{c.batch, c.channels, c.inner};
  const double eps = 1e-5;
  emu::Array<T> x = random_array<T>(total, 2, 0.5), w = random_array<T>(C, 1, 1), b = random_array<T>(C, 1);
  emu::Array<T> g = random_array<T>(total, 1), y(total), mean(C), var(C), rstd(C), dx(total), dw(C), db(C);
  batch_norm_stats(mean.data(), var.data(), x.data(), scalar_type_of<T>(), dims, Stream{});
  for (int64_t k = 0; k < C; ++k) rstd[k] = T(1 / std::sqrt(emu::to_double(var[k]) + eps));  // what ops/norm.cpp does
  const T* wp = c.affine ? w.data() : nullptr;
  batch_norm_forward(y.data(), x.data(), mean.data(), rstd.data(), wp, c.affine ? b.data() : nullptr, scalar_type_of<T>(), dims,
                     Stream{});
  std::vector<double> workspace(3 * C, -1);
  batch_norm_backward(dx.data(), c.affine ? dw.data() : nullptr, c.affine ? db.data() : nullptr, workspace.data(),
                      GradPointer{g.data(), c.broadcast}, x.data(), mean.data(), rstd.data(), wp, scalar_type_of<T>(), dims,
                      c.training, Stream{});
  auto at = [&](int64_t k, int64_t t) { return ((t / c.inner) * C + k) * c.inner + t % c.inner; };
  auto G = [&](int64_t i) { return emu::to_double(g[c.broadcast ? 0 : i]); };
  std::vector<double> rmean(C), rvar(C), ry(total), rdx(total), rdw(C), rdb(C);
  for (int64_t k = 0; k < C; ++k) {
    double m = 0, sq = 0;
    for (int64_t t = 0; t < count; ++t) m += emu::to_double(x[at(k, t)]);
    m /= count;
    for (int64_t t = 0; t < count; ++t) sq += (emu::to_double(x[at(k, t)]) - m) * (emu::to_double(x[at(k, t)]) - m);
    rmean[k] = m, rvar[k] = sq / count;
    const double km = emu::to_double(mean[k]), kr = emu::to_double(rstd[k]), wk = c.affine ? emu::to_double(w[k]) : 1.0;
    double sg = 0, sgx = 0;
    for (int64_t t = 0; t < count; ++t) {
      const double xh = (emu::to_double(x[at(k, t)]) - km) * kr;
      ry[at(k, t)] = wk * xh + (c.affine ? emu::to_double(b[k]) : 0.0);
      sg += G(at(k, t)), sgx += G(at(k, t)) * xh;
    }
    rdw[k] = sgx, rdb[k] = sg;
    for (int64_t t = 0; t < count; ++t) {
      const double xh = (emu::to_double(x[at(k, t)]) - km) * kr;
      rdx[at(k, t)] = c.training ? wk * kr * (G(at(k, t)) - sg / count - xh * sgx / count) : wk * kr * G(at(k, t));
    }
  }
  double e[6] = {};
  const double t = tol<T>();
  bool ok = emu::close(emu::doubles(mean), rmean, t, 1e-1, &e[0]) && emu::close(emu::doubles(var), rvar, t, 1e-3, &e[1]) &&
            emu::close(emu::doubles(y), ry, t, 1e-3, &e[2]) && emu::close(emu::doubles(dx), rdx, t, 1e-3, &e[3]);
  if (c.affine) ok = ok && emu::close(emu::doubles(dw), rdw, t, 1e-3, &e[4]) && emu::close(emu::doubles(db), rdb, t, 1e-3, &e[5]);
  char line[260];
  std::snprintf(line, sizeof line, "batch_norm %s batch=%ld channels=%ld inner=%ld%s%s%s: mean %.1e var %.1e y %.1e dx %.1e dw %.1e db %.1e",
                emu::type_name<T>(), c.batch, c.channels, c.inner, c.affine ? " affine" : "", c.training ? " training" : " eval",
                c.broadcast ? " broadcast-grad" : "", e[0], e[1], e[2], e[3], e[4], e[5]);
  emu::check(ok, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  const RowCase rows[] = {
      {9, 33, 1, 1, true, true, false},      // layer norm, warp rows, 9 rows: a second block
      {3, 1000, 1, 1, true, false, false},   // warp rows near the limit
      {3, 1100, 1, 1, true, false, true},    // block rows, broadcast gradient (no affine: 1100 param blocks are slow here)
      {2, 5, 250, 1, true, true, false},     // block rows with 5 parameter channels over an inner extent
      {17, 7, 1, 1, false, true, false},     // rms norm
      {2, 2000, 1, 1, false, false, false},  // rms norm, block rows
      {6, 3, 5, 2, true, true, false},       // group norm: N = 3, G = 2, C = 6, HW = 5
      {4, 2, 600, 2, true, true, false},     // group norm with block rows
      {1, 1, 1, 1, true, true, false},       // one element per row
  };
  const BatchCase batches[] = {
      {3, 5, 7, true, true, false}, {2, 3, 300, true, true, false}, {2, 3, 300, false, false, false},
      {4, 2, 1, true, false, true}, {1, 1, 1, true, true, false},
  };
  for (const RowCase& c : rows) {
    row_case<float>(c);
    row_case<double>(c);
    row_case<__nv_bfloat16>(c);
  }
  for (const BatchCase& c : batches) {
    batch_case<float>(c);
    batch_case<double>(c);
    batch_case<__nv_bfloat16>(c);
  }
  return emu::finish("emu_norm");
}
