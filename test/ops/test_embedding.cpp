// Tests for ops/embedding.h: gathered rows, scatter-add gradient with repeats and padding_idx,
// determinism, double backward, bad input.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

TEST_CASE("embedding forward picks rows for any index shape", "[ops][nn][embedding]") {
  Tensor weight = arange(0, 12, 1, DType::f64).reshape({4, 3});  // row v = (3v, 3v+1, 3v+2)
  Tensor idx = from_vector<int64_t>({2, 0, 2, 3}, {2, 2});
  Tensor out = embedding(idx, weight);
  REQUIRE(out.sizes() == Shape{2, 2, 3});
  REQUIRE(values(out) == std::vector<double>{6, 7, 8, 0, 1, 2, 6, 7, 8, 9, 10, 11});
  // int32 indices, a 0-d index, a transposed (non-contiguous) weight.
  REQUIRE(values(embedding(from_vector<int32_t>({1}), weight)) == std::vector<double>{3, 4, 5});
  REQUIRE(embedding(scalar_tensor(3, DType::i64), weight).sizes() == Shape{3});
  Tensor wt = arange(0, 12, 1, DType::f32).reshape({3, 4}).t();  // (4, 3), rows (v, v+4, v+8)
  REQUIRE(values(embedding(from_vector<int64_t>({1, 3}), wt)) == std::vector<double>{1, 5, 9, 3, 7, 11});
  // padding_idx does not change the forward value (as in PyTorch).
  REQUIRE(values(embedding(from_vector<int64_t>({0}), weight, 0)) == std::vector<double>{0, 1, 2});
  REQUIRE(embedding(zeros({0}, DType::i64), weight).sizes() == Shape{0, 3});
}

TEST_CASE("embedding backward scatter-adds repeats and skips padding_idx", "[ops][nn][embedding]") {
  Tensor weight = zeros({4, 2}, TensorOptions(DType::f64).requires_grad(true));
  Tensor idx = from_vector<int64_t>({1, 3, 1, 0, 1}, {5});
  Tensor g = from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {5, 2});
  embedding(idx, weight, /*padding_idx=*/3).backward(g);
  // row 0 <- position 3; row 1 <- positions 0, 2, 4; row 2 untouched; row 3 is padding.
  REQUIRE(values(weight.grad()) == std::vector<double>{7, 8, 1 + 5 + 9, 2 + 6 + 10, 0, 0, 0, 0});
  REQUIRE(values(embedding_backward(g, idx, 4)) == std::vector<double>{7, 8, 15, 18, 0, 0, 3, 4});
}

TEST_CASE("embedding backward is deterministic on a large problem", "[ops][nn][embedding]") {
  Generator gen(7);
  Tensor idx = randint(0, 50, {4000}, gen);
  Tensor g = randn({4000, 64}, gen);
  Tensor a = embedding_backward(g, idx, 50);
  const int threads = num_threads();
  set_num_threads(1);
  Tensor b = embedding_backward(g, idx, 50);
  set_num_threads(threads);
  REQUIRE(values(a) == values(b));
  // Against a plain loop in double precision.
  std::vector<double> expected(50 * 64, 0.0), vg = values(g), vi = values(idx);
  for (int64_t i = 0; i < 4000; ++i)
    for (int64_t d = 0; d < 64; ++d) expected[static_cast<int64_t>(vi[i]) * 64 + d] += vg[i * 64 + d];
  REQUIRE(all_close(a, expected, 1e-4, 1e-4));
}

TEST_CASE("embedding gradcheck and gradgradcheck", "[ops][nn][embedding]") {
  Tensor weight = ember::test::rand64({5, 3}, 31);
  Tensor idx = from_vector<int64_t>({4, 0, 4, 2, 1, 4}, {2, 3});
  for (int64_t padding : {-1, 4, 0}) {
    auto f = [&](const TensorList& in) -> TensorList { return {embedding(idx, in[0], padding)}; };
    if (padding == -1) {  // padding_idx zeroes a true derivative on purpose, so only without it
      REQUIRE(gradcheck(f, {weight}));
      REQUIRE(gradcheck(f, {weight.t().contiguous().t()}));  // non-contiguous weight
    }
    REQUIRE(gradgradcheck(f, {weight}));
    // The backward op alone: its own backward is the gather with padding rows read as zero.
    Tensor g = ember::test::rand64({2, 3, 3}, 32);
    auto b = [&](const TensorList& in) -> TensorList { return {embedding_backward(in[0], idx, 5, padding)}; };
    REQUIRE(gradcheck(b, {g}));
    REQUIRE(gradgradcheck(b, {g}));
  }
}

TEST_CASE("embedding bad input", "[ops][nn][embedding][errors]") {
  Tensor weight = zeros({4, 3});
  REQUIRE_THROWS_OP(embedding(from_vector<int64_t>({0, 4}), weight), "embedding");
  REQUIRE_THROWS_WITH(embedding(from_vector<int64_t>({0, 4}), weight),
                      Catch::Matchers::Contains("index 4") && Catch::Matchers::Contains("4 rows"));
  REQUIRE_THROWS_WITH(embedding(from_vector<int64_t>({-1}), weight), Catch::Matchers::Contains("index -1"));
  REQUIRE_THROWS_OP(embedding(from_vector<double>({0.0}), weight), "embedding");
  REQUIRE_THROWS_OP(embedding(from_vector<int64_t>({0}), zeros({4})), "embedding");
  REQUIRE_THROWS_OP(embedding(from_vector<int64_t>({0}), zeros({4, 3}, DType::i64)), "embedding");
  REQUIRE_THROWS_OP(embedding(from_vector<int64_t>({0}), weight, 4), "embedding");
  REQUIRE_THROWS_OP(embedding(from_vector<int64_t>({0}), weight, -2), "embedding");
  REQUIRE_THROWS_OP(embedding(Tensor(), weight), "embedding");
  REQUIRE_THROWS_OP(embedding_backward(zeros({2, 3}), from_vector<int64_t>({0, 1, 2}), 4), "embedding_backward");
  REQUIRE_THROWS_OP(embedding_backward(zeros({2, 3}), from_vector<int64_t>({0, 7}), 4), "embedding_backward");
}
