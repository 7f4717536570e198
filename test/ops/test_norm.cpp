// Tests for ops/norm.h: forward values against hand-computed statistics, float64 gradcheck and
// gradgradcheck, the fused first-order backward against the differentiable (create_graph) one,
// float32 kernels against a composite of plain ops, running statistics, and bad input.
#include <cmath>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::f64;
using ember::test::rand64;
using ember::test::values;

namespace {
// Gradients of sum(out * grad_out) w.r.t. inputs through the fused kernel (create_graph = false)
// and through the differentiable formula (create_graph = true); they must agree.
void require_paths_agree(const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs,
                         const Tensor& grad_out, double rtol = 1e-10, double atol = 1e-12) {
  TensorList fused = autograd::grad({f(inputs)}, inputs, {grad_out});
  TensorList composite = autograd::grad({f(inputs)}, inputs, {grad_out}, false, /*create_graph=*/true);
  for (size_t i = 0; i < inputs.size(); ++i) {
    INFO("input " << i);
    if (i == 0) REQUIRE(composite[i].requires_grad());  // grad_bias = sum(g) is constant in x
    REQUIRE(all_close(fused[i], composite[i].detach(), rtol, atol));
  }
}
}  // namespace

TEST_CASE("layer_norm forward against hand-computed statistics", "[ops][norm]") {
  Tensor x = f64({1, 2, 3, 4, 2, 2, 2, 6}, {2, 4}, false);
  Tensor w = f64({1, -1, 2, 0.5}, {4}, false);
  Tensor b = f64({0, 1, 0, -1}, {4}, false);
  // row 0: mean 2.5, var 1.25; row 1: mean 3, var 3 (biased)
  const double s0 = 1 / std::sqrt(1.25), s1 = 1 / std::sqrt(3.0);
  REQUIRE(all_close(layer_norm(x, {4}, Tensor(), Tensor(), 0.0),
                    {-1.5 * s0, -0.5 * s0, 0.5 * s0, 1.5 * s0, -s1, -s1, -s1, 3 * s1}, 1e-12, 1e-12));
  REQUIRE(all_close(layer_norm(x, {4}, w, b, 0.0),
                    {-1.5 * s0, 0.5 * s0 + 1, 1.0 * s0, 0.75 * s0 - 1, -s1, s1 + 1, -2 * s1, 1.5 * s1 - 1}, 1e-12,
                    1e-12));
  // eps enters under the square root: x = [0, 2] with eps = 1 -> ±1/sqrt(2)
  REQUIRE(all_close(layer_norm(f64({0, 2}, {1, 2}, false), {2}, Tensor(), Tensor(), 1.0),
                    {-1 / std::sqrt(2.0), 1 / std::sqrt(2.0)}));
  // Normalising over two trailing dims pools all 8 elements: mean 2.75, var 2.1875.
  Tensor y = layer_norm(x.reshape({1, 2, 4}), {2, 4}, Tensor(), Tensor(), 0.0);
  REQUIRE(y.sizes() == Shape{1, 2, 4});
  REQUIRE(values(y)[7] == Approx((6 - 2.75) / std::sqrt(2.1875)));
}

TEST_CASE("layer_norm float32 is accurate with a large mean and matches plain ops in parallel", "[ops][norm]") {
  // 10000 + k/4 is exact in float32; a one-pass float formula would lose most digits here.
  std::vector<float> v;
  for (int k = 0; k < 8; ++k) v.push_back(10000.0f + 0.25f * static_cast<float>(k));
  Tensor y = layer_norm(from_vector<float>(v, {1, 8}), {8}, Tensor(), Tensor(), 0.0);
  // deviations (k - 3.5)/4, variance (sum of (k-3.5)^2)/8/16 = 5.25/16
  std::vector<double> expected;
  for (int k = 0; k < 8; ++k) expected.push_back((k - 3.5) / 4 / std::sqrt(5.25 / 16));
  REQUIRE(all_close(y, expected, 1e-5, 1e-5));

  // Large enough for the parallel row split and the blocked weight-gradient reduction.
  Generator gen(3);
  Tensor x = randn({130, 768}, gen).requires_grad_(true);
  Tensor w = randn({768}, gen).requires_grad_(true);
  Tensor b = randn({768}, gen).requires_grad_(true);
  Tensor g = randn({130, 768}, gen);
  Tensor out = layer_norm(x, {768}, w, b);
  autograd::backward({out}, {g});
  // Reference: the same formula with plain float64 ops.
  Tensor xd = x.detach().to(DType::f64).requires_grad_(true);
  Tensor wd = w.detach().to(DType::f64).requires_grad_(true);
  Tensor bd = b.detach().to(DType::f64).requires_grad_(true);
  Tensor centered = xd - mean(xd, {1}, true);
  Tensor ref = centered / sqrt(mean(centered * centered, {1}, true) + 1e-5) * wd + bd;
  autograd::backward({ref}, {g.to(DType::f64)});
  REQUIRE(all_close(out, ref, 1e-4, 1e-4));
  REQUIRE(all_close(x.grad(), xd.grad(), 1e-3, 1e-3));
  REQUIRE(all_close(w.grad(), wd.grad(), 1e-4, 1e-3));
  REQUIRE(all_close(b.grad(), bd.grad(), 1e-4, 1e-3));
}

