// Tests for ops/loss.h. Reference numbers were computed once with PyTorch 1.13 (float64,
// torch.nn.functional with the same arguments) and written here as literals; simple ones are
// also derivable by hand (noted where so).
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::f64;
using ember::test::values;

namespace {
Tensor logits43() { return from_vector<double>({1.0, 2.0, 0.5, -1.0, 0.0, 3.0, 0.2, 0.2, -0.4, 2.0, -2.0, 1.0}, {4, 3}); }
Tensor targets4() { return from_vector<int64_t>({2, 0, -100, 1}); }
Tensor class_weight() { return from_vector<double>({0.5, 2.0, 1.0}); }
}  // namespace

TEST_CASE("cross_entropy with class indices matches PyTorch", "[ops][nn][loss]") {
  Tensor x = logits43(), t = targets4(), w = class_weight();
  // F.cross_entropy(x, t, ...) in PyTorch 1.13, float64.
  REQUIRE(cross_entropy(x, t).item<double>() == Approx(3.452271776377615).epsilon(1e-12));
  REQUIRE(cross_entropy(x, t, {}, -100, "sum").item<double>() == Approx(10.356815329132845).epsilon(1e-12));
  REQUIRE(all_close(cross_entropy(x, t, {}, -100, "none"), {1.964368784107945, 4.065883903757429, 0.0, 4.32656264126747},
                    1e-12));
  REQUIRE(cross_entropy(x, t, w).item<double>() == Approx(3.614410291006172).epsilon(1e-12));
  REQUIRE(cross_entropy(x, t, w, -100, "mean", 0.1).item<double>() == Approx(3.46248215382903).epsilon(1e-12));
  REQUIRE(cross_entropy(x, t, {}, -100, "sum", 0.3).item<double>() == Approx(8.956815329132844).epsilon(1e-12));
  REQUIRE(all_close(cross_entropy(x, t, {}, -100, "none", 0.3),
                    {1.764368784107945, 3.565883903757429, 0.0, 3.62656264126747}, 1e-12));
  REQUIRE(cross_entropy(x, t, {}, -100, "mean", 0.3).item<double>() == Approx(2.985605109710948).epsilon(1e-12));
  // nll_loss on log_softmax is the same thing: weighted sum.
  REQUIRE(nll_loss(log_softmax(x, 1), t, w, -100, "sum").item<double>() == Approx(12.650436018521601).epsilon(1e-12));
  // By hand: one sample, uniform logits -> log(C).
  REQUIRE(cross_entropy(zeros({1, 4}, DType::f64), from_vector<int64_t>({3})).item<double>() ==
          Approx(std::log(4.0)).epsilon(1e-14));
  // A (C) input with a 0-d target, int32 targets, a custom ignore_index.
  REQUIRE(cross_entropy(zeros({4}, DType::f64), scalar_tensor(1, DType::i64)).item<double>() ==
          Approx(std::log(4.0)).epsilon(1e-14));
  REQUIRE(cross_entropy(x, from_vector<int32_t>({2, 0, 1, 1}), {}, 1, "sum").item<double>() ==
          Approx(1.964368784107945 + 4.065883903757429).epsilon(1e-12));
  // Every target ignored: mean is 0/0 = NaN, as in PyTorch.
  REQUIRE(std::isnan(cross_entropy(x, from_vector<int64_t>({-100, -100, -100, -100})).item<double>()));
}

