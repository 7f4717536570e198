// ops/vq.h: vq_nearest against a brute-force double loop (awkward N/K/D, N = K = D = 1, tiles
// that do not divide, ties to the lowest index, f32 and f64), the straight-through gradient,
// code counts and perplexity against hand-worked values, and bad input.
#include <cmath>
#include <limits>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::f64) {
  Generator gen(seed);
  return uniform(-1.0, 1.0, shape, gen, dtype);
}

// The brute-force search: every distance in double, strict < so ties keep the lowest code.
void brute_force(const Tensor& z, const Tensor& codebook, std::vector<int64_t>& indices,
                 std::vector<double>& distances) {
  const std::vector<double> zv = values(z), cv = values(codebook);
  const int64_t N = z.size(0), D = z.size(1), K = codebook.size(0);
  indices.assign(N, 0);
  distances.assign(N, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    double best = std::numeric_limits<double>::infinity();
    for (int64_t k = 0; k < K; ++k) {
      double dist = 0.0;
      for (int64_t d = 0; d < D; ++d) dist += (zv[n * D + d] - cv[k * D + d]) * (zv[n * D + d] - cv[k * D + d]);
      if (dist < best) {
        best = dist;
        indices[n] = k;
      }
    }
    distances[n] = best;
  }
}

}  // namespace

TEST_CASE("vq_nearest matches brute force on awkward sizes", "[vq]") {
  struct Case {
    int64_t N, K, D;
  };
  // K = 300 and 513 cross the 256-code tile; N = 65 and 130 cross the 64-row block.
  const std::vector<Case> cases = {{1, 1, 1}, {1, 7, 3}, {5, 1, 4}, {7, 3, 1}, {65, 300, 5}, {130, 513, 17}, {3, 2, 0}};
  for (DType dtype : {DType::f64, DType::f32}) {
    for (const Case& c : cases) {
      INFO("N=" << c.N << " K=" << c.K << " D=" << c.D << " " << dtype_name(dtype));
      const Tensor z = random_tensor({c.N, c.D}, 1 + c.N, dtype);
      const Tensor codebook = random_tensor({c.K, c.D}, 100 + c.K, dtype);
      const NearestCodes found = vq_nearest(z, codebook);
      std::vector<int64_t> expected_indices;
      std::vector<double> expected_distances;
      brute_force(z, codebook, expected_indices, expected_distances);
      REQUIRE(found.indices.dtype() == DType::i64);
      REQUIRE(found.distances.dtype() == dtype);
      REQUIRE(found.indices.sizes() == Shape{c.N});
      const std::vector<double> got = values(found.indices);
      for (int64_t n = 0; n < c.N; ++n) {
        // In f32 two codes may be within rounding of each other: accept either if their exact
        // distances agree to f32 precision.
        if (got[n] != static_cast<double>(expected_indices[n])) {
          REQUIRE(dtype == DType::f32);
          REQUIRE(std::fabs(values(found.distances)[n] - expected_distances[n]) <= 1e-5);
        }
      }
      const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
      CHECK(all_close(found.distances, expected_distances, tol, tol));
    }
  }
}

TEST_CASE("vq_nearest sends ties to the lowest index", "[vq]") {
  // z = 0 is at distance 1 from all four codes ±e1, ±e2; z = (1, 0) is nearest to code 2 = (1, 0)
  // and its duplicate code 4: the lowest wins.
  const Tensor codebook = from_vector<double>({0, 1, -1, 0, 1, 0, 0, -1, 1, 0}, {5, 2});
  const Tensor z = from_vector<double>({0, 0, 1, 0, 0.5, 0.5}, {3, 2});
  const NearestCodes found = vq_nearest(z, codebook);
  // Row 2 (0.5, 0.5): distances 0.5 to (0, 1) and (1, 0): codes 0 and 2 tie, 0 wins.
  CHECK(values(found.indices) == std::vector<double>{0, 2, 0});
  CHECK(all_close(found.distances, {1.0, 0.0, 0.5}, 0, 1e-15));
  for (DType dtype : {DType::f32, DType::f64}) {
    // 300 identical codes spanning two tiles: always code 0.
    const Tensor same = zeros({300, 3}, dtype);
    CHECK(values(vq_nearest(random_tensor({4, 3}, 5, dtype), same).indices) == std::vector<double>(4, 0.0));
  }
}

