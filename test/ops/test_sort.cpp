// Tests for ops/sort.h: sort/argsort/topk, cumsum/cumprod, against
// hand-computed values; gradcheck / gradgradcheck; bad input.
#include <limits>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::f64;
using ember::test::rand64;
using ember::test::values;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

TEST_CASE("sort: ascending, descending, stable ties, NaN last, any dim", "[ops][sort]") {
  Tensor x = f64({3, 1, 2, 1, 5, 0}, {2, 3}, false);
  auto [v, i] = sort(x);
  REQUIRE(values(v) == std::vector<double>{1, 2, 3, 0, 1, 5});
  REQUIRE(values(i) == std::vector<double>{1, 2, 0, 2, 0, 1});
  REQUIRE(i.dtype() == DType::i64);
  auto [vd, id] = sort(x, 0, true);
  REQUIRE(values(vd) == std::vector<double>{3, 5, 2, 1, 1, 0});
  REQUIRE(values(id) == std::vector<double>{0, 1, 0, 1, 0, 1});
  // Ties keep their original order in both directions.
  Tensor ties = f64({2, 1, 2, 1, 2}, {5}, false);
  REQUIRE(values(sort(ties).indices) == std::vector<double>{1, 3, 0, 2, 4});
  REQUIRE(values(sort(ties, 0, true).indices) == std::vector<double>{0, 2, 4, 1, 3});
  // NaN is the largest value: last ascending, first descending.
  Tensor with_nan = f64({1, kNaN, -1}, {3}, false);
  REQUIRE(values(sort(with_nan).indices) == std::vector<double>{2, 0, 1});
  REQUIRE(values(sort(with_nan, -1, true).indices) == std::vector<double>{1, 0, 2});
  // Non-contiguous input: the transpose of x, sorted along its last dim.
  REQUIRE(values(sort(x.t()).values) == std::vector<double>{1, 3, 1, 5, 0, 2});
  REQUIRE(values(argsort(x.t(), -1, true)) == std::vector<double>{0, 1, 1, 0, 0, 1});
  REQUIRE(values(argsort(from_vector<int64_t>({5, -3, 9}))) == std::vector<double>{1, 0, 2});
  // 0-d and empty.
  REQUIRE(sort(scalar_tensor(2.0)).values.item<double>() == 2.0);
  REQUIRE(sort(scalar_tensor(2.0)).indices.item<int64_t>() == 0);
  REQUIRE(sort(zeros({2, 0}), 1).values.sizes() == Shape{2, 0});
}

TEST_CASE("topk: largest, smallest, k = 0 and k = n, ties by index", "[ops][sort]") {
  Tensor x = f64({4, 9, 1, 9, 7, 2, 8, 3}, {2, 4}, false);
  auto [v, i] = topk(x, 2);
  REQUIRE(v.sizes() == Shape{2, 2});
  REQUIRE(values(v) == std::vector<double>{9, 9, 8, 7});
  REQUIRE(values(i) == std::vector<double>{1, 3, 2, 0});
  auto [vs, is] = topk(x, 1, 0, /*largest=*/false);
  REQUIRE(values(vs) == std::vector<double>{4, 2, 1, 3});
  REQUIRE(values(is) == std::vector<double>{0, 1, 0, 1});
  REQUIRE(topk(x, 0).values.sizes() == Shape{2, 0});
  REQUIRE(values(topk(x, 4, 1, false).indices) == std::vector<double>{2, 0, 1, 3, 1, 3, 0, 2});
  REQUIRE(values(topk(x.t(), 1, 0).values) == std::vector<double>{9, 8});
}