TEST_CASE("cross_entropy with spatial dims and with probability targets matches PyTorch", "[ops][nn][loss]") {
  // xs = sin(arange(12)).reshape(2, 3, 2), targets (2, 2) with one ignored.
  Tensor xs = from_vector<double>({0.0, 0.8414709848078965, 0.9092974268256817, 0.1411200080598672, -0.7568024953079282,
                                   -0.9589242746631385, -0.27941549819892586, 0.6569865987187891, 0.9893582466233818,
                                   0.4121184852417566, -0.5440211108893698, -0.9999902065507035},
                                  {2, 3, 2});
  Tensor ts = from_vector<int64_t>({0, 2, 1, -100}, {2, 2});
  REQUIRE(cross_entropy(xs, ts, class_weight()).item<double>() == Approx(1.086337896425542).epsilon(1e-12));
  Tensor none = cross_entropy(xs, ts, {}, -100, "none", 0.2);
  REQUIRE(none.sizes() == Shape{2, 2});
  REQUIRE(all_close(none, {1.363990143795264, 2.114840463956116, 0.590260857375065, 0.0}, 1e-12));
  // Probability targets.
  Tensor x = logits43();
  Tensor pt = from_vector<double>({0.2, 0.3, 0.5, 1, 0, 0, 0.1, 0.1, 0.8, 0, 0.5, 0.5}, {4, 3});
  REQUIRE(cross_entropy(x, pt).item<double>() == Approx(2.430610638654646).epsilon(1e-12));
  REQUIRE(all_close(cross_entropy(x, pt, class_weight(), -100, "none", 0.2),
                    {1.367480082368814, 2.175059805713039, 1.428239888688029, 4.668073119150041}, 1e-12));
}

TEST_CASE("cross_entropy / nll_loss gradients", "[ops][nn][loss]") {
  Tensor x = ember::test::rand64({4, 3}, 51, -2, 2);
  Tensor t = targets4(), w = class_weight();
  for (std::string reduction : {"mean", "sum", "none"}) {
    for (double smoothing : {0.0, 0.25}) {
      auto f = [&](const TensorList& in) -> TensorList {
        return {cross_entropy(in[0], t, w, -100, reduction, smoothing), cross_entropy(in[0], t, {}, -100, reduction, smoothing)};
      };
      REQUIRE(gradcheck(f, {x}));
      REQUIRE(gradgradcheck(f, {x}));
    }
  }
  REQUIRE(gradcheck([&](const TensorList& in) -> TensorList { return {cross_entropy(in[0], t)}; }, {x.t().contiguous().t()}));
  Tensor xt = ember::test::rand64({3, 4}, 52);
  REQUIRE(gradcheck([&](const TensorList& in) -> TensorList { return {cross_entropy(in[0].t(), t, w)}; }, {xt}));
  // Spatial (N, C, d1, d2) and probability targets (differentiable in the target too).
  Tensor xs = ember::test::rand64({2, 3, 2, 2}, 53);
  Tensor ts = from_vector<int64_t>({0, 2, 1, -100, 1, 1, 0, 2}, {2, 2, 2});
  auto fs = [&](const TensorList& in) -> TensorList {
    return {cross_entropy(in[0], ts, w, -100, "mean", 0.1), nll_loss(in[0], ts, {}, -100, "none")};
  };
  REQUIRE(gradcheck(fs, {xs}));
  REQUIRE(gradgradcheck(fs, {xs}));
  Tensor probs = ember::test::rand64({4, 3}, 54, 0.0, 1.0);
  auto fp = [&](const TensorList& in) -> TensorList { return {cross_entropy(in[0], in[1], w, -100, "mean", 0.2)}; };
  REQUIRE(gradcheck(fp, {x, probs}));
  REQUIRE(gradgradcheck(fp, {x, probs}));
  // By hand: d CE / d logits = softmax - onehot, over the mean's count.
  Tensor leaf = zeros({1, 2}, TensorOptions(DType::f64).requires_grad(true));
  cross_entropy(leaf, from_vector<int64_t>({1})).backward();
  REQUIRE(all_close(leaf.grad(), {0.5, -0.5}, 1e-14));
}

