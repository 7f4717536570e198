// Adversarial tests of the autograd engine, saved tensors, in-place ops and gradcheck itself
// (the review pass). The basic engine tests are in test_engine.cpp.
#include <pthread.h>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::f64;
using ember::test::values;

namespace {

// A two-output test op: (2x, 3x). Its backward asserts that both gradients arrive materialised.
TensorList two_outputs(const Tensor& x) {
  Tensor a, b;
  {
    NoGradGuard no_grad;
    a = x * 2.0;
    b = x * 3.0;
  }
  record_backward("two_outputs", {x}, {a, b}, {}, [](BackwardContext& ctx) -> TensorList {
    REQUIRE(ctx.grad(0).defined());
    REQUIRE(ctx.grad(1).defined());
    return {ctx.grad(0) * 2.0 + ctx.grad(1) * 3.0};
  });
  return {a, b};
}

}  // namespace

// ---------------------------------------------------------------- engine

TEST_CASE("backward with two roots where one root feeds the other", "[autograd][review]") {
  for (bool reversed : {false, true}) {
    Tensor x = f64({1, 2}, {2});
    Tensor y = x * 2.0;
    Tensor z = y * 3.0;
    Tensor gy = f64({1, 1}, {2}, false), gz = f64({1, 10}, {2}, false);
    if (reversed) {
      autograd::backward({z, y}, {gz, gy});
    } else {
      autograd::backward({y, z}, {gy, gz});
    }
    // d/dx (gy·y + gz·z) = 2 gy + 6 gz
    REQUIRE(all_close(x.grad(), {8, 62}));
  }
}

TEST_CASE("backward on a leaf itself and on the same root twice", "[autograd][review]") {
  Tensor x = f64({3}, {1});
  x.backward();
  REQUIRE(all_close(x.grad(), {1}));
  Tensor v = f64({1, 2}, {2});
  v.backward(f64({5, 7}, {2}, false));
  REQUIRE(all_close(v.grad(), {5, 7}));
  Tensor y = v * 2.0;
  autograd::backward({y, y}, {f64({1, 1}, {2}, false), f64({1, 2}, {2}, false)});
  REQUIRE(all_close(v.grad(), {5 + 4, 7 + 6}));
}

TEST_CASE("grad() w.r.t. non-leaves, repeated inputs, and inputs on the path to others", "[autograd][review]") {
  Tensor x = f64({1, 2, 3}, {3});
  Tensor y = x * x;
  Tensor z = sum(y * 3.0);
  TensorList g = autograd::grad({z}, {y}, {}, /*retain_graph=*/true);
  REQUIRE(all_close(g[0], {3, 3, 3}));
  TensorList twice = autograd::grad({z}, {y, y}, {}, true);
  REQUIRE(all_close(twice[0], {3, 3, 3}));
  REQUIRE(all_close(twice[1], {3, 3, 3}));
  // y is captured and also lies on the path from z to x.
  TensorList both = autograd::grad({z}, {y, x}, {}, true);
  REQUIRE(all_close(both[0], {3, 3, 3}));
  REQUIRE(all_close(both[1], {6, 12, 18}));
  TensorList xx = autograd::grad({z}, {x, x}, {}, true);
  REQUIRE(all_close(xx[0], {6, 12, 18}));
  REQUIRE(all_close(xx[1], {6, 12, 18}));
  REQUIRE_FALSE(x.grad().defined());
  // The output itself as an input: the seed comes back.
  TensorList self = autograd::grad({z}, {z}, {}, true);
  REQUIRE(all_close(self[0], {1}));
}