TEST_CASE("sort/topk/take/place gradients: scattered back to the source indices", "[ops][sort]") {
  Tensor x = f64({3, 1, 2}, {3});
  Tensor w = f64({10, 20, 30}, {3}, false);
  sum(mul(sort(x).values, w)).backward();
  REQUIRE(values(x.grad()) == std::vector<double>{30, 10, 20});
  Tensor y = f64({3, 1, 2}, {3});
  sum(mul(topk(y, 2).values, f64({10, 20}, {2}, false))).backward();
  REQUIRE(values(y.grad()) == std::vector<double>{10, 0, 20});
  Tensor a = rand64({3, 4, 2}, 41);
  auto f = [](const TensorList& in) -> TensorList {
    return {sort(in[0], 1).values, sort(in[0], 0, true).values, topk(in[0], 2, 1).values,
            topk(in[0], 1, -1, false).values};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradcheck(f, {a.transpose(0, 1)}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("cumsum and cumprod: values, dtypes, dims, non-contiguous", "[ops][sort]") {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}, false);
  REQUIRE(values(cumsum(x, 1)) == std::vector<double>{1, 3, 6, 4, 9, 15});
  REQUIRE(values(cumsum(x, 0)) == std::vector<double>{1, 2, 3, 5, 7, 9});
  REQUIRE(values(cumsum(x, -1)) == values(cumsum(x, 1)));
  REQUIRE(values(cumprod(x, 1)) == std::vector<double>{1, 2, 6, 4, 20, 120});
  REQUIRE(values(cumprod(x, 0)) == std::vector<double>{1, 2, 3, 4, 10, 18});
  REQUIRE(values(cumsum(x.t(), 1)) == std::vector<double>{1, 5, 2, 7, 3, 9});
  REQUIRE(values(cumsum(x.slice(1, 0, 3, 2), 1)) == std::vector<double>{1, 4, 4, 10});
  Tensor b = from_vector<bool>({true, false, true});
  REQUIRE(cumsum(b, 0).dtype() == DType::i64);
  REQUIRE(values(cumsum(b, 0)) == std::vector<double>{1, 1, 2});
  REQUIRE(values(cumprod(from_vector<int32_t>({100000, 100000}), 0)) == std::vector<double>{1e5, 1e10});
  REQUIRE(cumsum(scalar_tensor(3.0), 0).item<double>() == 3.0);
  REQUIRE(cumsum(zeros({0, 3}), 0).sizes() == Shape{0, 3});
  // Long float32 scans accumulate in double: 3e5 ones count exactly.
  REQUIRE(values(cumsum(ones({300000}, DType::f32), 0)).back() == 300000.0);
}

TEST_CASE("cumsum/cumprod gradients, including cumprod with zeros", "[ops][sort]") {
  Tensor a = rand64({3, 4}, 51, 0.5, 1.5);
  auto f = [](const TensorList& in) -> TensorList {
    return {cumsum(in[0], 1), cumsum(in[0], 0), cumprod(in[0], 1), cumprod(in[0].t(), 1)};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
  // Hand values: y = cumprod([2, 0, 3, 4]) = [2, 0, 0, 0]; with g = 1:
  // dL/dx0 = 1 (only y0 survives), dL/dx1 = x0 + x0*x2 + x0*x2*x3 = 2 + 6 + 24, rest 0.
  Tensor z = f64({2, 0, 3, 4}, {4});
  sum(cumprod(z, 0)).backward();
  REQUIRE(all_close(z.grad(), {1, 32, 0, 0}));
  // One zero and two zeros per line; first and second order.
  Tensor zeros_in = f64({0.7, 0, 1.3, -0.8, 0, 1.1, 0, 0.9, 1.2, 0.6, -1.4, 0}, {3, 4});
  auto g = [](const TensorList& in) -> TensorList { return {cumprod(in[0], 1)}; };
  REQUIRE(gradcheck(g, {zeros_in}));
  REQUIRE(gradgradcheck(g, {zeros_in}));
  REQUIRE(gradgradcheck(g, {f64({0, 0, 0, 1.5}, {1, 4})}));
}

TEST_CASE("sort and scan ops reject bad input", "[ops][sort][errors]") {
  Tensor x = ones({2, 3});
  REQUIRE_THROWS_OP(sort(x, 2), "sort");
  REQUIRE_THROWS_OP(argsort(Tensor()), "argsort");
  REQUIRE_THROWS_OP(topk(x, 4), "topk");
  REQUIRE_THROWS_OP(topk(x, -1), "topk");
  REQUIRE_THROWS_OP(topk(x, 1, 3), "topk");
  REQUIRE_THROWS_OP(topk(scalar_tensor(1.0), 0), "topk");
  REQUIRE(topk(scalar_tensor(1.0), 1).values.item<double>() == 1.0);
  REQUIRE_THROWS_OP(cumsum(x, -3), "cumsum");
  REQUIRE_THROWS_OP(cumprod(x, 2), "cumprod");
  REQUIRE_THROWS_OP(sort(ones({2}, DType::f16)), "sort");
}