TEST_CASE("layer_norm gradients: gradcheck, gradgradcheck, fused vs differentiable", "[ops][norm]") {
  Tensor x = rand64({3, 4}, 1);
  Tensor w = rand64({4}, 2);
  Tensor b = rand64({4}, 3);
  auto f = [](const TensorList& in) -> TensorList {
    return {layer_norm(in[0], {4}, in[1], in[2]), layer_norm(in[0], {4}), layer_norm(in[0], {4}, in[1])};
  };
  REQUIRE(gradcheck(f, {x, w, b}));
  REQUIRE(gradcheck(f, {rand64({4, 3}, 4).t(), w, b.expand({4})}));  // transposed input
  REQUIRE(gradcheck(f, {rand64({1, 4}, 5).expand({3, 4}), w, b}));  // expanded input
  REQUIRE(gradcheck(f, {x, rand64({1}, 22).expand({4}), rand64({8}, 23).slice(0, 0, 8, 2)}));  // strided params
  REQUIRE(gradgradcheck(f, {x, w, b}));
  Tensor x3 = rand64({2, 2, 3}, 6);
  Tensor w3 = rand64({2, 3}, 7);
  auto f3 = [](const TensorList& in) -> TensorList { return {layer_norm(in[0], {2, 3}, in[1], in[2])}; };
  REQUIRE(gradcheck(f3, {x3, w3, rand64({2, 3}, 8)}));
  REQUIRE(gradgradcheck(f3, {x3, w3, rand64({2, 3}, 8)}));

  auto single = [](const TensorList& in) { return layer_norm(in[0], {2, 3}, in[1], in[2]); };
  require_paths_agree(single, {x3, w3, rand64({2, 3}, 8)}, rand64({2, 2, 3}, 9).detach());
  require_paths_agree(single, {x3, w3, rand64({2, 3}, 8)}, full({2, 2, 3}, 0.7, DType::f64).detach());
  require_paths_agree(single, {x3, w3, rand64({2, 3}, 8)}, scalar_tensor(1.5, DType::f64).expand({2, 2, 3}));
}

TEST_CASE("rms_norm forward and gradients", "[ops][norm]") {
  // x = [3, 4]: mean square 12.5
  REQUIRE(all_close(rms_norm(f64({3, 4}, {1, 2}, false), {2}, Tensor(), 0.0),
                    {3 / std::sqrt(12.5), 4 / std::sqrt(12.5)}, 1e-12, 1e-12));
  REQUIRE(all_close(rms_norm(f64({3, 4}, {2}, false), {2}, f64({2, -1}, {2}, false), 0.0),
                    {6 / std::sqrt(12.5), -4 / std::sqrt(12.5)}, 1e-12, 1e-12));
  // Default eps is float32's machine epsilon for float32 input.
  Tensor tiny = rms_norm(from_vector<float>({0, 0}), {2});
  REQUIRE(values(tiny) == std::vector<double>{0, 0});
  REQUIRE(all_close(rms_norm(f64({1, 1}, {2}, false), {2}, Tensor(), 1.0), {1 / std::sqrt(2.0), 1 / std::sqrt(2.0)}));

  Tensor x = rand64({3, 2, 2}, 10);
  Tensor w = rand64({2, 2}, 11);
  auto f = [](const TensorList& in) -> TensorList {
    return {rms_norm(in[0], {2, 2}, in[1], 1e-3), rms_norm(in[0], {2}, Tensor(), 1e-3)};
  };
  REQUIRE(gradcheck(f, {x, w}));
  REQUIRE(gradcheck(f, {rand64({2, 2, 3}, 12).permute({2, 1, 0}), w}));
  REQUIRE(gradgradcheck(f, {x, w}));
  auto single = [](const TensorList& in) { return rms_norm(in[0], {2, 2}, in[1], 1e-3); };
  require_paths_agree(single, {x, w}, rand64({3, 2, 2}, 13).detach());
  require_paths_agree(single, {x, w}, scalar_tensor(-0.5, DType::f64).expand({3, 2, 2}));
}

