// Tests for ops/compare.h: comparisons and logical ops (broadcasting, int/float mixing, NaN,
// non-contiguous inputs, never differentiable) and `where` (values, promotion, gradients).
#include <limits>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::rand64;
using ember::test::values;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Bools = std::vector<double>;
}  // namespace

TEST_CASE("comparisons broadcast and return bool", "[ops][compare]") {
  Tensor a = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = from_vector<double>({1, 5, 6});
  Tensor col = from_vector<double>({2, 5}, {2, 1});
  REQUIRE(eq(a, row).dtype() == DType::bool_);
  REQUIRE(values(eq(a, row)) == Bools{1, 0, 0, 0, 1, 1});
  REQUIRE(values(ne(a, row)) == Bools{0, 1, 1, 1, 0, 0});
  REQUIRE(values(lt(a, row)) == Bools{0, 1, 1, 0, 0, 0});
  REQUIRE(values(le(a, row)) == Bools{1, 1, 1, 0, 1, 1});
  REQUIRE(values(gt(a, col)) == Bools{0, 0, 1, 0, 0, 1});
  REQUIRE(values(ge(a, col)) == Bools{0, 1, 1, 0, 1, 1});
  REQUIRE(lt(col, row).sizes() == Shape{2, 3});
  REQUIRE(values(lt(col, row)) == Bools{0, 1, 1, 0, 0, 1});
  REQUIRE(values(gt(a, 3.0)) == Bools{0, 0, 0, 1, 1, 1});
  REQUIRE(values(le(a, 2.0)) == Bools{1, 1, 0, 0, 0, 0});
  REQUIRE(values(ne(a, 6.0)) == Bools{1, 1, 1, 1, 1, 0});
  // Non-contiguous operands.
  REQUIRE(values(gt(a.t(), from_vector<double>({3, 3}))) == Bools{0, 1, 0, 1, 0, 1});
  REQUIRE(values(eq(a.slice(1, 0, 3, 2), a.slice(1, 0, 3, 2))) == Bools{1, 1, 1, 1});
}

TEST_CASE("comparisons mix integer and float operands by promotion", "[ops][compare]") {
  Tensor i = from_vector<int64_t>({1, 2, 3});
  REQUIRE(values(lt(i, 2.5)) == Bools{1, 1, 0});  // not truncated to 2
  REQUIRE(values(eq(i, 2.0)) == Bools{0, 1, 0});
  REQUIRE(values(ge(i, from_vector<double>({0.5, 2.0, 3.5}))) == Bools{1, 1, 0});
  REQUIRE(values(gt(from_vector<uint8_t>({200, 3}), from_vector<int32_t>({-1, 4}))) == Bools{1, 0});
  REQUIRE(values(eq(from_vector<bool>({true, false}), from_vector<int64_t>({1, 1}))) == Bools{1, 0});
  REQUIRE(values(gt(from_vector<float>({0.1f}), from_vector<double>({0.1}))) == Bools{1});  // float32(0.1) > 0.1
}

TEST_CASE("NaN compares unequal to everything, itself included", "[ops][compare]") {
  Tensor n = from_vector<double>({kNaN, kNaN, 1});
  Tensor m = from_vector<double>({kNaN, 1, kNaN});
  REQUIRE(values(eq(n, m)) == Bools{0, 0, 0});
  REQUIRE(values(ne(n, m)) == Bools{1, 1, 1});
  REQUIRE(values(lt(n, m)) == Bools{0, 0, 0});
  REQUIRE(values(le(n, m)) == Bools{0, 0, 0});
  REQUIRE(values(gt(n, m)) == Bools{0, 0, 0});
  REQUIRE(values(ge(n, m)) == Bools{0, 0, 0});
  REQUIRE(values(eq(n, kNaN)) == Bools{0, 0, 0});
  // NaN is nonzero, hence true in logical ops.
  REQUIRE(values(logical_and(n, from_vector<double>({1, 0, 1}))) == Bools{1, 0, 1});
  REQUIRE(values(logical_not(n)) == Bools{0, 0, 0});
}