TEST_CASE("cross_entropy fused kernels agree with log_softmax + nll_loss, both backward paths", "[ops][nn][loss]") {
  Generator gen(9);
  Tensor x = randn({37, 23}, gen, DType::f64).mul_(3.0).requires_grad_(true);  // C = 23: lanes + tail
  Tensor t = randint(0, 23, {37}, gen);
  t.select(0, 5).fill_(-100);
  Tensor w = ember::test::rand64({23}, 55, 0.5, 2.0).detach();
  Tensor g = ember::test::rand64({37}, 56).detach();
  Tensor fused = cross_entropy(x, t, w, -100, "none");
  Tensor composed = nll_loss(log_softmax(x, 1), t, w, -100, "none");
  REQUIRE(all_close(fused, composed, 1e-12, 1e-13));
  Tensor fused_grad = autograd::grad({fused}, {x}, {g}, /*retain_graph=*/true, /*create_graph=*/false)[0];
  Tensor graph_grad = autograd::grad({fused}, {x}, {g}, /*retain_graph=*/false, /*create_graph=*/true)[0];
  Tensor reference = autograd::grad({composed}, {x}, {g})[0];
  REQUIRE(graph_grad.requires_grad());
  REQUIRE(all_close(fused_grad, reference, 1e-12, 1e-13));
  REQUIRE(all_close(graph_grad.detach(), reference, 1e-12, 1e-13));
  REQUIRE(values(fused_grad.select(0, 5)) == std::vector<double>(23, 0.0));  // ignored row
  // float32 logits of large magnitude stay finite.
  Tensor big = from_vector<float>({1000, -1000, 0}, {1, 3});
  REQUIRE(cross_entropy(big, from_vector<int64_t>({0})).item<float>() == Approx(0.0f).margin(1e-6));
  REQUIRE(cross_entropy(big, from_vector<int64_t>({1})).item<float>() == Approx(2000.0f));
}

TEST_CASE("regression losses match PyTorch", "[ops][nn][loss]") {
  Tensor a = from_vector<double>({0.5, -1.0, 2.0, 0.0});
  Tensor b = from_vector<double>({1.0, 1.0, -0.5, 0.2});
  // By hand: differences -0.5, -2, 2.5, -0.2.
  REQUIRE(mse_loss(a, b).item<double>() == Approx((0.25 + 4 + 6.25 + 0.04) / 4).epsilon(1e-14));
  REQUIRE(l1_loss(a, b, "sum").item<double>() == Approx(5.2).epsilon(1e-14));
  REQUIRE(all_close(l1_loss(a, b, "none"), {0.5, 2, 2.5, 0.2}, 1e-14));
  // PyTorch: F.smooth_l1_loss(beta=0.5), F.huber_loss(delta=1.5), reduction='none'.
  REQUIRE(all_close(smooth_l1_loss(a, b, "none", 0.5), {0.25, 1.75, 2.25, 0.04}, 1e-12));
  REQUIRE(all_close(huber_loss(a, b, "none", 1.5), {0.125, 1.875, 2.625, 0.02}, 1e-12));
  REQUIRE(all_close(smooth_l1_loss(a, b, "none", 0.0), {0.5, 2, 2.5, 0.2}, 1e-14));  // beta 0 is l1
  REQUIRE(mse_loss(from_vector<float>({1, 2}), from_vector<float>({0, 0})).dtype() == DType::f32);

  Tensor x = f64({0.5, -1.0, 2.0, 0.3, 1.2, -0.7}, {2, 3});
  Tensor y = f64({1.0, 1.0, -0.5, 0.9, 1.1, 0.2}, {2, 3});  // no difference sits on a kink
  for (std::string reduction : {"mean", "sum", "none"}) {
    auto f = [&](const TensorList& in) -> TensorList {
      return {mse_loss(in[0], in[1], reduction), l1_loss(in[0], in[1], reduction),
              smooth_l1_loss(in[0], in[1], reduction, 0.8), huber_loss(in[0], in[1], reduction, 1.3)};
    };
    REQUIRE(gradcheck(f, {x, y}));
    REQUIRE(gradgradcheck(f, {x, y}));
    REQUIRE(gradcheck(f, {x.t(), y.t()}));  // non-contiguous
  }
}

