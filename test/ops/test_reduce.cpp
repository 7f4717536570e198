// Tests for ops/reduce.h: forward values against hand-computed numbers or a naive test-local loop,
// every layout of Note [Reduction layout] (rows, columns, copy, split across threads),
// gradcheck / gradgradcheck, and bad input.
#include <functional>
#include <limits>

#include "helpers.h"
#include "ops/cpu/reduce.h"

using namespace ember;
using ember::test::all_close;
using ember::test::f64;
using ember::test::rand64;
using ember::test::values;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Reference: folds the row-major elements of `x` over `dims` (wrapped here) with `combine`.
std::vector<double> naive_reduce(const Tensor& x, std::vector<int64_t> dims, double init,
                                 const std::function<double(double, double)>& combine) {
  const std::vector<double> v = values(x);
  const int64_t ndim = x.dim();
  std::vector<bool> reduced(ndim, dims.empty());
  for (int64_t d : dims) reduced[d < 0 ? d + ndim : d] = true;
  int64_t kept = 1;
  for (int64_t d = 0; d < ndim; ++d)
    if (!reduced[d]) kept *= x.size(d);
  std::vector<double> out(kept, init);
  for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) {
    int64_t rem = i, k = 0, k_stride = 1;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      const int64_t index = rem % x.size(d);
      rem /= x.size(d);
      if (!reduced[d]) {
        k += index * k_stride;
        k_stride *= x.size(d);
      }
    }
    out[k] = combine(out[k], v[i]);
  }
  return out;
}

const auto plus = [](double a, double b) { return a + b; };
const auto larger = [](double a, double b) { return std::max(a, b); };

}  // namespace

TEST_CASE("sum: hand values, keepdim, negative dims, 0-d and empty", "[ops][reduce]") {
  Tensor t = arange(0, 24, 1, DType::f64).reshape({2, 3, 4});
  REQUIRE(sum(t).item<double>() == 276.0);
  REQUIRE(values(sum(t, {0, 2})) == std::vector<double>{60, 92, 124});
  REQUIRE(values(sum(t, {2, 0})) == std::vector<double>{60, 92, 124});
  REQUIRE(sum(t, {-3, -1}, true).sizes() == Shape{1, 3, 1});
  REQUIRE(values(sum(t, {-1})) == std::vector<double>{6, 22, 38, 54, 70, 86});
  REQUIRE(values(sum(t, {0})) == std::vector<double>{12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34});
  REQUIRE(sum(t, {1}, true).sizes() == Shape{2, 1, 4});
  REQUIRE(sum(t, {1}, false).sizes() == Shape{2, 4});
  // 0-d: dims {} or {0} / {-1} reduce nothing.
  Tensor s = scalar_tensor(5.0, DType::f64);
  REQUIRE(sum(s).item<double>() == 5.0);
  REQUIRE(sum(s, {0}).item<double>() == 5.0);
  REQUIRE(sum(s, {-1}, true).dim() == 0);
  // Sum over a size-0 dim is 0; over the other dim it is an empty tensor.
  Tensor e = zeros({0, 3}, DType::f32);
  REQUIRE(values(sum(e, {0})) == std::vector<double>{0, 0, 0});
  REQUIRE(sum(e, {1}).sizes() == Shape{0});
  REQUIRE(sum(e).item<double>() == 0.0);
  REQUIRE(values(prod(e, {0})) == std::vector<double>{1, 1, 1});
  // Integer and bool sums accumulate into int64.
  REQUIRE(sum(from_vector<bool>({true, true, false})).item<int64_t>() == 2);
  REQUIRE(sum(from_vector<int32_t>({2000000000, 2000000000})).item<int64_t>() == 4000000000LL);
  REQUIRE(sum(from_vector<uint8_t>({200, 100})).dtype() == DType::i64);
}