TEST_CASE("vq_quantize_st returns codewords and passes the gradient straight through", "[vq]") {
  const Tensor codebook = from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2}).requires_grad_(true);
  const Tensor z = from_vector<double>({0.9, 2.1, 5.2, 5.9, 2.8, 4.3, 1, 1}, {2, 2, 2}).requires_grad_(true);
  const Tensor indices = vq_nearest(z.detach().reshape({4, 2}), codebook.detach()).indices.reshape({2, 2});
  CHECK(values(indices) == std::vector<double>{0, 2, 1, 0});
  const Tensor quantized = vq_quantize_st(z, codebook, indices);
  REQUIRE(quantized.sizes() == z.sizes());
  CHECK(values(quantized) == std::vector<double>{1, 2, 5, 6, 3, 4, 1, 2});
  const Tensor weight = from_vector<double>({1, -2, 3, 0.5, 7, 8, -1, 0}, {2, 2, 2});
  const TensorList grads = autograd::grad({sum(quantized * weight)}, {z});
  CHECK(values(grads[0]) == values(weight));  // identity: the straight-through estimator
  // The codebook is not on the graph (it learns by EMA or the codebook loss, not through here).
  sum(vq_quantize_st(z, codebook, indices) * weight).backward();
  CHECK_FALSE(codebook.grad().defined());
  CHECK(values(z.grad()) == values(weight));
}

TEST_CASE("vq_code_counts and vq_perplexity on hand-worked values", "[vq]") {
  const Tensor indices = from_vector<int64_t>({0, 2, 2, 3, 2, 0}, {2, 3});
  const Tensor counts = vq_code_counts(indices, 5);
  CHECK(values(counts) == std::vector<double>{2, 0, 3, 1, 0});
  // p = (1/3, 1/2, 1/6): H = (1/3)ln3 + (1/2)ln2 + (1/6)ln6 = 1.0114042647..., exp(H) = 2.7495...
  const double entropy = std::log(3.0) / 3 + std::log(2.0) / 2 + std::log(6.0) / 6;
  CHECK(vq_perplexity(counts) == Approx(std::exp(entropy)).epsilon(1e-12));
  CHECK(vq_perplexity(from_vector<int64_t>({4, 4, 4, 4}, {4})) == Approx(4.0).epsilon(1e-12));
  CHECK(vq_perplexity(from_vector<int64_t>({0, 9, 0}, {3})) == Approx(1.0).epsilon(1e-12));
  CHECK(vq_perplexity(from_vector<double>({0.5, 0.5}, {2})) == Approx(2.0).epsilon(1e-12));
}

TEST_CASE("vq ops reject bad input", "[vq]") {
  const Tensor z = zeros({4, 3});
  const Tensor codebook = zeros({5, 3});
  REQUIRE_THROWS_OP(vq_nearest(z, zeros({5, 2})), "vq_nearest");
  REQUIRE_THROWS_OP(vq_nearest(z, zeros({0, 3})), "vq_nearest");
  REQUIRE_THROWS_OP(vq_nearest(zeros({4, 3}, DType::f64), codebook), "vq_nearest");
  REQUIRE_THROWS_OP(vq_nearest(zeros({2, 4, 3}), codebook), "vq_nearest");
  REQUIRE_THROWS_OP(vq_nearest(Tensor(), codebook), "vq_nearest");
  REQUIRE_THROWS_OP(vq_nearest(zeros({4, 3}, DType::i64), zeros({5, 3}, DType::i64)), "vq_nearest");
  const Tensor indices = zeros({4}, DType::i64);
  REQUIRE_THROWS_OP(vq_quantize_st(z, codebook, zeros({4}, DType::i32)), "vq_quantize_st");
  REQUIRE_THROWS_OP(vq_quantize_st(z, codebook, zeros({3}, DType::i64)), "vq_quantize_st");
  REQUIRE_THROWS_OP(vq_quantize_st(z, codebook, full({4}, 5.0, DType::i64)), "vq_quantize_st");
  REQUIRE_THROWS_OP(vq_quantize_st(z, codebook, full({4}, -1.0, DType::i64)), "vq_quantize_st");
  REQUIRE_THROWS_OP(vq_quantize_st(zeros({4, 2}), codebook, indices), "vq_quantize_st");
  REQUIRE_THROWS_OP(vq_code_counts(full({4}, 5.0, DType::i64), 5), "vq_code_counts");
  REQUIRE_THROWS_OP(vq_code_counts(indices, 0), "vq_code_counts");
  REQUIRE_THROWS_OP(vq_code_counts(zeros({4}), 5), "vq_code_counts");
  REQUIRE_THROWS_OP(vq_perplexity(zeros({3}, DType::i64)), "vq_perplexity");
  REQUIRE_THROWS_OP(vq_perplexity(from_vector<double>({1, -1}, {2})), "vq_perplexity");
  REQUIRE_THROWS_OP(vq_perplexity(zeros({2, 2})), "vq_perplexity");
}
