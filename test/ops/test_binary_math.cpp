// Tests for the elementwise math of ops/elementwise.h beyond + - * /: pow (three forms),
// minimum/maximum, lerp, addcmul/addcdiv, fmod/remainder. Values against std:: closed forms and
// hand-computed numbers; gradients by gradcheck/gradgradcheck with broadcasting and
// non-contiguous inputs; PyTorch's conventions at ties and zeros; bad input.
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

TEST_CASE("pow: tensor, scalar-exponent and scalar-base forms", "[ops][elementwise]") {
  Tensor base = from_vector<double>({0.5, 1.5, 2, 3, 0.25, 4}, {2, 3});
  Tensor exponent = from_vector<double>({2, -0.5, 1.7});
  std::vector<double> vb = values(base), expected;
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) expected.push_back(std::pow(vb[r * 3 + c], std::vector<double>{2, -0.5, 1.7}[c]));
  REQUIRE(all_close(pow(base, exponent), expected, 1e-14, 0));
  for (double e : {2.0, 3.0, 1.0, 0.5, -1.0, -0.5, 1.7, 0.0}) {
    INFO("exponent " << e);
    std::vector<double> want;
    for (double v : vb) want.push_back(std::pow(v, e));
    REQUIRE(all_close(pow(base, e), want, 1e-14, 0));
    REQUIRE(all_close(pow(base.to(DType::f32), e), want, 1e-6, 0));
  }
  REQUIRE(all_close(pow(2.0, from_vector<double>({-1, 0, 3.5})), {0.5, 1, std::pow(2.0, 3.5)}, 1e-15, 0));
}

TEST_CASE("pow on integers stays integer; fractional exponents give float32", "[ops][elementwise]") {
  Tensor i = from_vector<int64_t>({2, 3, -2, 0});
  REQUIRE(pow(i, 3.0).dtype() == DType::i64);
  REQUIRE(values(pow(i, 3.0)) == std::vector<double>{8, 27, -8, 0});
  REQUIRE(values(pow(i, 0.0)) == std::vector<double>{1, 1, 1, 1});
  REQUIRE(pow(i, 0.5).dtype() == DType::f32);
  REQUIRE(all_close(pow(from_vector<int64_t>({4, 9}), 0.5), {2, 3}));
  REQUIRE(values(pow(from_vector<int64_t>({3}), from_vector<int64_t>({4}))) == std::vector<double>{81});
  // Negative tensor exponents: 1 / base^|e| in integer arithmetic.
  REQUIRE(values(pow(from_vector<int64_t>({1, -1, -1, 2}), from_vector<int64_t>({-3, -3, -2, -1}))) ==
          std::vector<double>{1, -1, 1, 0});
  REQUIRE(pow(2.0, from_vector<int32_t>({3})).dtype() == DType::i32);
  REQUIRE(values(pow(2.0, from_vector<int32_t>({3, 10}))) == std::vector<double>{8, 1024});
  REQUIRE(pow(from_vector<int64_t>({2}), from_vector<double>({0.5})).dtype() == DType::f64);
  // A bool base with an integer scalar computes in int64, as torch.pow(bool_tensor, 2) does.
  REQUIRE(pow(from_vector<bool>({true, false}), 2.0).dtype() == DType::i64);
  REQUIRE(values(pow(from_vector<bool>({true, false}), 2.0)) == std::vector<double>{1, 0});
}

TEST_CASE("pow gradients: gradcheck, gradgradcheck and PyTorch's rules at zero", "[ops][elementwise]") {
  Tensor base = rand64({2, 3}, 1, 0.5, 2.0);
  Tensor exponent = rand64({3}, 2, -1.5, 2.0);
  auto f = [](const TensorList& in) -> TensorList {
    return {pow(in[0], in[1]), pow(in[0].t(), in[1].unsqueeze(1)), pow(in[0], 2.5), pow(in[0], -1.5),
            pow(in[0], 2.0), pow(in[0], 1.0), pow(in[0], 0.0), pow(1.7, in[1])};
  };
  REQUIRE(gradcheck(f, {base, exponent}));
  REQUIRE(gradgradcheck(f, {base, exponent}));
  // d/dbase of x^0 is 0 even at x = 0; d/dexponent of 0^e is 0 for e >= 0.
  Tensor x = f64({0, 0, 2}, {3});
  Tensor e = f64({0, 2, 0}, {3});
  TensorList g = autograd::grad({sum(pow(x, e))}, {x, e});
  REQUIRE(values(g[0]) == std::vector<double>{0, 0, 0});
  REQUIRE(all_close(g[1], {0, 0, std::log(2.0)}, 1e-15, 0));
  Tensor z = f64({0, 3}, {2});
  REQUIRE(values(autograd::grad({sum(pow(z, 0.0))}, {z})[0]) == std::vector<double>{0, 0});
  REQUIRE(values(autograd::grad({sum(pow(z, 2.0))}, {z})[0]) == std::vector<double>{0, 6});
}