TEST_CASE("hooks and retain_grad on the second output of a multi-output node", "[autograd][review][hooks]") {
  Tensor x = f64({1, 2}, {2});
  TensorList ab = two_outputs(x);
  REQUIRE(ab[1].output_nr() == 1);
  ab[1].register_hook([](const Tensor& g) { return g * 10.0; });
  ab[1].retain_grad();
  sum(ab[1]).backward();
  REQUIRE(all_close(x.grad(), {30, 30}));  // the hook ran on slot 1; slot 0 was zero-filled
  REQUIRE(all_close(ab[1].grad(), {10, 10}));
  REQUIRE_FALSE(ab[0].grad().defined());

  // grad() captures at (node, output_nr): slot 1 gets its gradient, slot 0 (unused) none. As in
  // PyTorch the tensor's hooks (x10 above) run before the capture.
  TensorList g1 = autograd::grad({sum(ab[1] * 5.0)}, {ab[1]});
  REQUIRE(all_close(g1[0], {50, 50}));
  REQUIRE_THROWS_WITH(autograd::grad({sum(ab[1] * 5.0)}, {ab[0]}), Catch::Matchers::Contains("not used"));
  TensorList g0 = autograd::grad({sum(ab[1] * 5.0)}, {ab[0], x}, {}, false, false, /*allow_unused=*/true);
  REQUIRE_FALSE(g0[0].defined());
  REQUIRE(all_close(g0[1], {150, 150}));

  // Only the first output used: the unused second gets zeros.
  Tensor x2 = f64({1, 2}, {2});
  TensorList cd = two_outputs(x2);
  sum(cd[0] * cd[0]).backward();
  REQUIRE(all_close(x2.grad(), {8, 16}));  // d/dx (2x)^2 = 8x
}

TEST_CASE("retain_grad sees the gradient after the tensor's other hooks, summed over uses", "[autograd][review][hooks]") {
  Tensor x = f64({1, 2}, {2});
  Tensor y = x * 2.0;  // {2, 4}
  y.retain_grad();
  y.register_hook([](const Tensor& g) { return g * 2.0; });  // registered after retain_grad
  sum(y * y + y).backward();
  // dL/dy = 2y + 1 = {5, 9}; .grad of a non-leaf reflects its hooks (as in PyTorch).
  REQUIRE(all_close(y.grad(), {10, 18}));
  REQUIRE(all_close(x.grad(), {20, 36}));

  // retain_grad follows an in-place op to the new value (the gradient w.r.t. 3y, not y).
  Tensor x2 = f64({1, 2}, {2});
  Tensor y2 = x2 * 2.0;
  y2.retain_grad();
  y2.mul_(3.0);
  sum(y2 * y2).backward();
  REQUIRE(all_close(y2.grad(), {12, 24}));  // 2 * (3 * 2x)
  REQUIRE(all_close(x2.grad(), {72, 144}));  // d/dx (6x)^2 = 72x

  // With create_graph the retained gradient keeps its graph (as in PyTorch).
  Tensor x4 = f64({1, 3}, {2});
  Tensor y4 = x4 * x4;
  y4.retain_grad();
  sum(y4 * y4).backward(Tensor(), false, /*create_graph=*/true);
  REQUIRE(all_close(y4.grad(), {2, 18}));  // 2y
  REQUIRE(y4.grad().requires_grad());
  REQUIRE(all_close(autograd::grad({sum(y4.grad())}, {x4})[0], {4, 12}));  // d/dx 2x^2 = 4x
  // .grad's graph holds y4 itself (a saved input): reset it to break the cycle, as PyTorch's docs
  // ask after create_graph.
  y4.zero_grad();
  x4.zero_grad();

  // A hook may not change the gradient's shape.
  Tensor x5 = f64({1, 2}, {2});
  Tensor y5 = x5 * 2.0;
  y5.register_hook([](const Tensor& g) { return sum(g); });
  REQUIRE_THROWS_WITH(sum(y5).backward(), Catch::Matchers::Contains("hook"));
  Tensor z5 = f64({1, 2}, {2});
  z5.register_hook([](const Tensor& g) { return g.unsqueeze(0); });
  REQUIRE_THROWS_WITH(sum(z5 * 1.0).backward(), Catch::Matchers::Contains("hook"));

  // A hook may register another hook on the same tensor while it runs (it applies next time).
  Tensor x3 = f64({1}, {1});
  Tensor y3 = x3 * 1.0;
  int later_calls = 0;
  y3.register_hook([&](const Tensor&) {
    for (int k = 0; k < 8; ++k) y3.register_hook([&](const Tensor&) { ++later_calls; return Tensor(); });
    return Tensor();
  });
  sum(y3).backward(Tensor(), /*retain_graph=*/true);
  REQUIRE(later_calls == 0);
  sum(y3).backward();
  REQUIRE(later_calls == 8);
}

