// Bad input: every case throws ember::Error naming the op; none crash.
// Op families add their own cases next to their tests; this file holds the engine-level ones.
#include "helpers.h"

using namespace ember;

TEST_CASE("bad shapes and dims in the engine core", "[errors]") {
  Tensor t = zeros({2, 3});
  REQUIRE_THROWS_OP(add(t, zeros({4})), "add");
  REQUIRE_THROWS_OP(mul(zeros({2, 3}), zeros({3, 2})), "mul");
  REQUIRE_THROWS_OP(t.view({5}), "view");
  REQUIRE_THROWS_OP(t.reshape({-1, -1}), "reshape");
  REQUIRE_THROWS_OP(t.reshape({4, -1}), "reshape");
  REQUIRE_THROWS_OP(t.permute({0}), "permute");
  REQUIRE_THROWS_OP(t.permute({0, 0}), "permute");
  REQUIRE_THROWS_OP(t.transpose(0, 2), "transpose");
  REQUIRE_THROWS_OP(t.expand({3, 3}), "expand");
  REQUIRE_THROWS_OP(t.select(0, 2), "select");
  REQUIRE_THROWS_OP(t.select(2, 0), "select");
  REQUIRE_THROWS_OP(t.slice(0, 0, 1, 0), "slice");
  REQUIRE_THROWS_OP(t.narrow(1, 2, 2), "narrow");
  REQUIRE_THROWS_OP(sum(t, {2}), "sum");
  REQUIRE_THROWS_OP(sum(t, {0, 0}), "sum");
  REQUIRE_THROWS_OP(t.size(5), "size");
  REQUIRE_THROWS_OP(t.flatten(1, 0), "flatten");
  REQUIRE_THROWS_OP(t.unflatten(1, {2, 2}), "unflatten");
}

TEST_CASE("bad factories and dtypes", "[errors]") {
  REQUIRE_THROWS_OP(zeros({2, -1}), "empty");
  REQUIRE_THROWS_OP(arange(0, 5, 0), "arange");
  REQUIRE_THROWS_OP(arange(0, 5, -1), "arange");
  REQUIRE_THROWS_OP(linspace(0, 1, -2), "linspace");
  REQUIRE_THROWS_OP(from_vector<float>({1, 2, 3}, {2, 2}), "from_vector");
  REQUIRE_THROWS_OP(zeros({2}).data_ptr<double>(), "data_ptr");
  REQUIRE_THROWS_OP(zeros({2}).item<float>(), "item");
  REQUIRE_THROWS_OP(zeros({2}, DType::i64).requires_grad_(true), "requires_grad_");
  REQUIRE_THROWS_OP(zeros({2}).to(Device::cuda(0)), "to");
  REQUIRE_THROWS_OP(zeros({2}, Device::cuda(0)), "allocate");
  REQUIRE_THROWS_OP(randint(5, 5, {2}), "randint");
  REQUIRE_THROWS_OP(normal(0, -1, {2}), "normal");
  REQUIRE_THROWS_OP(bernoulli(full({2}, 1.5)), "bernoulli");
  REQUIRE_THROWS_OP(clamp(zeros({2}), 2, 1), "clamp");
  REQUIRE_THROWS_OP(where(zeros({2}), zeros({2}), zeros({2})), "where");
  REQUIRE_THROWS_OP(masked_fill(zeros({2}), zeros({2}), 1), "masked_fill");
  REQUIRE_THROWS_OP(neg(zeros({2}, DType::bool_)), "neg");
  REQUIRE_THROWS_OP(mean(zeros({2}, DType::i64)), "mean");
  REQUIRE_THROWS_OP(Tensor().dim(), "undefined");
  REQUIRE_THROWS_OP(add(Tensor(), zeros({1})), "add");
}
