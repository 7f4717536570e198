// cuda/vq.cu in the host emulator (run.sh): the tiled nearest-codeword search (several row tiles,
// code tiles and depth slices, all partial; duplicated codes whose ties must go to the lowest
// index), the exact distances, the straight-through gather and the code histogram (atomics), both
// with out-of-range indices that must be reported as the smallest bad position.
#include "emu.h"
#include "vq_emu.inc"

using namespace ember::cuda;

double rnd() { return (rand() / (double)RAND_MAX) * 2 - 1; }

template <class T> void search(int64_t N, int64_t K, int64_t D) {
  srand(static_cast<unsigned>(N * 1000 + K * 10 + D));
  std::vector<T> z(N * D), c(K * D), norms(K, T(-1)), dist(N, T(-1));
  std::vector<int64_t> idx(N, -5);
  for (auto& v : z) v = T(rnd());
  for (auto& v : c) v = T(rnd());
  for (int64_t k = 61; k < K; k += 7)  // duplicates of earlier codes: ties that the lower index must win
    for (int64_t d = 0; d < D; ++d) c[k * D + d] = c[(k - 61) * D + d];
  for (int64_t n = 0; n < N && K > 61; n += 5)  // rows that sit on a duplicated code
    for (int64_t d = 0; d < D; ++d) z[n * D + d] = c[(61 + 7 * (n % ((K - 61 + 6) / 7))) * D + d] + T(1e-3);
  vq_nearest_search(std::is_same_v<T, float> ? ScalarType::f32 : ScalarType::f64, N, K, D, z.data(), c.data(), norms.data(),
                    idx.data(), dist.data(), Stream{});
  int64_t wrong = 0;
  std::vector<double> got, want;
  for (int64_t n = 0; n < N; ++n) {
    int64_t best = -1;
    double best_d = INFINITY;
    for (int64_t k = 0; k < K; ++k) {
      double s = 0;
      for (int64_t d = 0; d < D; ++d) s += (double(z[n * D + d]) - double(c[k * D + d])) * (double(z[n * D + d]) - double(c[k * D + d]));
      if (s < best_d) best_d = s, best = k;
    }
    wrong += idx[n] != best;
    got.push_back(double(dist[n]));
    want.push_back(best_d);
  }
  double e = 0;
  const bool ok = wrong == 0 && emu::close(got, want, emu::tolerance<T>() * 10, 1e-3, &e);
  char line[200];
  std::snprintf(line, sizeof line, "vq nearest %s N=%ld K=%ld D=%ld: %ld wrong index(es), distances %.1e", emu::type_name<T>(), N, K, D,
                wrong, e);
  emu::check(ok, line);
}

void gather_and_count() {
  const int64_t N = 300, K = 9, D = 5;
  std::vector<double> c(K * D), out(N * D, -7);
  for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<double>(i) + 0.5;
  std::vector<int64_t> idx(N), counts(K, 99);
  for (int64_t n = 0; n < N; ++n) idx[n] = (n * 5) % K;
  for (bool bad : {false, true}) {
    if (bad) idx[201] = K, idx[250] = -1, idx[299] = K + 3;
    unsigned long long first_bad = ~0ull, first_bad2 = ~0ull;
    vq_gather_codes(ScalarType::f64, N, K, D, c.data(), idx.data(), out.data(), &first_bad, Stream{});
    vq_count_codes(N, K, idx.data(), counts.data(), &first_bad2, Stream{});
    bool ok = first_bad == (bad ? 201ull : ~0ull) && first_bad2 == first_bad;
    std::vector<int64_t> want_counts(K, 0);
    for (int64_t n = 0; n < N; ++n) {
      const bool valid = idx[n] >= 0 && idx[n] < K;
      if (valid) ++want_counts[idx[n]];
      for (int64_t d = 0; d < D; ++d) ok = ok && out[n * D + d] == (valid ? c[idx[n] * D + d] : 0.0);
    }
    ok = ok && counts == want_counts;
    emu::check(ok, std::string("vq gather + counts N=300 K=9 D=5") + (bad ? " with out-of-range indices" : "") +
                       ": first bad " + std::to_string(static_cast<long long>(first_bad)));
  }
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (auto [N, K, D] : {std::tuple{70L, 130L, 20L}, {1L, 1L, 1L}, {5L, 3L, 100L}, {129L, 70L, 16L}}) {
    search<float>(N, K, D);
    search<double>(N, K, D);
  }
  gather_and_count();
  return emu::finish("emu_vq");
}