TEST_CASE("create_graph accumulation keeps the graph and never aliases the seed", "[autograd][review][double]") {
  Tensor x = f64({1, 2}, {2});
  Tensor y = sum(x * x * x);
  y.backward(Tensor(), true, /*create_graph=*/true);
  REQUIRE(all_close(x.grad(), {3, 12}));
  REQUIRE(x.grad().requires_grad());
  y.backward(Tensor(), true, /*create_graph=*/true);
  REQUIRE(all_close(x.grad(), {6, 24}));
  TensorList h = autograd::grad({sum(x.grad())}, {x});
  REQUIRE(all_close(h[0], {12, 24}));  // d/dx 6x^2

  // The seed reaches the leaf unchanged: .grad must be a copy, not the caller's tensor.
  Tensor w = f64({1, 2}, {2});
  Tensor seed = f64({5, 6}, {2}, false);
  w.clone().backward(seed, false, /*create_graph=*/true);
  REQUIRE_FALSE(w.grad().is_same(seed));
  REQUIRE(w.grad().storage() != seed.storage());
  w.zero_grad(/*set_to_none=*/false);
  REQUIRE(all_close(seed, {5, 6}));
  // An expanded gradient (backward of sum) must not be stored as a stride-0 alias either.
  Tensor u = f64({1, 2, 3}, {3});
  Tensor s = f64({4}, {}, false);
  sum(u).backward(s.reshape({}), false, true);
  REQUIRE(u.grad().is_contiguous());
  u.zero_grad(false);
  REQUIRE(all_close(s, {4}));
}

TEST_CASE("third derivative of x^4 through .grad and through grad()", "[autograd][review][double]") {
  const double v = 1.5;
  {
    Tensor x = f64({v}, {1});
    Tensor y = x * x * x * x;
    y.backward(Tensor(), false, true);
    Tensor g1 = x.grad();
    REQUIRE(all_close(g1, {4 * v * v * v}));
    x.zero_grad();
    g1.backward(Tensor(), false, true);
    Tensor g2 = x.grad();
    REQUIRE(all_close(g2, {12 * v * v}));
    x.zero_grad();
    g2.backward();
    REQUIRE(all_close(x.grad(), {24 * v}));
  }
  {
    Tensor x = f64({v}, {1});
    Tensor y = sum(x * x * x * x);
    Tensor g1 = autograd::grad({y}, {x}, {}, true, true)[0];
    Tensor g2 = autograd::grad({sum(g1)}, {x}, {}, true, true)[0];
    Tensor g3 = autograd::grad({sum(g2)}, {x})[0];
    REQUIRE(all_close(g3, {24 * v}));
  }
}