TEST_CASE("group_norm forward and gradients", "[ops][norm]") {
  // channels: [1,3], [5,7] (group 0: mean 4, var 5), [0,0], [2,-2] (group 1: mean 0, var 2)
  Tensor x = f64({1, 3, 5, 7, 0, 0, 2, -2}, {1, 4, 2}, false);
  Tensor w = f64({1, 2, 3, 4}, {4}, false);
  Tensor b = f64({0, 0, 1, 1}, {4}, false);
  const double s0 = 1 / std::sqrt(5.0), s1 = 1 / std::sqrt(2.0);
  REQUIRE(all_close(group_norm(x, 2, w, b, 0.0), {-3 * s0, -1 * s0, 2 * s0, 6 * s0, 1, 1, 8 * s1 + 1, -8 * s1 + 1},
                    1e-12, 1e-12));
  // One group = layer norm over (C, L); C groups = instance norm.
  REQUIRE(all_close(group_norm(x, 1), layer_norm(x, {4, 2})));
  REQUIRE(all_close(group_norm(x.reshape({2, 4}), 2, Tensor(), Tensor(), 0.0),
                    {-1, 1, -1, 1, NAN, NAN, 1, -1}));  // (N, C) input: a zero-variance group gives NaN (eps 0)

  Tensor xg = rand64({2, 4, 3}, 14);
  Tensor wg = rand64({4}, 15);
  Tensor bg = rand64({4}, 16);
  auto f = [](const TensorList& in) -> TensorList {
    return {group_norm(in[0], 2, in[1], in[2]), group_norm(in[0], 4), group_norm(in[0].unsqueeze(3), 1, in[1])};
  };
  REQUIRE(gradcheck(f, {xg, wg, bg}));
  REQUIRE(gradcheck(f, {rand64({3, 4, 2}, 17).transpose(0, 2), wg, bg}));
  REQUIRE(gradgradcheck(f, {xg, wg, bg}));
  Tensor x4 = rand64({2, 6, 2, 2}, 18);
  auto single = [](const TensorList& in) { return group_norm(in[0], 3, in[1], in[2]); };
  REQUIRE(gradgradcheck([&](const TensorList& in) -> TensorList { return {single(in)}; },
                        {x4, rand64({6}, 19), rand64({6}, 20)}));
  require_paths_agree(single, {x4, rand64({6}, 19), rand64({6}, 20)}, rand64({2, 6, 2, 2}, 21).detach());
  require_paths_agree(single, {x4, rand64({6}, 19), rand64({6}, 20)},
                      scalar_tensor(2.0, DType::f64).expand({2, 6, 2, 2}));
}

TEST_CASE("batch_norm training: batch statistics and running-stat updates", "[ops][norm]") {
  // channel 0: [1, 2, 3] mean 2, biased var 2/3, unbiased 1
  // channel 1: [10, 20, 60] mean 30, biased var 1400/3, unbiased 700
  Tensor x = f64({1, 10, 2, 20, 3, 60}, {3, 2}, false);
  Tensor running_mean = zeros({2}, DType::f64);
  Tensor running_var = ones({2}, DType::f64);
  const uint32_t version = running_mean.version();
  Tensor y = batch_norm(x, running_mean, running_var, Tensor(), Tensor(), /*training=*/true, 0.1, 0.0);
  const double s0 = 1 / std::sqrt(2.0 / 3), s1 = 1 / std::sqrt(1400.0 / 3);
  REQUIRE(all_close(y, {-s0, -20 * s1, 0, -10 * s1, s0, 30 * s1}, 1e-12, 1e-12));
  REQUIRE(all_close(running_mean, {0.2, 3.0}, 1e-12, 1e-12));
  REQUIRE(all_close(running_var, {1.0, 70.9}, 1e-12, 1e-12));
  REQUIRE(running_mean.version() > version);
  // Running statistics may be float32 next to a float64 input, or absent altogether.
  Tensor rm32 = zeros({2}), rv32 = ones({2});
  batch_norm(x, rm32, rv32, Tensor(), Tensor(), true, 0.5, 0.0);
  REQUIRE(all_close(rm32, {1.0, 15.0}));
  REQUIRE(all_close(rv32, {1.0, 350.5}));
  REQUIRE(all_close(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 0.0), y));
  // (N, C, L): channel 0 = {0, 2, 4, 6} (mean 3, var 5), channel 1 = {1, 1, 3, 3} (mean 2, var 1)
  Tensor x3 = f64({0, 2, 1, 1, 4, 6, 3, 3}, {2, 2, 2}, false);
  Tensor w = f64({2, 1}, {2}, false), b = f64({0, 10}, {2}, false);
  const double r5 = 1 / std::sqrt(5.0);
  REQUIRE(all_close(batch_norm(x3, Tensor(), Tensor(), w, b, true, 0.1, 0.0),
                    {-6 * r5, -2 * r5, 9, 9, 2 * r5, 6 * r5, 11, 11}, 1e-12, 1e-12));
}

