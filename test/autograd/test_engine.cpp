// The backward engine: graph shapes, retain_graph, double backward, hooks, modes, errors.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::f64;
using ember::test::values;

TEST_CASE("gradients of a diamond graph meet and sum", "[autograd]") {
  // y = a*x, z = x + y, out = sum(z * y) => d out/dx = sum over elements of d/dx (x + a x)(a x)
  Tensor x = f64({1, 2, 3}, {3});
  Tensor y = x * 2.0;
  Tensor z = x + y;
  Tensor out = sum(z * y);
  out.backward();
  // out = sum(3x * 2x) = 6 sum(x^2) => grad = 12 x
  REQUIRE(all_close(x.grad(), {12, 24, 36}));
}

TEST_CASE("shared subgraph used twice and leaf used by two ops", "[autograd]") {
  Tensor a = f64({2}, {1});
  Tensor b = f64({5}, {1});
  Tensor s = a * b;           // shared
  Tensor out = sum(s * s + s * a);  // a^2 b^2 + a^2 b
  out.backward();
  REQUIRE(all_close(a.grad(), {2 * 2 * 25 + 2 * 2 * 5}));  // 2ab^2 + 2ab
  REQUIRE(all_close(b.grad(), {2 * 4 * 5 + 4}));           // 2a^2 b + a^2
}

TEST_CASE("gradients accumulate across backward calls; retain_graph", "[autograd]") {
  Tensor x = f64({3}, {1});
  Tensor y = sum(x * x);
  y.backward(Tensor(), /*retain_graph=*/true);
  REQUIRE(all_close(x.grad(), {6}));
  y.backward();
  REQUIRE(all_close(x.grad(), {12}));
  // The graph's saved tensors are freed now: a third backward is a clear error.
  REQUIRE_THROWS_WITH(y.backward(), Catch::Matchers::Contains("second time"));
  x.zero_grad();
  REQUIRE_FALSE(x.grad().defined());
}

TEST_CASE("functional grad with allow_unused and create_graph", "[autograd]") {
  Tensor x = f64({1, 2}, {2});
  Tensor w = f64({3, 4}, {2});
  Tensor unused = f64({1}, {1});
  Tensor y = sum(x * x * w);
  TensorList g = autograd::grad({y}, {x, w}, {}, /*retain_graph=*/true);
  REQUIRE(all_close(g[0], {6, 16}));  // 2 x w
  REQUIRE(all_close(g[1], {1, 4}));   // x^2
  REQUIRE_FALSE(x.grad().defined());  // functional mode touches no .grad
  REQUIRE_THROWS_WITH(autograd::grad({y}, {unused}, {}, true), Catch::Matchers::Contains("not used"));
  TensorList gu = autograd::grad({y}, {unused}, {}, true, false, /*allow_unused=*/true);
  REQUIRE_FALSE(gu[0].defined());
}

TEST_CASE("double backward: Hessian-vector product matches the hand-derived one", "[autograd][double]") {
  // f(w) = sum(exp(a ⊙ w) ⊙ w). df/dw_i = exp(a_i w_i)(1 + a_i w_i),
  // d2f/dw_i^2 = a_i exp(a_i w_i)(2 + a_i w_i); the Hessian is diagonal.
  std::vector<double> a_v{0.5, -1.0, 2.0}, w_v{0.3, 0.7, -0.2}, v_v{1.0, -2.0, 0.5};
  Tensor a = f64(a_v, {3}, false);
  Tensor w = f64(w_v, {3});
  Tensor v = f64(v_v, {3}, false);
  Tensor f = sum(exp(a * w) * w);
  TensorList g = autograd::grad({f}, {w}, {}, true, /*create_graph=*/true);
  REQUIRE(g[0].requires_grad());
  TensorList hv = autograd::grad({sum(g[0] * v)}, {w});
  std::vector<double> expected;
  for (int i = 0; i < 3; ++i)
    expected.push_back(a_v[i] * std::exp(a_v[i] * w_v[i]) * (2 + a_v[i] * w_v[i]) * v_v[i]);
  REQUIRE(all_close(hv[0], expected, 1e-10, 1e-12));
}

TEST_CASE("hooks replace gradients; retain_grad keeps non-leaf grads", "[autograd][hooks]") {
  Tensor x = f64({1, 2}, {2});
  Tensor y = x * 3.0;
  y.retain_grad();
  std::vector<double> seen;
  y.register_hook([&](const Tensor& g) {
    seen = values(g);
    return g * 2.0;  // doubles the gradient flowing to x
  });
  const size_t removed = x.register_hook([](const Tensor& g) { return g * 100.0; });
  x.remove_hook(removed);
  sum(y).backward();
  REQUIRE(seen == std::vector<double>{1, 1});
  REQUIRE(all_close(x.grad(), {6, 6}));
  REQUIRE(y.grad().defined());
}