TEST_CASE("logical ops treat nonzero as true, for any dtype", "[ops][compare]") {
  Tensor a = from_vector<int64_t>({0, 3, 0, -2});
  Tensor b = from_vector<double>({0, 0, 0.5, 1});
  REQUIRE(values(logical_and(a, b)) == Bools{0, 0, 0, 1});
  REQUIRE(values(logical_or(a, b)) == Bools{0, 1, 1, 1});
  REQUIRE(values(logical_xor(a, b)) == Bools{0, 1, 1, 0});
  REQUIRE(values(logical_not(a)) == Bools{1, 0, 1, 0});
  REQUIRE(logical_not(a).dtype() == DType::bool_);
  REQUIRE(values(logical_or(from_vector<bool>({false, true}, {2, 1}), from_vector<bool>({false, false}))) ==
          Bools{0, 0, 1, 1});
}

TEST_CASE("comparison results never require grad", "[ops][compare]") {
  Tensor x = rand64({3}, 1);
  REQUIRE_FALSE(gt(x, 0.0).requires_grad());
  REQUIRE_FALSE(logical_not(x).requires_grad());
  REQUIRE_FALSE(eq(x, x).requires_grad());
}

TEST_CASE("where: broadcasting, promotion and scalar forms", "[ops][compare]") {
  Tensor c = from_vector<bool>({true, false, true});
  Tensor a = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector<double>({-1, -2}, {2, 1});
  REQUIRE(where(c, a, b).sizes() == Shape{2, 3});
  REQUIRE(values(where(c, a, b)) == Bools{1, -1, 3, 4, -2, 6});
  REQUIRE(values(where(c, a, 0.5)) == Bools{1, 0.5, 3, 4, 0.5, 6});
  REQUIRE(values(where(c, 9.0, a)) == Bools{9, 2, 9, 9, 5, 9});
  Tensor i = from_vector<int64_t>({1, 2, 3});
  REQUIRE(where(c, i, 0.0).dtype() == DType::i64);
  REQUIRE(where(c, i, 0.5).dtype() == DType::f32);
  REQUIRE(where(c, i, from_vector<double>({7, 8, 9})).dtype() == DType::f64);
  // The condition alone may carry the broadcast shape.
  Tensor c2 = from_vector<bool>({true, false}, {2, 1});
  REQUIRE(values(where(c2, from_vector<double>({1}), from_vector<double>({0}))) == Bools{1, 0});
  REQUIRE(where(c2, from_vector<double>({1}), from_vector<double>({0})).sizes() == Shape{2, 1});
}

TEST_CASE("where gradients: gradcheck and gradgradcheck with broadcasting", "[ops][compare]") {
  Tensor x = rand64({2, 3}, 2);
  Tensor y = rand64({3}, 3);
  Tensor z = rand64({3, 2}, 4);
  Tensor c = from_vector<bool>({true, false, true, false, false, true}, {2, 3});
  auto f = [c](const TensorList& in) -> TensorList {
    return {where(c, in[0], in[1]), where(c.select(0, 0), in[1], in[2].t()), where(gt(in[0], 0.0), in[0] * in[0], 2.0),
            where(c, in[0].t().t(), in[1].unsqueeze(0).expand({2, 3}))};
  };
  REQUIRE(gradcheck(f, {x, y, z}));
  REQUIRE(gradgradcheck(f, {x, y, z}));
  // Hand-computed: the broadcast operand collects the gradient of the positions it fills.
  TensorList g = autograd::grad({sum(where(c, x, y))}, {x, y});
  REQUIRE(values(g[0]) == Bools{1, 0, 1, 0, 0, 1});
  REQUIRE(values(g[1]) == Bools{1, 2, 0});
}

TEST_CASE("comparisons and where reject bad input", "[ops][compare][errors]") {
  Tensor t = zeros({2, 3});
  REQUIRE_THROWS_OP(eq(t, zeros({4})), "eq");
  REQUIRE_THROWS_OP(lt(t, zeros({3, 2})), "lt");
  REQUIRE_THROWS_OP(ge(Tensor(), t), "ge");
  REQUIRE_THROWS_OP(logical_and(t, zeros({5})), "logical_and");
  REQUIRE_THROWS_OP(logical_not(Tensor()), "logical_not");
  REQUIRE_THROWS_OP(where(ones({2, 3}), t, t), "where");
  REQUIRE_THROWS_OP(where(ones({4}, DType::bool_), t, t), "where");
  REQUIRE_THROWS_OP(where(ones({3}, DType::bool_), t, zeros({2})), "where");
  REQUIRE_THROWS_OP(where(Tensor(), t, t), "where");
}