TEST_CASE("batch_norm eval uses running statistics", "[ops][norm]") {
  Tensor x = f64({1, 10, 2, 20, 3, 60}, {3, 2}, false);
  Tensor rm = f64({1, 2}, {2}, false), rv = f64({4, 9}, {2}, false);
  REQUIRE(all_close(batch_norm(x, rm, rv, Tensor(), Tensor(), false, 0.1, 0.0), {0, 8.0 / 3, 0.5, 6, 1, 58.0 / 3},
                    1e-12, 1e-12));
  REQUIRE(values(rm) == std::vector<double>{1, 2});  // eval leaves the running statistics alone
  Tensor xi = f64({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2}, false);
  REQUIRE(all_close(batch_norm(xi, rm, rv, f64({2, 3}, {2}, false), f64({1, 0}, {2}, false), false, 0.1, 0.0),
                    {1, 2, 3, 4, 3, 4, 5, 6}, 1e-12, 1e-12));
}

TEST_CASE("batch_norm gradients: gradcheck, gradgradcheck, fused vs differentiable", "[ops][norm]") {
  Tensor w = rand64({3}, 30), b = rand64({3}, 31);
  Tensor rm = rand64({3}, 32).detach(), rv = rand64({3}, 33, 0.5, 2.0).detach();
  auto train = [](const TensorList& in) -> TensorList {
    return {batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true), batch_norm(in[0], Tensor(), Tensor(), Tensor(),
                                                                                  Tensor(), true)};
  };
  auto eval = [rm, rv](const TensorList& in) -> TensorList { return {batch_norm(in[0], rm, rv, in[1], in[2], false)}; };
  for (Shape shape : {Shape{4, 3}, Shape{2, 3, 4}, Shape{2, 3, 2, 2}}) {
    INFO("shape " << shape_str(shape));
    Tensor x = rand64(shape, 34);
    REQUIRE(gradcheck(train, {x, w, b}));
    REQUIRE(gradgradcheck(train, {x, w, b}));
    REQUIRE(gradcheck(eval, {x, w, b}));
    REQUIRE(gradgradcheck(eval, {x, w, b}));
  }
  Tensor xt = rand64({4, 3, 2}, 35).transpose(0, 2);  // (2, 3, 4) non-contiguous
  REQUIRE(gradcheck(train, {xt, w, b}));
  REQUIRE(gradcheck(eval, {xt, w, b}));

  Tensor x = rand64({2, 3, 5}, 36);
  auto single_train = [](const TensorList& in) { return batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true); };
  auto single_eval = [rm, rv](const TensorList& in) { return batch_norm(in[0], rm, rv, in[1], in[2], false); };
  for (const Tensor& g : {rand64({2, 3, 5}, 37).detach(), scalar_tensor(0.3, DType::f64).expand({2, 3, 5})}) {
    require_paths_agree(single_train, {x, w, b}, g);
    require_paths_agree(single_eval, {x, w, b}, g);
  }
}