TEST_CASE("very deep graphs: backward, grad() and teardown do not recurse per node", "[autograd][review]") {
  // A long chain (an RNN unrolled over many steps), run on a thread with a 1 MiB stack so that
  // recursion once per node would overflow it at a modest (fast) depth.
  const int depth = 30000;
  Tensor x = f64({1.5}, {1});
  Tensor w = f64({1.0}, {1}, false);
  Tensor captured;
  auto work = [&] {
    Tensor y = x;
    for (int k = 0; k < depth; ++k) y = y * w;  // tensor * tensor saves y: nodes chain via saved tensors too
    captured = autograd::grad({sum(y)}, {x}, {}, /*retain_graph=*/true)[0];
    sum(y).backward(Tensor(), /*retain_graph=*/true);
  };  // the whole chain is freed when `y` goes, saved tensors included
  using Work = decltype(work);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  pthread_t thread;
  REQUIRE(pthread_create(&thread, &attr, [](void* arg) -> void* { (*static_cast<Work*>(arg))(); return nullptr; },
                         &work) == 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  REQUIRE(all_close(captured, {1.0}));
  REQUIRE(all_close(x.grad(), {1.0}));
}

// ---------------------------------------------------------------- saved tensors

TEST_CASE("saved outputs: double backward of exp, in-place change, release", "[autograd][review][saved]") {
  Tensor x = f64({0.5, -1.0}, {2});
  Tensor y = exp(x);
  Tensor g = autograd::grad({sum(y)}, {x}, {}, true, true)[0];
  REQUIRE(all_close(g, {std::exp(0.5), std::exp(-1.0)}, 1e-12));
  Tensor h = autograd::grad({sum(g)}, {x})[0];
  REQUIRE(all_close(h, {std::exp(0.5), std::exp(-1.0)}, 1e-12));

  Tensor y2 = exp(x);
  Tensor z = y2 + 1.0;  // add saves nothing: only exp holds y2
  y2.add_(1.0);  // exp saved y2 itself
  REQUIRE_THROWS_WITH(sum(z).backward(), Catch::Matchers::Contains("exp") && Catch::Matchers::Contains("in-place"));

  Tensor y3 = exp(x);
  Tensor s = sum(y3);
  s.backward();
  REQUIRE_THROWS_WITH(s.backward(), Catch::Matchers::Contains("second time"));
}

TEST_CASE("an undefined saved tensor unpacks as undefined, also after release", "[autograd][review][saved]") {
  Tensor x = f64({2}, {1});
  Tensor out;
  {
    NoGradGuard no_grad;
    out = x * 4.0;
  }
  int calls = 0;
  record_backward("with_none", {x, Tensor()}, {out}, {Tensor()}, [&](BackwardContext& ctx) -> TensorList {
    ++calls;
    REQUIRE_FALSE(ctx.saved(0).defined());
    REQUIRE_FALSE(ctx.needs_grad(1));
    return {ctx.grad(0) * 4.0, Tensor()};
  });
  out.backward();
  out.backward();  // nothing real was saved, so nothing was freed
  REQUIRE(calls == 2);
  REQUIRE(all_close(x.grad(), {8}));
}

// ---------------------------------------------------------------- in-place ops

TEST_CASE("in-place ops on non-leaves inside graphs", "[autograd][review][inplace]") {
  Tensor x = f64({1, 2}, {2});
  Tensor w = f64({3, 5}, {2});
  Tensor a = x * 2.0;
  a.mul_(w).add_(x);  // (2x) w + x
  REQUIRE(a.grad_fn() != nullptr);
  sum(a).backward();
  REQUIRE(all_close(x.grad(), {7, 11}));
  REQUIRE(all_close(w.grad(), {2, 4}));

  Tensor x2 = f64({1, 2}, {2});
  Tensor b = x2 * 1.0;
  b.mul_(2.0).add_(1.0).mul_(x2);  // (2x + 1) x
  sum(b).backward();
  REQUIRE(all_close(x2.grad(), {5, 9}));  // 4x + 1
}

TEST_CASE("copy_ from a tensor requiring grad makes the target require grad", "[autograd][review][inplace]") {
  Tensor x = f64({1, 2, 3}, {3});
  Tensor b = zeros({3}, DType::f64);
  b.copy_(x);
  REQUIRE(b.requires_grad());
  REQUIRE_FALSE(b.is_leaf());
  REQUIRE_FALSE(x.grad_fn());  // the source's own history is untouched
  sum(b * b).backward();
  REQUIRE(all_close(x.grad(), {2, 4, 6}));

  // Broadcast source and a dtype change: gradients are summed and converted back.
  Tensor s = from_vector<float>({2.0f}, {1}, TensorOptions(DType::f32).requires_grad());
  Tensor c = zeros({3}, DType::f64);
  c.copy_(s);
  sum(c).backward();
  REQUIRE(s.grad().dtype() == DType::f32);
  REQUIRE(all_close(s.grad(), {3}));
}

TEST_CASE("fill_ and zero_ on a non-leaf cut the gradient but keep the tensor in the graph", "[autograd][review][inplace]") {
  Tensor x = f64({1, 2}, {2});
  Tensor a = x * 2.0;
  a.fill_(5.0);
  REQUIRE(a.requires_grad());  // as in PyTorch: the history goes through fill_, with zero gradient
  sum(a * x).backward();
  REQUIRE(all_close(x.grad(), {5, 5}));
  Tensor b = x * 3.0;
  b.zero_();
  sum(b).backward();
  REQUIRE(all_close(x.grad(), {5, 5}));  // zero added
}

TEST_CASE("in-place on a view in a graph, or use of a view whose base changed, is an error", "[autograd][review][inplace]") {
  Tensor x = f64({1, 2, 3}, {3});
  Tensor a = x * 2.0;
  // zero_ would silently leave `a` with a stale history: refused like every in-graph view update.
  REQUIRE_THROWS_OP(a.slice(0, 0, 2).zero_(), "zero_");
  REQUIRE_THROWS_OP(a.select(0, 1).mul_(2.0), "mul_");

  Tensor b = x * 1.0;
  Tensor view = b.slice(0, 0, 2);
  b.mul_(2.0);  // `view` now sees doubled values, but its grad_fn predates the change
  REQUIRE(all_close(view, {2, 4}));
  REQUIRE_THROWS_WITH(sum(view).backward(), Catch::Matchers::Contains("modified in place"));
  // The base itself is fine.
  sum(b).backward();
  REQUIRE(all_close(x.grad(), {2, 2, 2}));

  // A view of a leaf modified under no_grad (an optimizer step) stays usable.
  Tensor p = f64({1, 2}, {2});
  Tensor pt = p.unsqueeze(0);
  {
    NoGradGuard no_grad;
    p.add_(1.0);
  }
  sum(pt * 2.0).backward();
  REQUIRE(all_close(p.grad(), {2, 2}));
}

TEST_CASE("in-place type rules: copy_ converts, arithmetic may not narrow", "[autograd][review][inplace][errors]") {
  Tensor i = zeros({3}, DType::i64);
  i.copy_(f64({1.7, -2.5, 3.0}, {3}, false));
  REQUIRE(values(i) == std::vector<double>{1, -2, 3});
  REQUIRE_THROWS_OP(i.add_(f64({1, 1, 1}, {3}, false)), "add_");
  REQUIRE_THROWS_OP(i.add_(1.5), "add_");
  REQUIRE_THROWS_OP(i.div_(2.0), "div_");  // true division gives float
  i.mul_(2.0);  // an integral-valued scalar counts as an integer (ops/elementwise.cpp wrap_scalar)
  i.add_(from_vector<int32_t>({1, 1, 1}));  // int32 into int64 is fine
  REQUIRE(values(i) == std::vector<double>{3, -3, 7});
  Tensor flags = zeros({2}, DType::bool_);
  REQUIRE_THROWS_OP(flags.add_(from_vector<int64_t>({1, 2})), "add_");  // int -> bool narrows
  flags.copy_(from_vector<double>({0.0, 1e-60}));
  REQUIRE(values(flags) == std::vector<double>{0, 1});  // 1e-60 is nonzero even though it underflows f32
  // Leaves that require grad are refused outside no_grad; the version counter is shared by views.
  Tensor leaf = f64({1, 2}, {2});
  REQUIRE_THROWS_OP(leaf.add_(1.0), "add_");
  // A reshape that had to copy is a fresh tensor, not a view: in-place ops on it are fine.
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor flat = x.t().reshape({6});
  flat.mul_(2.0);
  sum(flat).backward();
  REQUIRE(all_close(x.grad(), std::vector<double>(6, 2.0)));
  // Writing into an expanded tensor is refused (fill_ and zero_ are idempotent and allowed).
  Tensor expanded = zeros({3, 1}).expand({3, 4});
  REQUIRE_THROWS_OP(expanded.add_(1.0), "add_");
  REQUIRE_THROWS_OP(expanded.copy_(ones({3, 4})), "copy_");
  expanded.fill_(2.0);
  REQUIRE(values(expanded) == std::vector<double>(12, 2.0));
  // copy_ between overlapping parts of one tensor reads the source before writing.
  Tensor seq = arange(0.0, 5.0, 1.0, DType::f64);
  seq.slice(0, 1, 5).copy_(seq.slice(0, 0, 4));
  REQUIRE(values(seq) == std::vector<double>{0, 0, 1, 2, 3});
  REQUIRE_THROWS_OP(seq.copy_(ones({2, 5})), "copy_");
  REQUIRE_THROWS_OP(seq.copy_(ones({3})), "copy_");
  Tensor base = zeros({4});
  Tensor v = base.slice(0, 1, 3);
  v.add_(1.0);
  REQUIRE(base.version() == 1);
  REQUIRE(values(base) == std::vector<double>{0, 1, 1, 0});
}

// ---------------------------------------------------------------- gradcheck itself

namespace {

// y = 2x with a backward that is wrong in a chosen way.
enum class Flaw { none, one_element, layout, missing };

Tensor doubled(const Tensor& x, Flaw flaw) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = x * 2.0;
  }
  const Shape strides = x.strides();
  record_backward("doubled", {x}, {out}, {}, [flaw, strides](BackwardContext& ctx) -> TensorList {
    Tensor g = (ctx.grad(0) * 2.0).contiguous();
    switch (flaw) {
      case Flaw::none: return {g};
      case Flaw::one_element: {
        Tensor bad = g.clone();
        NoGradGuard no_grad;
        bad.view({-1}).select(0, 3).add_(1e-2);
        return {bad};
      }
      case Flaw::layout:
        // Reads the contiguous gradient with the input's strides: right only for contiguous inputs.
        return {make_view(g, ctx.input_shape(0), strides, 0)};
      case Flaw::missing: return {Tensor()};
    }
    return {g};
  });
  return out;
}

}  // namespace