TEST_CASE("minimum and maximum: broadcasting, NaN, integers", "[ops][elementwise]") {
  Tensor a = from_vector<double>({1, 5, -2, 4, 0, 7}, {2, 3});
  Tensor b = from_vector<double>({3, 3, 3});
  REQUIRE(values(minimum(a, b)) == std::vector<double>{1, 3, -2, 3, 0, 3});
  REQUIRE(values(maximum(a, b)) == std::vector<double>{3, 5, 3, 4, 3, 7});
  REQUIRE(values(maximum(a, 2.0)) == std::vector<double>{2, 5, 2, 4, 2, 7});
  REQUIRE(values(minimum(a, 2.0)) == std::vector<double>{1, 2, -2, 2, 0, 2});
  Tensor n = from_vector<double>({kNaN, 1, 2});
  Tensor m = from_vector<double>({0, kNaN, 1});
  REQUIRE(all_close(maximum(n, m), {kNaN, kNaN, 2}, 0, 0));
  REQUIRE(all_close(minimum(n, m), {kNaN, kNaN, 1}, 0, 0));
  Tensor i = from_vector<int64_t>({1, 9});
  REQUIRE(maximum(i, from_vector<int64_t>({4, 4})).dtype() == DType::i64);
  REQUIRE(values(maximum(i, from_vector<int64_t>({4, 4}))) == std::vector<double>{4, 9});
  REQUIRE(maximum(i, from_vector<double>({4.5, 4.5})).dtype() == DType::f64);
}

TEST_CASE("minimum and maximum gradients split evenly on ties", "[ops][elementwise]") {
  Tensor x = f64({1, 2, 3}, {3});
  Tensor y = f64({1, 3, 2}, {3});
  TensorList gmax = autograd::grad({sum(maximum(x, y))}, {x, y});
  REQUIRE(values(gmax[0]) == std::vector<double>{0.5, 0, 1});
  REQUIRE(values(gmax[1]) == std::vector<double>{0.5, 1, 0});
  TensorList gmin = autograd::grad({sum(minimum(x, y))}, {x, y});
  REQUIRE(values(gmin[0]) == std::vector<double>{0.5, 1, 0});
  REQUIRE(values(gmin[1]) == std::vector<double>{0.5, 0, 1});
  // Broadcast: the (1,) operand collects the sum of its shares.
  Tensor s = f64({2}, {1});
  REQUIRE(values(autograd::grad({sum(maximum(x, s))}, {s})[0]) == std::vector<double>{1.5});
  Tensor a = rand64({2, 3}, 5);
  Tensor b = rand64({3, 2}, 6);
  auto f = [](const TensorList& in) -> TensorList {
    return {maximum(in[0], in[1].t()), minimum(in[0].slice(1, 0, 3, 2), in[1].t().slice(1, 1, 3)),
            maximum(in[0], 0.1)};
  };
  REQUIRE(gradcheck(f, {a, b}));
  REQUIRE(gradgradcheck(f, {a, b}));
}

TEST_CASE("lerp with scalar and tensor weights", "[ops][elementwise]") {
  Tensor start = from_vector<double>({0, 10, -4});
  Tensor end = from_vector<double>({1, 20, 4});
  REQUIRE(all_close(lerp(start, end, 0.25), {0.25, 12.5, -2}, 1e-15, 0));
  REQUIRE(values(lerp(start, end, 1.0)) == values(end));  // exact at weight 1
  REQUIRE(all_close(lerp(start, end, from_vector<double>({0, 0.5, 1})), {0, 15, 4}, 1e-15, 0));
  Tensor s = rand64({2, 3}, 7), e = rand64({3}, 8), w = rand64({2, 1}, 9, 0, 1);
  auto f = [](const TensorList& in) -> TensorList {
    return {lerp(in[0], in[1], in[2]), lerp(in[0].t(), in[1].unsqueeze(1), 0.3), lerp(in[0], in[1], 0.8)};
  };
  REQUIRE(gradcheck(f, {s, e, w}));
  REQUIRE(gradgradcheck(f, {s, e, w}));
}

TEST_CASE("addcmul and addcdiv", "[ops][elementwise]") {
  Tensor x = from_vector<double>({1, 2, 3});
  Tensor a = from_vector<double>({2, 4, 6});
  Tensor b = from_vector<double>({4, 2, 1});
  REQUIRE(values(addcmul(x, a, b, 0.5)) == std::vector<double>{5, 6, 6});
  REQUIRE(values(addcdiv(x, a, b, 2.0)) == std::vector<double>{2, 6, 15});
  REQUIRE(values(addcmul(from_vector<int64_t>({1}), from_vector<int64_t>({2}), from_vector<int64_t>({3}))) ==
          std::vector<double>{7});
  Tensor p = rand64({2, 3}, 10), q = rand64({3}, 11), r = rand64({2, 1}, 12, 0.5, 2.0);
  auto f = [](const TensorList& in) -> TensorList {
    return {addcmul(in[0], in[1], in[2], 1.5), addcdiv(in[0], in[1], in[2], -0.7),
            addcdiv(in[0].t(), in[1].unsqueeze(1), in[2].t())};
  };
  REQUIRE(gradcheck(f, {p, q, r}));
  REQUIRE(gradgradcheck(f, {p, q, r}));
}

