// cuda/long_conv.cu in the host emulator (run.sh): the kernels around cuFFT (the FFTs themselves
// are cuFFT calls and are not emulated): the tiled gather into zero-padded channel rows from
// strided and broadcast (B, L, D) views, the tiled scatter with positive and negative circular
// shifts, the complex row products (broadcast b, conjugated), the batch sum of conjugate products,
// and the kernel-tap extraction; with several time and channel tiles and a batch > 1 (grid.z).
#include "emu.h"
#include "long_conv_emu.inc"

using namespace ember::cuda;

double rnd() { return (rand() / (double)RAND_MAX) * 2 - 1; }
template <class T> std::vector<double> dbl(const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); }
template <class T> constexpr ScalarType type_of() { return std::is_same_v<T, float> ? ScalarType::f32 : ScalarType::f64; }

template <class T> void run(int64_t B, int64_t L, int64_t D, int64_t N) {
  srand(static_cast<unsigned>(B * 1000 + L * 10 + D + N));
  const std::string shape = std::string(emu::type_name<T>()) + " B=" + std::to_string(B) + " L=" + std::to_string(L) + " D=" +
                            std::to_string(D) + " N=" + std::to_string(N);
  // gather: src stored (D, B, L) (strides batch L, time 1, channel B L), and a batch-broadcast view
  for (bool broadcast : {false, true}) {
    std::vector<T> src(D * B * L), rows(B * D * N, T(-9));
    for (auto& v : src) v = T(rnd());
    const SeqStrides s = broadcast ? SeqStrides{0, 1, L} : SeqStrides{L, 1, B * L};
    gather_channel_rows(src.data(), s, type_of<T>(), B, L, D, N, rows.data(), Stream{});
    std::vector<double> want(B * D * N);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t d = 0; d < D; ++d)
        for (int64_t t = 0; t < N; ++t) want[(b * D + d) * N + t] = t < L ? double(src[b * s.batch + t * s.time + d * s.channel]) : 0.0;
    emu::check(dbl(rows) == want, "long_conv gather " + shape + (broadcast ? " batch-broadcast source" : " strided source"));
  }
  // scatter with shifts
  for (int64_t shift : {int64_t{0}, int64_t{5}, -int64_t{3}, N - 1}) {
    std::vector<T> rows(B * D * N), dst(B * L * D, T(-9));
    for (auto& v : rows) v = T(rnd());
    scatter_channel_rows(rows.data(), type_of<T>(), B, L, D, N, shift, 0.5, dst.data(), Stream{});
    std::vector<double> want(B * L * D);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < L; ++t)
        for (int64_t d = 0; d < D; ++d) want[(b * L + t) * D + d] = 0.5 * double(rows[(b * D + d) * N + (((t + shift) % N) + N) % N]);
    double e;
    const bool ok = emu::close(dbl(dst), want, emu::tolerance<T>(), 1e-3, &e);
    emu::check(ok, "long_conv scatter " + shape + " shift " + std::to_string(shift));
  }
  // complex products: a (rows, bins), b (D, bins) broadcast over the batch, optionally conjugated
  const int64_t bins = N / 2 + 1, R = B * D;
  for (bool conj : {false, true}) {
    std::vector<T> a(2 * R * bins), bv(2 * D * bins), out(2 * R * bins, T(-9));
    for (auto& v : a) v = T(rnd());
    for (auto& v : bv) v = T(rnd());
    complex_multiply_rows(a.data(), bv.data(), type_of<T>(), R, D, bins, conj, out.data(), Stream{});
    std::vector<double> want(2 * R * bins);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t f = 0; f < bins; ++f) {
        const int64_t i = r * bins + f, j = (r % D) * bins + f;
        const double ar = a[2 * i], ai = a[2 * i + 1], br = bv[2 * j], bi = (conj ? -1 : 1) * double(bv[2 * j + 1]);
        want[2 * i] = ar * br - ai * bi, want[2 * i + 1] = ar * bi + ai * br;
      }
    double e;
    const bool ok = emu::close(dbl(out), want, emu::tolerance<T>() * 2, 1e-3, &e);
    emu::check(ok, "long_conv complex multiply " + shape + (conj ? " conj" : ""));
    // in place (out = a)
    std::vector<T> inplace = a;
    complex_multiply_rows(inplace.data(), bv.data(), type_of<T>(), R, D, bins, conj, inplace.data(), Stream{});
    emu::check(inplace == out, "long_conv complex multiply in place " + shape + (conj ? " conj" : ""));
  }
  {
    std::vector<T> a(2 * R * bins), c(2 * R * bins), out(2 * D * bins, T(-9));
    for (auto& v : a) v = T(rnd());
    for (auto& v : c) v = T(rnd());
    batch_sum_conj_products(a.data(), c.data(), type_of<T>(), B, D, bins, out.data(), Stream{});
    std::vector<double> want(2 * D * bins, 0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t d = 0; d < D; ++d)
        for (int64_t f = 0; f < bins; ++f) {
          const int64_t j = (b * D + d) * bins + f, i = d * bins + f;
          want[2 * i] += double(a[2 * j]) * c[2 * j] + double(a[2 * j + 1]) * c[2 * j + 1];
          want[2 * i + 1] += double(a[2 * j + 1]) * c[2 * j] - double(a[2 * j]) * c[2 * j + 1];
        }
    double e;
    const bool ok = emu::close(dbl(out), want, emu::tolerance<T>() * 4, 1e-3, &e);
    emu::check(ok, "long_conv batch sum of conjugate products " + shape);
  }
  {
    const int64_t K = std::min<int64_t>(L, 9), offset = std::min<int64_t>(3, K - 1);  // as cuda/long_conv.cpp: 0 <= offset < K <= N
    std::vector<T> rows(D * N), gk(D * K, T(-9));
    for (auto& v : rows) v = T(rnd());
    extract_kernel_taps(rows.data(), type_of<T>(), D, N, K, offset, 0.25, gk.data(), Stream{});
    std::vector<double> want(D * K);
    for (int64_t d = 0; d < D; ++d)
      for (int64_t s = 0; s < K; ++s) want[d * K + s] = 0.25 * double(rows[d * N + ((s - offset) % N + N) % N]);
    double e;
    const bool ok = emu::close(dbl(gk), want, emu::tolerance<T>(), 1e-3, &e);
    emu::check(ok, "long_conv kernel taps " + shape + " offset " + std::to_string(offset));
  }
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  run<float>(2, 37, 35, 80);   // 3 time tiles of the padded rows, 2 channel tiles, grid.z = 2
  run<double>(2, 37, 35, 80);
  run<double>(1, 5, 3, 8);
  run<float>(3, 1, 1, 2);
  return emu::finish("emu_long_conv");
}