TEST_CASE("gradcheck fails when it should and passes when it should", "[autograd][review][gradcheck]") {
  Tensor x = ember::test::rand64({2, 3}, 7);
  Tensor xt = ember::test::rand64({3, 2}, 8).detach().t().requires_grad_(true);  // non-contiguous leaf
  REQUIRE_FALSE(xt.is_contiguous());
  auto with = [](Flaw flaw) {
    return [flaw](const TensorList& in) -> TensorList { return {doubled(in[0], flaw)}; };
  };
  REQUIRE(gradcheck(with(Flaw::none), {x}));
  REQUIRE(gradcheck(with(Flaw::none), {xt}));
  REQUIRE_THROWS_WITH(gradcheck(with(Flaw::one_element), {x}), Catch::Matchers::Contains("mismatch"));
  REQUIRE(gradcheck(with(Flaw::layout), {x}));
  REQUIRE_THROWS_WITH(gradcheck(with(Flaw::layout), {xt}), Catch::Matchers::Contains("mismatch"));
  REQUIRE_THROWS_WITH(gradcheck(with(Flaw::missing), {x}), Catch::Matchers::Contains("mismatch"));
  // An output computed without a graph although it depends on x: a missing gradient.
  REQUIRE_THROWS_WITH(gradcheck([](const TensorList& in) -> TensorList { return {in[0].detach() * 2.0}; }, {x}),
                      Catch::Matchers::Contains("mismatch"));
  // Outputs that are views of the input (their values move with every perturbation).
  REQUIRE(gradcheck([](const TensorList& in) -> TensorList { return {in[0].t(), in[0].select(1, -1)}; }, {xt}));
  REQUIRE(gradgradcheck([](const TensorList& in) -> TensorList { return {in[0].t() * 2.0}; }, {x}));
  // Outputs that do not require grad and do not depend on x (and integer outputs) are fine.
  REQUIRE(gradcheck(
      [](const TensorList& in) -> TensorList {
        return {in[0] * in[0], ones({2}, DType::f64), zeros({3}, DType::i64)};
      },
      {x}));
}
