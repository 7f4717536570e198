// Arithmetic core: forward values against hand-computed results, gradients by gradcheck.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

TEST_CASE("add/sub/mul/div forward with broadcasting", "[ops][elementwise]") {
  Tensor a = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector<double>({10, 20, 30}, {3});
  REQUIRE(values(a + b) == std::vector<double>{11, 22, 33, 14, 25, 36});
  REQUIRE(values(b - a) == std::vector<double>{9, 18, 27, 6, 15, 24});
  REQUIRE(values(a * b) == std::vector<double>{10, 40, 90, 40, 100, 180});
  REQUIRE(all_close(a / b, {0.1, 0.1, 0.1, 0.4, 0.25, 0.2}));
  REQUIRE(values(add(a, b, 0.5)) == std::vector<double>{6, 12, 18, 9, 15, 21});
  REQUIRE(values(2.0 - a) == std::vector<double>{1, 0, -1, -2, -3, -4});
  REQUIRE(all_close(1.0 / from_vector<double>({2, 4}), {0.5, 0.25}));
  REQUIRE(values(-a.select(0, 0)) == std::vector<double>{-1, -2, -3});
  Tensor col = from_vector<double>({1, 2}, {2, 1});
  REQUIRE((col * b).sizes() == Shape{2, 3});
  REQUIRE(values(col * b) == std::vector<double>{10, 20, 30, 20, 40, 60});
}

TEST_CASE("in-place arithmetic outside autograd writes directly", "[ops][elementwise]") {
  // add_ / sub_ / mul_ under NoGradGuard (an optimizer's update) run the kernel into self
  // (ops/inplace.cpp, Note [Direct in-place arithmetic]): values by hand, broadcast operands,
  // self as its own operand, the version bump, and the fallbacks (a view of self, f32 by f64).
  NoGradGuard no_grad;
  Tensor p = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_(true);
  const uint32_t version = p.version();
  p.mul_(0.5).add_(from_vector<float>({10, 20, 30}, {3}), 2.0).sub_(1.0);
  REQUIRE(values(p) == std::vector<double>{19.5, 40, 60.5, 21, 41.5, 62});
  REQUIRE(p.version() == version + 3);
  p.sub_(p, 0.5);  // self as the operand: each element reads only itself
  REQUIRE(values(p) == std::vector<double>{9.75, 20, 30.25, 10.5, 20.75, 31});
  Tensor row = p.narrow(0, 0, 1);  // shares p's memory: the general path
  p.narrow(0, 1, 1).mul_(row);
  REQUIRE(values(p) == std::vector<double>{9.75, 20, 30.25, 102.375, 415, 937.75});
  Tensor d = from_vector<double>({1, 2}, {2});
  d.mul_(from_vector<double>({3, 4}, {2})).add_(1.0);
  REQUIRE(values(d) == std::vector<double>{4, 9});
  Tensor f = from_vector<float>({1, 2}, {2});
  f.add_(from_vector<double>({0.5, 0.25}, {2}));  // another dtype: the general path converts
  REQUIRE(values(f) == std::vector<double>{1.5, 2.25});
}

TEST_CASE("integer arithmetic keeps integers; division is true division", "[ops][elementwise]") {
  Tensor i = from_vector<int64_t>({7, -7});
  REQUIRE((i * 3).dtype() == DType::i64);
  REQUIRE(values(i * 3) == std::vector<double>{21, -21});
  REQUIRE(all_close(i / 2, {3.5, -3.5}));
}

TEST_CASE("large non-contiguous elementwise work matches a scalar loop", "[ops][elementwise]") {
  Generator g(5);
  Tensor a = randn({64, 300}, g).t();  // (300, 64) strided
  Tensor b = randn({64}, g);
  Tensor out = a * b + a;
  std::vector<double> va = values(a), vb = values(b), vo = values(out);
  for (int64_t r = 0; r < 300; ++r)
    for (int64_t c = 0; c < 64; ++c)
      REQUIRE(vo[r * 64 + c] == Approx(static_cast<float>(static_cast<float>(va[r * 64 + c] * vb[c]) + va[r * 64 + c])));
}

TEST_CASE("sum and mean over dims with keepdim", "[ops][reduce]") {
  Tensor t = arange(0, 24, 1, DType::f64).reshape({2, 3, 4});
  REQUIRE(sum(t).item<double>() == 276.0);
  REQUIRE(values(sum(t, {0, 2})) == std::vector<double>{60, 92, 124});
  REQUIRE(sum(t, {1}, true).sizes() == Shape{2, 1, 4});
  REQUIRE(values(sum(t, {-1})) == std::vector<double>{6, 22, 38, 54, 70, 86});
  REQUIRE(all_close(mean(t, {0}), values(sum(t, {0}) / 2.0)));
  REQUIRE(sum(from_vector<bool>({true, true, false})).item<int64_t>() == 2);
  Tensor a = ember::test::rand64({3, 4, 5}, 11);
  auto f = [](const TensorList& in) -> TensorList {
    return {sum(in[0], {0, 2}), mean(in[0], {1}, true), sum(in[0].transpose(0, 1) * 1.0)};
  };
  REQUIRE(gradcheck(f, {a.transpose(0, 2)}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("unary core ops: exp, sqrt, clamp", "[ops][unary]") {
  REQUIRE(all_close(exp(from_vector<double>({0, 1})), {1, std::exp(1.0)}));
  REQUIRE(all_close(sqrt(from_vector<double>({4, 2})), {2, std::sqrt(2.0)}));
  REQUIRE(values(clamp(from_vector<double>({-2, 0.5, 3}), -1, 1)) == std::vector<double>{-1, 0.5, 1});
  REQUIRE(values(clamp_min(from_vector<int64_t>({-2, 5}), 0)) == std::vector<double>{0, 5});
  Tensor x = ember::test::rand64({6}, 12, 0.5, 2.0);
  auto f = [](const TensorList& in) -> TensorList {
    return {exp(in[0]), sqrt(in[0]), clamp(in[0], 0.8, 1.5)};
  };
  REQUIRE(gradcheck(f, {x}));
  REQUIRE(gradgradcheck(f, {x}));
}

TEST_CASE("comparisons, logical ops and where", "[ops][compare]") {
  Tensor a = from_vector<double>({1, 2, 3});
  Tensor b = from_vector<double>({3, 2, 1});
  REQUIRE(values(lt(a, b)) == std::vector<double>{1, 0, 0});
  REQUIRE(values(ge(a, 2.0)) == std::vector<double>{0, 1, 1});
  REQUIRE(eq(a, b).dtype() == DType::bool_);
  REQUIRE(values(logical_or(lt(a, 2.0), gt(a, 2.0))) == std::vector<double>{1, 0, 1});
  REQUIRE(values(logical_not(eq(a, b))) == std::vector<double>{1, 0, 1});
  REQUIRE(values(where(gt(a, b), a, b)) == std::vector<double>{3, 2, 3});
  REQUIRE(values(masked_fill(a, eq(a, 2.0), -5)) == std::vector<double>{1, -5, 3});
  Tensor x = ember::test::rand64({2, 3}, 13);
  Tensor y = ember::test::rand64({3}, 14);
  auto f = [](const TensorList& in) -> TensorList { return {where(gt(in[0], 0.0), in[0], in[1])}; };
  REQUIRE(gradcheck(f, {x, y}));
}
