// Tests for ops/dropout.h: masks follow the Philox stream (same seed, same mask), scaling,
// edge probabilities, gradients through the saved mask, bad input.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

TEST_CASE("dropout mask follows the generator and scales survivors", "[ops][nn][dropout]") {
  Tensor x = ones({40, 50}, DType::f64);
  Generator g1(123), g2(123), g_ref(123);
  Tensor a = dropout(x, 0.3, true, g1);
  Tensor b = dropout(x, 0.3, true, g2);
  REQUIRE(values(a) == values(b));                       // same seed, same mask
  REQUIRE(g1.state().offset == 2000);                    // one Philox block per element
  // The mask is bernoulli(1 - p) drawn from the same generator state.
  Tensor keep = bernoulli({40, 50}, 0.7, g_ref, DType::f64);
  REQUIRE(all_close(a, values(keep / 0.7), 1e-15, 0));
  int64_t kept = 0;
  for (double v : values(a)) {
    REQUIRE((v == 0.0 || v == Approx(1.0 / 0.7)));
    kept += v != 0.0;
  }
  REQUIRE(kept > 1300);  // ~1400 expected; 1300 is > 4 standard deviations away
  REQUIRE(kept < 1500);
  // The next call continues the stream: a different mask.
  REQUIRE(values(dropout(x, 0.3, true, g1)) != values(a));
  // float32 and a non-contiguous input: values are x * mask in x's logical order.
  Generator g3(5), g4(5);
  Tensor xt = arange(1, 13, 1, DType::f32).reshape({3, 4}).t();
  Tensor d = dropout(xt, 0.5, true, g3);
  Tensor m = bernoulli({4, 3}, 0.5, g4, DType::f32);
  REQUIRE(all_close(d, values(xt * m * 2.0)));
}

TEST_CASE("dropout edge cases: eval, p = 0, p = 1", "[ops][nn][dropout]") {
  Tensor x = from_vector<double>({1, 2, 3});
  REQUIRE(dropout(x, 0.5, false).is_same(x));
  REQUIRE(dropout(x, 0.0, true).is_same(x));
  Generator gen(1);
  REQUIRE(values(dropout(x, 1.0, true, gen)) == std::vector<double>{0, 0, 0});
  manual_seed(9);
  Tensor a = dropout(x, 0.5);
  manual_seed(9);
  REQUIRE(values(dropout(x, 0.5)) == values(a));  // default generator is reproducible too
  REQUIRE(dropout(zeros({0, 2}), 0.5).sizes() == Shape{0, 2});
}

TEST_CASE("dropout backward multiplies by the saved mask; double backward", "[ops][nn][dropout]") {
  Tensor x = ember::test::rand64({6, 5}, 41);
  Generator gen(77);
  Tensor y = dropout(x, 0.4, true, gen);
  y.backward(ones({6, 5}, DType::f64));
  // grad = mask / keep = y / x elementwise.
  REQUIRE(all_close(x.grad(), values(div(y, x).detach()), 1e-12, 1e-12));
  // A fixed generator state in each call makes the function deterministic for gradcheck.
  auto f = [](const TensorList& in) -> TensorList {
    Generator g(11);
    return {dropout(in[0], 0.3, true, g)};
  };
  REQUIRE(gradcheck(f, {x}));
  REQUIRE(gradcheck(f, {x.t()}));
  REQUIRE(gradgradcheck(f, {x}));
}

TEST_CASE("drop_path drops whole samples", "[ops][nn][dropout]") {
  Tensor x = ones({64, 3, 2}, DType::f64);
  Generator gen(8), ref(8);
  Tensor y = drop_path(x, 0.25, true, true, gen);
  Tensor keep = bernoulli({64, 1, 1}, 0.75, ref, DType::f64);
  REQUIRE(all_close(y, values((keep / 0.75).expand({64, 3, 2}).contiguous()), 1e-15, 0));
  Generator gen2(8);
  Tensor unscaled = drop_path(x, 0.25, true, false, gen2);
  REQUIRE(all_close(unscaled, values(keep.expand({64, 3, 2}).contiguous()), 0, 0));
  REQUIRE(drop_path(x, 0.25, false).is_same(x));
  REQUIRE(drop_path(x, 0.0, true).is_same(x));
  Generator gen3(1);
  REQUIRE(sum(drop_path(x, 1.0, true, true, gen3)).item<double>() == 0.0);
  Tensor xs = ember::test::rand64({4, 3}, 42);
  auto f = [](const TensorList& in) -> TensorList {
    Generator g(3);
    return {drop_path(in[0], 0.5, true, true, g)};
  };
  REQUIRE(gradcheck(f, {xs}));
  REQUIRE(gradgradcheck(f, {xs}));
}

TEST_CASE("dropout bad input", "[ops][nn][dropout][errors]") {
  Tensor x = zeros({3});
  REQUIRE_THROWS_OP(dropout(x, -0.1), "dropout");
  REQUIRE_THROWS_OP(dropout(x, 1.5), "dropout");
  REQUIRE_THROWS_OP(dropout(from_vector<int64_t>({1, 2}), 0.5), "dropout");
  REQUIRE_THROWS_OP(dropout(Tensor(), 0.5), "dropout");
  REQUIRE_THROWS_OP(drop_path(x, 2.0, true), "drop_path");
  REQUIRE_THROWS_OP(drop_path(scalar_tensor(1.0), 0.5, true), "drop_path");
  REQUIRE_THROWS_OP(drop_path(from_vector<int32_t>({1}), 0.5, true), "drop_path");
}