TEST_CASE("no_grad, detach and requires_grad propagation", "[autograd]") {
  Tensor x = f64({1, 2}, {2});
  {
    NoGradGuard guard;
    Tensor y = x * 2.0;
    REQUIRE_FALSE(y.requires_grad());
    {
      EnableGradGuard enable;
      REQUIRE((x * 2.0).requires_grad());
    }
  }
  Tensor d = x.detach();
  REQUIRE_FALSE(d.requires_grad());
  REQUIRE(d.storage() == x.storage());
  REQUIRE((x * 2.0).requires_grad());
  REQUIRE_FALSE((d * 2.0).requires_grad());
  REQUIRE((x * 2.0).grad_fn()->name() == "MulBackward");
}

TEST_CASE("in-place change of a saved tensor is an error naming the op", "[autograd][version]") {
  Tensor x = f64({1, 2}, {2});
  Tensor y = x * 1.0;
  Tensor z = y * y;  // saves y
  y.add_(1.0);
  REQUIRE_THROWS_WITH(sum(z).backward(), Catch::Matchers::Contains("mul") && Catch::Matchers::Contains("in-place"));
}

TEST_CASE("in-place ops on non-leaves are differentiated; on leaves they are refused", "[autograd][inplace]") {
  Tensor x = f64({1, 2, 3}, {3});
  REQUIRE_THROWS_WITH(x.add_(1.0), Catch::Matchers::Contains("leaf"));
  {
    NoGradGuard guard;
    x.mul_(1.0);  // allowed: optimizers update parameters this way
  }
  Tensor y = x * 2.0;
  y.mul_(x);  // y = 2x^2
  y.add_(x);  // 2x^2 + x
  sum(y).backward();
  REQUIRE(all_close(x.grad(), {5, 9, 13}));  // 4x + 1
}

TEST_CASE("anomaly mode names the forward op that produced NaN", "[autograd][anomaly]") {
  Tensor x = f64({0.0}, {1});
  DetectAnomalyGuard anomaly;
  Tensor y = sqrt(x);  // d sqrt at 0 is inf
  REQUIRE_THROWS_WITH(sum(y * 0.0 + y).backward(), Catch::Matchers::Contains("SqrtBackward") &&
                                                   Catch::Matchers::Contains("sqrt"));
}

TEST_CASE("backward needs a scalar or an explicit gradient", "[autograd]") {
  Tensor x = f64({1, 2}, {2});
  Tensor y = x * 2.0;
  REQUIRE_THROWS_WITH(y.backward(), Catch::Matchers::Contains("one-element"));
  y.backward(ones({2}, DType::f64));
  REQUIRE(all_close(x.grad(), {2, 2}));
  REQUIRE_THROWS_WITH(zeros({1}).backward(), Catch::Matchers::Contains("does not require grad"));
}

TEST_CASE("gradcheck and gradgradcheck of arithmetic with broadcast and non-contiguous inputs", "[autograd][gradcheck]") {
  Tensor a = ember::test::rand64({3, 4}, 1);
  Tensor b = ember::test::rand64({4}, 2, 0.5, 2.0);
  Tensor c = ember::test::rand64({4, 3}, 3).t();  // non-contiguous (3, 4)
  Tensor e = ember::test::rand64({1, 4}, 4).expand({3, 4});  // expanded view
  auto f = [](const TensorList& in) -> TensorList {
    return {(in[0] * in[1] - in[2]) / in[1] + in[3] * in[0], neg(in[2]) - 2.0};
  };
  REQUIRE(gradcheck(f, {a, b, c, e}));
  REQUIRE(gradgradcheck(f, {a, b, c, e}));
  auto views = [](const TensorList& in) -> TensorList {
    const Tensor& x = in[0];
    return {x.permute({1, 0}).reshape({2, 6}).slice(1, 1, 6, 2).unsqueeze(0).expand({2, 2, 3}) * 1.5,
            x.select(1, 2).flatten() + sum(x.narrow(0, 1, 1).squeeze(0))};
  };
  REQUIRE(gradcheck(views, {a}));
  REQUIRE(gradgradcheck(views, {a}));
}

TEST_CASE("gradcheck catches a wrong backward formula", "[autograd][gradcheck]") {
  auto wrong = [](const TensorList& in) -> TensorList {
    Tensor out = in[0].detach() * 2.0;
    record_backward("wrong_double", {in[0]}, {out}, {}, [](BackwardContext& ctx) -> TensorList {
      return {ctx.grad(0) * 3.0};  // should be 2
    });
    return {out};
  };
  REQUIRE_THROWS_WITH(gradcheck(wrong, {ember::test::rand64({3}, 9)}), Catch::Matchers::Contains("mismatch"));
}

TEST_CASE("to_dot shows ops, saved shapes and leaves", "[autograd][dot]") {
  Tensor x = f64({1, 2}, {2});
  Tensor y = sum(exp(x) * x);
  const std::string dot = to_dot(y);
  REQUIRE(dot.find("digraph") != std::string::npos);
  REQUIRE(dot.find("SumBackward") != std::string::npos);
  REQUIRE(dot.find("MulBackward") != std::string::npos);
  REQUIRE(dot.find("ExpBackward") != std::string::npos);
  REQUIRE(dot.find("AccumulateGrad") != std::string::npos);
  REQUIRE(dot.find("saved: float64[2]") != std::string::npos);
}