TEST_CASE("binary cross-entropy losses match PyTorch", "[ops][nn][loss]") {
  Tensor p = from_vector<double>({0.1, 0.9, 0.5, 0.0, 1.0});
  Tensor t = from_vector<double>({0.0, 1.0, 0.3, 1.0, 1.0});
  // F.binary_cross_entropy: log clamped at -100, so p = 0 with t = 1 costs exactly 100.
  REQUIRE(all_close(binary_cross_entropy(p, t, {}, "none"), {0.105360515657826, 0.105360515657826, 0.693147180559945, 100.0, 0.0},
                    1e-12));
  REQUIRE(binary_cross_entropy(p, t, from_vector<double>({1, 2, 0.5, 1, 3})).item<double>() ==
          Approx(20.13253102745069).epsilon(1e-12));
  Tensor logits = from_vector<double>({0.5, -2.0, 30.0, -40.0, 1.0, 0.0}, {2, 3});
  Tensor targets = from_vector<double>({1.0, 0.0, 0.0, 1.0, 0.5, 1.0}, {2, 3});
  Tensor pos_weight = from_vector<double>({2.0, 0.5, 1.5});
  // F.binary_cross_entropy_with_logits; large |logits| stay finite.
  REQUIRE(all_close(binary_cross_entropy_with_logits(logits, targets, {}, {}, "none"),
                    {0.474076984180107, 0.126928011042973, 30.000000000000092, 40.0, 0.813261687518223, 0.693147180559945},
                    1e-12));
  REQUIRE(all_close(binary_cross_entropy_with_logits(logits, targets, {}, pos_weight, "none"),
                    {0.948153968360213, 0.126928011042973, 30.000000000000092, 80.0, 0.734946265638667, 1.039720770839918},
                    1e-12));
  REQUIRE(binary_cross_entropy_with_logits(logits, targets, from_vector<double>({1.0, 2.0, 3.0}), pos_weight)
              .item<double>() == Approx(29.298510805707252).epsilon(1e-12));
  Tensor big = from_vector<float>({1000.0f, -1000.0f});
  REQUIRE(all_close(binary_cross_entropy_with_logits(big, from_vector<float>({1, 0}), {}, {}, "none"), {0, 0}));

  Tensor pp = ember::test::rand64({2, 3}, 61, 0.1, 0.9);
  Tensor tt = ember::test::rand64({2, 3}, 62, 0.0, 1.0);
  Tensor wt = ember::test::rand64({3}, 63, 0.5, 2.0);
  auto f = [&](const TensorList& in) -> TensorList {
    return {binary_cross_entropy(in[0], in[1], wt), binary_cross_entropy(in[0], in[1], {}, "none")};
  };
  REQUIRE(gradcheck(f, {pp, tt}));
  REQUIRE(gradgradcheck(f, {pp, tt}));
  Tensor xl = ember::test::rand64({2, 3}, 64, -3, 3);
  Tensor pw = ember::test::rand64({3}, 65, 0.5, 2.0);
  auto g = [&](const TensorList& in) -> TensorList {
    return {binary_cross_entropy_with_logits(in[0], in[1], wt, in[2], "sum"),
            binary_cross_entropy_with_logits(in[0], in[1], {}, {}, "none")};
  };
  REQUIRE(gradcheck(g, {xl, tt, pw}));
  REQUIRE(gradgradcheck(g, {xl, tt, pw}));
  REQUIRE(gradcheck(g, {xl.t().contiguous().t(), tt, pw}));
}

TEST_CASE("kl_div matches PyTorch", "[ops][nn][loss]") {
  // input = log([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]).
  Tensor probs = from_vector<double>({0.2, 0.3, 0.5, 0.6, 0.3, 0.1}, {2, 3});
  Tensor input = from_vector<double>({std::log(0.2), std::log(0.3), std::log(0.5), std::log(0.6), std::log(0.3), std::log(0.1)}, {2, 3});
  Tensor target = from_vector<double>({0.1, 0.0, 0.9, 0.3, 0.3, 0.4}, {2, 3});
  REQUIRE(all_close(kl_div(input, target, "none"),
                    {-0.069314718055995, 0.0, 0.529007998411907, -0.207944154167984, 0.0, 0.554517744447956}, 1e-12));
  REQUIRE(kl_div(input, target, "batchmean").item<double>() == Approx(0.403133435317943).epsilon(1e-12));
  Tensor log_t = from_vector<double>({std::log(0.1), std::log(0.2), std::log(0.7), std::log(0.3), std::log(0.3), std::log(0.4)}, {2, 3});
  REQUIRE(kl_div(input, log_t, "sum", true).item<double>() == Approx(0.431696416237194).epsilon(1e-12));
  REQUIRE(kl_div(input, target, "mean").item<double>() == Approx(0.403133435317943 * 2 / 6).epsilon(1e-12));

  Tensor x = ember::test::rand64({2, 3}, 71, -2, 0);
  Tensor tp = ember::test::rand64({2, 3}, 72, 0.1, 1.0);
  Tensor tl = ember::test::rand64({2, 3}, 73, -2, 0);
  auto f = [&](const TensorList& in) -> TensorList {
    return {kl_div(in[0], in[1], "batchmean"), kl_div(in[0], in[2], "none", true), kl_div(in[0], in[1], "sum")};
  };
  REQUIRE(gradcheck(f, {x, tp, tl}));
  REQUIRE(gradgradcheck(f, {x, tp, tl}));
}