TEST_CASE("batch_norm float32 on a larger batch matches plain ops", "[ops][norm]") {
  Generator gen(40);
  Tensor x = (randn({8, 16, 12, 12}, gen) * 3.0 + 5.0).detach().requires_grad_(true);
  Tensor w = randn({16}, gen).requires_grad_(true);
  Tensor g = randn({8, 16, 12, 12}, gen);
  Tensor out = batch_norm(x, Tensor(), Tensor(), w, Tensor(), true);
  autograd::backward({out}, {g});
  Tensor xd = x.detach().to(DType::f64).requires_grad_(true);
  Tensor wd = w.detach().to(DType::f64).requires_grad_(true);
  Tensor centered = xd - mean(xd, {0, 2, 3}, true);
  Tensor ref = centered / sqrt(mean(centered * centered, {0, 2, 3}, true) + 1e-5) * wd.reshape({16, 1, 1});
  autograd::backward({ref}, {g.to(DType::f64)});
  REQUIRE(all_close(out, ref, 1e-4, 1e-4));
  REQUIRE(all_close(x.grad(), xd.grad(), 1e-3, 1e-4));
  REQUIRE(all_close(w.grad(), wd.grad(), 1e-4, 1e-3));

  // (N, C) input takes the column-sum path, split over channel ranges.
  Tensor x2 = (randn({300, 256}, gen) * 2.0 - 7.0).detach().requires_grad_(true);
  Tensor g2 = randn({300, 256}, gen);
  Tensor out2 = batch_norm(x2, Tensor(), Tensor(), Tensor(), Tensor(), true);
  autograd::backward({out2}, {g2});
  Tensor x2d = x2.detach().to(DType::f64).requires_grad_(true);
  Tensor c2 = x2d - mean(x2d, {0}, true);
  Tensor ref2 = c2 / sqrt(mean(c2 * c2, {0}, true) + 1e-5);
  autograd::backward({ref2}, {g2.to(DType::f64)});
  REQUIRE(all_close(out2, ref2, 1e-4, 1e-4));
  REQUIRE(all_close(x2.grad(), x2d.grad(), 1e-3, 1e-4));
}

TEST_CASE("norm bad input", "[ops][norm][errors]") {
  Tensor x = zeros({2, 4});
  REQUIRE_THROWS_OP(layer_norm(x, {3}), "layer_norm");
  REQUIRE_THROWS_OP(layer_norm(x, {}), "layer_norm");
  REQUIRE_THROWS_OP(layer_norm(x, {2, 2, 4}), "layer_norm");
  REQUIRE_THROWS_OP(layer_norm(x, {4}, zeros({3})), "layer_norm");
  REQUIRE_THROWS_OP(layer_norm(x, {4}, zeros({4}, DType::f64)), "layer_norm");
  REQUIRE_THROWS_OP(layer_norm(x, {4}, Tensor(), zeros({2, 4})), "layer_norm");
  REQUIRE_THROWS_OP(layer_norm(zeros({2, 4}, DType::i64), {4}), "layer_norm");
  REQUIRE_THROWS_OP(layer_norm(Tensor(), {4}), "layer_norm");
  REQUIRE_THROWS_OP(layer_norm(x, {4}, Tensor(), Tensor(), -1.0), "layer_norm");
  REQUIRE_THROWS_OP(rms_norm(x, {2}), "rms_norm");
  REQUIRE_THROWS_OP(rms_norm(x, {4}, zeros({2})), "rms_norm");
  REQUIRE_THROWS_OP(rms_norm(zeros({2}, DType::i32), {2}), "rms_norm");
  REQUIRE_THROWS_OP(group_norm(zeros({2, 6, 3}), 4), "group_norm");
  REQUIRE_THROWS_OP(group_norm(zeros({2, 6, 3}), 0), "group_norm");
  REQUIRE_THROWS_OP(group_norm(zeros({6}), 2), "group_norm");
  REQUIRE_THROWS_OP(group_norm(zeros({2, 6, 3}), 3, zeros({3})), "group_norm");
  REQUIRE_THROWS_OP(group_norm(zeros({2, 6, 3}), 3, Tensor(), zeros({6}, DType::f64)), "group_norm");
  Tensor rm = zeros({4}), rv = ones({4});
  REQUIRE_THROWS_OP(batch_norm(zeros({4}), rm, rv), "batch_norm");
  REQUIRE_THROWS_OP(batch_norm(x, Tensor(), Tensor()), "batch_norm");  // eval needs running stats
  REQUIRE_THROWS_OP(batch_norm(x, zeros({3}), rv), "batch_norm");
  REQUIRE_THROWS_OP(batch_norm(x, rm, zeros({4}, DType::i64)), "batch_norm");
  REQUIRE_THROWS_OP(batch_norm(zeros({1, 4}), rm, rv, Tensor(), Tensor(), true), "batch_norm");  // 1 value/channel
  REQUIRE_THROWS_OP(batch_norm(x, rm, rv, zeros({2})), "batch_norm");
  REQUIRE_THROWS_OP(batch_norm(x, rm, rv, Tensor(), zeros({4}, DType::f64)), "batch_norm");
  REQUIRE_THROWS_OP(batch_norm(zeros({2, 4}, DType::u8), rm, rv), "batch_norm");
  // Empty batches are fine where PyTorch allows them.
  REQUIRE(layer_norm(zeros({0, 4}), {4}).sizes() == Shape{0, 4});
  REQUIRE(batch_norm(zeros({0, 4}), rm, rv).sizes() == Shape{0, 4});
}