TEST_CASE("fmod and remainder: C and Python sign conventions", "[ops][elementwise]") {
  Tensor a = from_vector<int64_t>({-7, 7, -7, 7, 6});
  Tensor b = from_vector<int64_t>({3, -3, -3, 3, 3});
  REQUIRE(values(fmod(a, b)) == std::vector<double>{-1, 1, -1, 1, 0});
  REQUIRE(values(remainder(a, b)) == std::vector<double>{2, -2, -1, 1, 0});
  REQUIRE(values(a % 3.0) == std::vector<double>{2, 1, 2, 1, 0});
  Tensor fa = from_vector<double>({-7.5, 7.5, 5});
  REQUIRE(values(fmod(fa, 2.0)) == std::vector<double>{-1.5, 1.5, 1});
  REQUIRE(values(remainder(fa, 2.0)) == std::vector<double>{0.5, 1.5, 1});
  REQUIRE(values(remainder(fa, -2.0)) == std::vector<double>{-1.5, -0.5, -1});
  REQUIRE(std::isnan(values(fmod(fa, 0.0))[0]));
  // INT64_MIN % -1 would trap on x86.
  Tensor low = from_vector<int64_t>({std::numeric_limits<int64_t>::min()});
  REQUIRE(values(fmod(low, from_vector<int64_t>({-1}))) == std::vector<double>{0});
  Tensor x = rand64({2, 3}, 13, 1.0, 5.0), y = rand64({3}, 14, 0.7, 1.3);
  auto f = [](const TensorList& in) -> TensorList {
    return {fmod(in[0], in[1]), remainder(neg(in[0]), in[1]), remainder(in[0].t(), 0.9)};
  };
  REQUIRE(gradcheck(f, {x, y}));
  // d/db = -trunc(a/b) for fmod, -floor(a/b) for remainder.
  Tensor p = f64({-7.5}, {1}), q = f64({2}, {1});
  REQUIRE(values(autograd::grad({sum(fmod(p, q))}, {q})[0]) == std::vector<double>{3});
  REQUIRE(values(autograd::grad({sum(remainder(p, q))}, {q})[0]) == std::vector<double>{4});
}

TEST_CASE("result_type over several tensors", "[ops][elementwise]") {
  Tensor i = zeros({2}, DType::i64), f = zeros({2}), d0 = zeros({}, DType::f64), b = zeros({2}, DType::bool_);
  REQUIRE(result_type({i, f}) == DType::f32);
  REQUIRE(result_type({i, d0}) == DType::f64);  // a 0-d float promotes an integer tensor
  REQUIRE(result_type({f, d0}) == DType::f32);  // but not a float one
  REQUIRE(result_type({b, zeros({}, DType::i32)}) == DType::i32);
  REQUIRE(result_type({d0}) == DType::f64);
}

TEST_CASE("elementwise math rejects bad input", "[ops][elementwise][errors]") {
  Tensor t = zeros({2, 3});
  Tensor b = from_vector<bool>({true});
  REQUIRE_THROWS_OP(pow(t, zeros({4})), "pow");
  REQUIRE_THROWS_OP(pow(b, b), "pow");
  REQUIRE_THROWS_OP(pow(from_vector<int64_t>({2}), -2.0), "pow");
  REQUIRE_THROWS_OP(pow(2.0, Tensor()), "pow");
  REQUIRE_THROWS_OP(maximum(t, zeros({3, 2})), "maximum");
  REQUIRE_THROWS_OP(minimum(Tensor(), 1.0), "minimum");
  REQUIRE_THROWS_OP(lerp(t, zeros({4}), 0.5), "lerp");
  REQUIRE_THROWS_OP(lerp(zeros({2}, DType::i64), zeros({2}, DType::i64), 0.5), "lerp");
  REQUIRE_THROWS_OP(lerp(t, t, zeros({5})), "lerp");
  REQUIRE_THROWS_OP(addcmul(t, t, zeros({4})), "addcmul");
  REQUIRE_THROWS_OP(addcdiv(zeros({2}, DType::i64), zeros({2}, DType::i64), ones({2}, DType::i64)), "addcdiv");
  REQUIRE_THROWS_OP(addcdiv(t, Tensor(), t), "addcdiv");
  REQUIRE_THROWS_OP(fmod(from_vector<int64_t>({1, 2}), from_vector<int64_t>({1, 0})), "fmod");
  REQUIRE_THROWS_OP(remainder(from_vector<int32_t>({1}), 0.0), "remainder");
  REQUIRE_THROWS_OP(fmod(b, b), "fmod");
  REQUIRE_THROWS_OP(remainder(t, zeros({3, 3})), "remainder");
}