TEST_CASE("loss bad input", "[ops][nn][loss][errors]") {
  Tensor x = logits43(), t = targets4();
  REQUIRE_THROWS_OP(cross_entropy(x, t, {}, -100, "avg"), "cross_entropy");
  REQUIRE_THROWS_OP(cross_entropy(x, from_vector<int64_t>({0, 1, 2})), "cross_entropy");
  REQUIRE_THROWS_WITH(cross_entropy(x, from_vector<int64_t>({0, 3, 1, 1})),
                      Catch::Matchers::Contains("cross_entropy") && Catch::Matchers::Contains("target 3"));
  REQUIRE_THROWS_OP(cross_entropy(x, from_vector<int64_t>({0, -1, 1, 1})), "cross_entropy");
  REQUIRE_THROWS_OP(cross_entropy(x, t, from_vector<double>({1, 2})), "cross_entropy");
  REQUIRE_THROWS_OP(cross_entropy(x, t, {}, -100, "mean", 1.5), "cross_entropy");
  REQUIRE_THROWS_OP(cross_entropy(x, zeros({4, 2}, DType::f64)), "cross_entropy");
  REQUIRE_THROWS_OP(cross_entropy(from_vector<int64_t>({1, 2}, {1, 2}), from_vector<int64_t>({0})), "cross_entropy");
  REQUIRE_THROWS_OP(nll_loss(x, from_vector<double>({0, 1, 2, 0})), "nll_loss");
  REQUIRE_THROWS_OP(nll_loss(zeros({2, 3, 4}), zeros({2, 3}, DType::i64)), "nll_loss");
  REQUIRE_THROWS_OP(nll_loss(zeros({3}), zeros({1}, DType::i64)), "nll_loss");
  REQUIRE_THROWS_OP(nll_loss(Tensor(), t), "nll_loss");
  REQUIRE_THROWS_OP(mse_loss(zeros({3}), zeros({4})), "mse_loss");
  REQUIRE_THROWS_OP(mse_loss(zeros({3}), zeros({3}), "batchmean"), "mse_loss");
  REQUIRE_THROWS_OP(l1_loss(zeros({3}, DType::i64), zeros({3}, DType::i64)), "l1_loss");
  REQUIRE_THROWS_OP(smooth_l1_loss(zeros({3}), zeros({3}), "mean", -1.0), "smooth_l1_loss");
  REQUIRE_THROWS_OP(huber_loss(zeros({3}), zeros({3}), "mean", 0.0), "huber_loss");
  REQUIRE_THROWS_OP(binary_cross_entropy(from_vector<double>({0.5, 1.5}), zeros({2}, DType::f64)), "binary_cross_entropy");
  REQUIRE_THROWS_OP(binary_cross_entropy(full({2}, 0.5), zeros({2}), zeros({3})), "binary_cross_entropy");
  REQUIRE_THROWS_OP(binary_cross_entropy_with_logits(zeros({2, 3}), zeros({3})), "binary_cross_entropy_with_logits");
  REQUIRE_THROWS_OP(binary_cross_entropy_with_logits(zeros({2, 3}), zeros({2, 3}), {}, zeros({2})),
                    "binary_cross_entropy_with_logits");
  REQUIRE_THROWS_OP(kl_div(zeros({2}), zeros({2}), "avg"), "kl_div");
  REQUIRE_THROWS_OP(kl_div(zeros({2}), zeros({3})), "kl_div");
}