TEST_CASE("sum of 1e6 float32 ones is exact; large reductions in every layout match a naive loop",
          "[ops][reduce]") {
  REQUIRE(sum(ones({1000000}, DType::f32)).item<double>() == 1000000.0);
  REQUIRE(values(sum(ones({1000000, 4}, DType::f32), {0})) == std::vector<double>(4, 1000000.0));
  REQUIRE(values(sum(ones({4, 250000}, DType::f32), {1})) == std::vector<double>(4, 250000.0));
  Generator gen(3);
  Tensor x = randn({37, 19, 23}, gen, DType::f64);
  // Contiguous: rows (inner dims), columns (outer dims, the bias-gradient case), mixed.
  for (const std::vector<int64_t>& dims :
       std::vector<std::vector<int64_t>>{{}, {0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {-1, 0}}) {
    INFO("dims of size " << dims.size());
    REQUIRE(all_close(sum(x, dims), naive_reduce(x, dims, 0.0, plus), 1e-12, 1e-12));
    REQUIRE(all_close(amax(x, dims), naive_reduce(x, dims, -kInf, larger), 0, 0));
    // Transposed, sliced and expanded views go through the same walks (or the copy).
    Tensor xt = x.transpose(0, 2);
    REQUIRE(all_close(sum(xt, dims), naive_reduce(xt, dims, 0.0, plus), 1e-12, 1e-12));
    Tensor xs = x.slice(1, 1, 19, 3);
    REQUIRE(all_close(sum(xs, dims), naive_reduce(xs, dims, 0.0, plus), 1e-12, 1e-12));
    Tensor xe = x.select(1, 2).unsqueeze(1).expand({37, 5, 23});
    REQUIRE(all_close(amax(xe, dims), naive_reduce(xe, dims, -kInf, larger), 0, 0));
    REQUIRE(all_close(sum(xe, dims), naive_reduce(xe, dims, 0.0, plus), 1e-12, 1e-12));
  }
  // The bias-gradient case at a size that splits across threads: (B, C) summed over B.
  Tensor big = randn({70000, 6}, gen, DType::f64);
  REQUIRE(all_close(sum(big, {0}), naive_reduce(big, {0}, 0.0, plus), 1e-10, 1e-9));
  REQUIRE(all_close(sum(big.t(), {1}), naive_reduce(big, {0}, 0.0, plus), 1e-10, 1e-9));
  REQUIRE(all_close(var(big, {0}), values(div(sum(mul(sub(big, mean(big, {0}, true)), sub(big, mean(big, {0}, true))), {0}),
                                                  69999.0)), 1e-9, 1e-12));
  // argmax in the columns walk, split across threads: against a naive scan per column.
  const std::vector<double> bv = values(big);
  std::vector<double> expected_argmax(6, 0);
  for (int64_t c = 0; c < 6; ++c)
    for (int64_t r = 1; r < 70000; ++r)
      if (bv[r * 6 + c] > bv[static_cast<int64_t>(expected_argmax[c]) * 6 + c]) expected_argmax[c] = static_cast<double>(r);
  REQUIRE(values(argmax(big, 0)) == expected_argmax);
  // Ties across the pieces of a split reduction: the first index wins.
  Tensor plateau = zeros({200000}, DType::f32);
  REQUIRE(argmax(plateau).item<int64_t>() == 0);
  plateau.narrow(0, 180000, 1).fill_(1.0);
  plateau.narrow(0, 150000, 1).fill_(1.0);
  REQUIRE(argmax(plateau).item<int64_t>() == 150000);
  REQUIRE(max(plateau, 0).indices.item<int64_t>() == 150000);
  plateau.narrow(0, 190000, 1).fill_(std::numeric_limits<double>::quiet_NaN());
  REQUIRE(argmax(plateau).item<int64_t>() == 190000);
  REQUIRE(std::isnan(amax(plateau).item<double>()));
  Tensor flat = big.flatten();
  const std::vector<double> fv = values(flat);
  REQUIRE(argmax(flat).item<int64_t>() == std::max_element(fv.begin(), fv.end()) - fv.begin());
}

TEST_CASE("mean, var, std, var_mean: values, correction, degenerate counts", "[ops][reduce]") {
  Tensor x = f64({1, 2, 3, 4, 2, 4, 6, 8}, {2, 4}, false);
  REQUIRE(all_close(mean(x, {1}), {2.5, 5}));
  REQUIRE(all_close(var(x, {1}), {5.0 / 3.0, 20.0 / 3.0}));
  REQUIRE(all_close(var(x, {1}, 0.0), {1.25, 5}));
  REQUIRE(all_close(ember::std(x, {1}), {std::sqrt(5.0 / 3.0), std::sqrt(20.0 / 3.0)}));
  REQUIRE(all_close(var(x, {0}), {0.5, 2, 4.5, 8}));
  REQUIRE(all_close(var(x), {37.5 / 7}));  // mean 3.75, squared deviations sum to 37.5
  REQUIRE(var(x, {1}, 1.0, true).sizes() == Shape{2, 1});
  auto [v, m] = var_mean(x, {-1}, 0.0);
  REQUIRE(all_close(v, {1.25, 5}));
  REQUIRE(all_close(m, {2.5, 5}));
  // correction >= N: inf when the values differ, NaN when they are all equal (0 / 0).
  REQUIRE(std::isinf(var(f64({1, 2}, {2}, false), {}, 2.0).item<double>()));
  REQUIRE(std::isnan(var(f64({3}, {1}, false)).item<double>()));
  REQUIRE(std::isnan(ember::std(f64({3}, {1}, false)).item<double>()));
  // Welford in double: no cancellation on a large offset.
  REQUIRE(var(from_vector<float>({1e6f + 1, 1e6f + 3, 1e6f + 5})).item<double>() == Approx(4.0));
  REQUIRE(std::isnan(mean(zeros({0}, DType::f64)).item<double>()));
  // std of a constant: gradient 0 (not NaN), as in PyTorch.
  Tensor flat = f64({2, 2, 2}, {3});
  ember::std(flat).backward();
  REQUIRE(values(flat.grad()) == std::vector<double>{0, 0, 0});
}

TEST_CASE("max/min over a dim: values, first index among ties, NaN, gradient at the index", "[ops][reduce]") {
  Tensor x = f64({3, 7, 7, 1, -2, 5, 5, -2, 0}, {3, 3}, false);
  auto [values_row, indices_row] = max(x, 1);
  REQUIRE(values(values_row) == std::vector<double>{7, 5, 5});
  REQUIRE(values(indices_row) == std::vector<double>{1, 2, 0});
  REQUIRE(indices_row.dtype() == DType::i64);
  auto [values_col, indices_col] = min(x, 0, true);
  REQUIRE(values_col.sizes() == Shape{1, 3});
  REQUIRE(values(values_col) == std::vector<double>{1, -2, 0});
  REQUIRE(values(indices_col) == std::vector<double>{1, 1, 2});
  auto [v_nan, i_nan] = max(f64({1, kNaN, 5, kNaN}, {4}, false), 0);
  REQUIRE(std::isnan(v_nan.item<double>()));
  REQUIRE(i_nan.item<int64_t>() == 1);
  // 0-d input: the value itself at index 0.
  auto [v0, i0] = max(scalar_tensor(4.0, DType::f64), 0);
  REQUIRE(v0.item<double>() == 4.0);
  REQUIRE(i0.item<int64_t>() == 0);
  // Integers keep their dtype.
  REQUIRE(max(from_vector<int64_t>({4, 9, 2}), 0).values.item<int64_t>() == 9);
  // The gradient goes to the reported index only (not split between the tied 7s).
  Tensor g = f64({3, 7, 7, 1, -2, 5, 5, -2, 0}, {3, 3});
  sum(max(g, 1).values).backward();
  REQUIRE(values(g.grad()) == std::vector<double>{0, 1, 0, 0, 0, 1, 1, 0, 0});
}

TEST_CASE("amax/amin, max()/min(): ties share the gradient evenly", "[ops][reduce]") {
  Tensor x = f64({1, 3, 3, 2, 0, 0}, {2, 3});
  REQUIRE(values(amax(x, {1})) == std::vector<double>{3, 2});
  REQUIRE(values(amin(x, {-1}, true)) == std::vector<double>{1, 0});
  REQUIRE(amin(x, {-1}, true).sizes() == Shape{2, 1});
  REQUIRE(values(amax(x, {0})) == std::vector<double>{2, 3, 3});
  REQUIRE(max(x).item<double>() == 3);
  REQUIRE(min(x).item<double>() == 0);
  REQUIRE(std::isnan(amax(f64({1, kNaN, 2}, {3}, false)).item<double>()));
  REQUIRE(amax(from_vector<bool>({false, true})).item<bool>());
  sum(amax(x, {1})).backward();
  REQUIRE(all_close(x.grad(), {0, 0.5, 0.5, 1, 0, 0}));
  x.zero_grad();
  min(x).backward();
  REQUIRE(all_close(x.grad(), {0, 0, 0, 0, 0.5, 0.5}));
}

TEST_CASE("argmax/argmin with and without dim, keepdim", "[ops][reduce]") {
  Tensor x = f64({3, 9, 9, 1, -4, 5}, {2, 3}, false);
  REQUIRE(argmax(x).item<int64_t>() == 1);
  REQUIRE(argmin(x).item<int64_t>() == 4);
  REQUIRE(argmax(x, std::nullopt, true).sizes() == Shape{1, 1});
  REQUIRE(values(argmax(x, 1)) == std::vector<double>{1, 2});
  REQUIRE(values(argmin(x, 0, true)) == std::vector<double>{1, 1, 1});
  REQUIRE(argmin(x, 0, true).sizes() == Shape{1, 3});
  REQUIRE(values(argmax(x.t(), -1)) == std::vector<double>{0, 0, 0});  // rows (3,1) (9,-4) (9,5)
  REQUIRE(values(argmax(x.t(), 0)) == std::vector<double>{1, 2});
  REQUIRE(argmax(x).dtype() == DType::i64);
  REQUIRE(argmax(scalar_tensor(2.0)).item<int64_t>() == 0);
}

TEST_CASE("logsumexp is stable and handles infinities and empty sets", "[ops][reduce]") {
  REQUIRE(all_close(logsumexp(f64({1000, 1000}, {2}, false)), {1000 + std::log(2.0)}, 1e-12));
  REQUIRE(all_close(logsumexp(f64({-1000, -1000}, {2}, false)), {-1000 + std::log(2.0)}, 1e-12));
  REQUIRE(all_close(logsumexp(f64({0, std::log(2.0), std::log(3.0), 1, 2, 3}, {2, 3}, false), {1}),
                    {std::log(6.0), 3 + std::log(1 + std::exp(-1.0) + std::exp(-2.0))}, 1e-12));
  REQUIRE(logsumexp(f64({-kInf, -kInf}, {2}, false)).item<double>() == -kInf);
  REQUIRE(logsumexp(f64({kInf, 1, kInf}, {3}, false)).item<double>() == kInf);
  REQUIRE(std::isnan(logsumexp(f64({kNaN, 1}, {2}, false)).item<double>()));
  REQUIRE(logsumexp(zeros({0}, DType::f64)).item<double>() == -kInf);
  REQUIRE(logsumexp(from_vector<float>({100.f, 100.f}), {0}, true).sizes() == Shape{1});
  Tensor big = f64({800, 799}, {2});
  logsumexp(big).backward();
  const double p = 1 / (1 + std::exp(-1.0));
  REQUIRE(all_close(big.grad(), {p, 1 - p}, 1e-12));
}

TEST_CASE("prod: values and the backward with zero, one and two zeros", "[ops][reduce]") {
  REQUIRE(values(prod(f64({1, 2, 3, 4, 5, 6}, {2, 3}, false), {1})) == std::vector<double>{6, 120});
  REQUIRE(prod(from_vector<int32_t>({100000, 100000})).item<int64_t>() == 10000000000LL);
  Tensor none = f64({2, 3, 4}, {3});
  prod(none).backward();
  REQUIRE(all_close(none.grad(), {12, 8, 6}));
  Tensor one = f64({2, 0, 4}, {3});
  prod(one).backward();
  REQUIRE(all_close(one.grad(), {0, 8, 0}));
  Tensor two = f64({0, 3, 0}, {3});
  prod(two).backward();
  REQUIRE(all_close(two.grad(), {0, 0, 0}));
  auto f = [](const TensorList& in) -> TensorList { return {prod(in[0], {1}), prod(in[0], {0, 2}, true)}; };
  Tensor x = rand64({3, 4, 2}, 21, 0.5, 1.5);
  REQUIRE(gradcheck(f, {x}));
  REQUIRE(gradgradcheck(f, {x}));
  // Slices with zero, one and two zeros side by side, over one dim and over a dim set; first and
  // second order (exact with any number of zeros).
  Tensor z = f64({0.5, 0, 1.5, 2, 1, -1, 0, 0, 3, 0.7, 1.2, -0.4}, {3, 4});
  auto g = [](const TensorList& in) -> TensorList {
    return {prod(in[0], {1}), prod(in[0], {0}, true), prod(in[0].reshape({3, 2, 2}), {0, 2})};
  };
  REQUIRE(gradcheck(g, {z}));
  REQUIRE(gradgradcheck(g, {z}));
  REQUIRE(gradgradcheck([](const TensorList& in) -> TensorList { return {prod(in[0])}; }, {z.slice(1, 0, 2)}));
}

TEST_CASE("norm: p = 1, 2, inf, fro; zero gradient at 0", "[ops][reduce]") {
  Tensor x = f64({3, -4, 0, 1, -1, 1}, {2, 3}, false);
  REQUIRE(all_close(norm(x, 2.0, {1}), {5, std::sqrt(3.0)}));
  REQUIRE(all_close(norm(x, 1.0, {1}), {7, 3}));
  REQUIRE(all_close(norm(x, kInf, {1}), {4, 1}));
  REQUIRE(all_close(norm(x, "fro"), {std::sqrt(28.0)}));
  REQUIRE(all_close(norm(x), {std::sqrt(28.0)}));
  REQUIRE(norm(x, 2.0, {0}, true).sizes() == Shape{1, 3});
  Tensor z = f64({0, 0, 0}, {3});
  norm(z).backward();
  REQUIRE(values(z.grad()) == std::vector<double>{0, 0, 0});
  Tensor t = f64({1, -1, 1, 0.5}, {4});
  norm(t, kInf).backward();  // three tied maxima of |x|
  REQUIRE(all_close(t.grad(), {1.0 / 3, -1.0 / 3, 1.0 / 3, 0}));
  Tensor a = f64({1, -1, 0}, {3});
  norm(a, 1.0).backward();
  REQUIRE(values(a.grad()) == std::vector<double>{1, -1, 0});
  Tensor r = rand64({3, 4}, 31);
  auto f = [](const TensorList& in) -> TensorList {
    return {norm(in[0], 2.0, {1}), norm(in[0], 1.0, {0}, true), norm(in[0], kInf, {1}), norm(in[0].t(), "fro")};
  };
  REQUIRE(gradcheck(f, {r}));
  REQUIRE(gradgradcheck(f, {r}));
}

TEST_CASE("all, any, count_nonzero", "[ops][reduce]") {
  Tensor x = f64({1, 0, 2, 3, 4, 5}, {2, 3}, false);
  REQUIRE(values(all(x, {1})) == std::vector<double>{0, 1});
  REQUIRE(values(any(x, {0})) == std::vector<double>{1, 1, 1});
  REQUIRE(all(x, {1}).dtype() == DType::bool_);
  REQUIRE(!all(x).item<bool>());
  REQUIRE(any(zeros({2}, DType::f32)).item<bool>() == false);
  REQUIRE(all(zeros({0}, DType::f32)).item<bool>());
  REQUIRE(!any(zeros({0}, DType::f32)).item<bool>());
  REQUIRE(any(f64({0, kNaN}, {2}, false)).item<bool>());
  REQUIRE(values(count_nonzero(x, {1})) == std::vector<double>{2, 3});
  REQUIRE(count_nonzero(from_vector<bool>({true, false, true})).item<int64_t>() == 2);
  REQUIRE(all(x, {0}, true).sizes() == Shape{1, 3});
}

TEST_CASE("gradcheck of every differentiable reduction over dims, keepdim, non-contiguous inputs",
          "[ops][reduce]") {
  Tensor a = rand64({3, 4, 5}, 11);
  auto f = [](const TensorList& in) -> TensorList {
    const Tensor& x = in[0];
    auto [v, m] = var_mean(x, {0, 2}, 1.0, true);
    return {sum(x, {0, 2}),      mean(x, {1}, true), var(x, {-1}),        ember::std(x, {0, 1}, 0.0, true),
            v,                   m,                  logsumexp(x, {1, 2}), amax(x, {0}),
            amin(x, {2}, true),  max(x, 1).values,   min(x, -1, true).values, max(x), min(x)};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradcheck(f, {a.transpose(0, 2)}));
  REQUIRE(gradcheck(f, {a.slice(1, 0, 4, 2)}));
  Tensor b = rand64({3, 1, 5}, 12);
  REQUIRE(gradcheck(f, {b.expand({3, 2, 5})}));
  // Smooth ones: second order too.
  auto smooth = [](const TensorList& in) -> TensorList {
    const Tensor& x = in[0];
    auto [v, m] = var_mean(x, {1}, 0.0);
    return {sum(x, {0, 2}), mean(x, {1}, true), var(x, {-1}), ember::std(x, {0, 1}, 0.0, true), v, m, logsumexp(x, {1, 2}),
            logsumexp(x)};
  };
  REQUIRE(gradgradcheck(smooth, {a}));
  REQUIRE(gradgradcheck(smooth, {a.transpose(0, 1)}));
  // Piecewise-linear ones are differentiable twice where there are no ties.
  auto piecewise = [](const TensorList& in) -> TensorList {
    return {amax(in[0], {1}), max(in[0], 0).values, min(in[0])};
  };
  REQUIRE(gradgradcheck(piecewise, {a}));
}

TEST_CASE("reductions reject bad input", "[ops][reduce][errors]") {
  Tensor x = ones({2, 3}, DType::f32);
  REQUIRE_THROWS_OP(sum(x, {2}), "sum");
  REQUIRE_THROWS_OP(sum(x, {0, -2}), "sum");
  REQUIRE_THROWS_OP(mean(ones({2}, DType::i64)), "mean");
  REQUIRE_THROWS_OP(var(ones({2}, DType::i64)), "var");
  REQUIRE_THROWS_OP(ember::std(x, {-3}), "std");
  REQUIRE_THROWS_OP(var_mean(ones({2}, DType::i32)), "var_mean");
  REQUIRE_THROWS_OP(max(zeros({0, 3}, DType::f32), 0), "max");
  REQUIRE_THROWS_OP(max(zeros({0}, DType::f32)), "max");
  REQUIRE_THROWS_OP(amin(zeros({2, 0}, DType::f32), {1}), "amin");
  REQUIRE_THROWS_OP(argmax(zeros({0}, DType::f32)), "argmax");
  REQUIRE_THROWS_OP(min(x, 5), "min");
  REQUIRE_THROWS_OP(argmin(x, -3), "argmin");
  REQUIRE_THROWS_OP(logsumexp(ones({2}, DType::i64)), "logsumexp");
  REQUIRE_THROWS_OP(norm(x, 3.0), "norm");
  REQUIRE_THROWS_OP(norm(x, "nuc"), "norm");
  REQUIRE_THROWS_OP(norm(ones({2}, DType::i64)), "norm");
  REQUIRE_THROWS_OP(prod(x, {1, 1}), "prod");
  REQUIRE_THROWS_OP(all(Tensor()), "all");
  REQUIRE_THROWS_OP(count_nonzero(x, {3}), "count_nonzero");
  REQUIRE_THROWS_OP(sum(ones({2}, DType::f16)), "sum");
  // Empty dims that still have outputs are fine for ops with an identity.
  REQUIRE(max(zeros({0, 3}, DType::f32), 1).values.sizes() == Shape{0});
}
