// Guards against compiler bugs we have met, under the flags this build uses.
// See Note [No SLP vectorizer] in meson.build.
#include <array>
#include <vector>

#include <catch2/catch.hpp>

namespace {

// Kept out of line so the values reach memory the way a kernel's constants would.
template <typename T>
__attribute__((noinline)) std::vector<T> ones_then_zero() {
  return std::vector<T>{1, 1, 1, 0};
}

}  // namespace

TEST_CASE("constant initializer lists keep every element (g++ 12.2 AVX-512 SLP miscompile)", "[compiler]") {
  // g++ 12.2 with -march=native on an AVX-512 machine stored {1, 1, 1, 1} here.
  std::vector<double> direct{1, 1, 1, 0};
  CHECK(direct == std::vector<double>({1.0, 1.0, 1.0, 0.0}));
  CHECK(direct[3] == 0.0);
  const auto d = ones_then_zero<double>();
  CHECK(d[3] == 0.0);
  const auto f = ones_then_zero<float>();
  CHECK(f[3] == 0.0f);
  std::vector<double> mixed{2, 2, 2, 2, 2, 2, 2, 5};
  CHECK(mixed[7] == 5.0);
  double sum = 0;
  for (double x : mixed) sum += x;
  CHECK(sum == 19.0);
}
