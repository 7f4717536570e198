// Tutorial chapter 5 (docs/tutorial/05-double-backward.md): double backward. With create_graph the
// backward formulas (which are ops) record a graph of their own, so a gradient can be
// differentiated again: Hessian-vector products without ever forming the Hessian, or the whole
// Hessian one row at a time. Checked against the Hessian derived by hand.
// `// [name]` ... `// [/name]` mark the snippets the chapter quotes (kept in sync by tutorial_snippets).
// Run: build/examples/tutorial_05_double_backward
#include "tutorial_check.h"

using namespace ember;

// [function]
// f(x) = x0^2 x1 + x1 x2^3
Tensor f_of(const Tensor& x) { return add(mul(pow(x[0], 2.0), x[1]), mul(x[1], pow(x[2], 3.0))); }
// [/function]

int main() {
  tutorial::Checks check;
  // By hand: grad f = (2 x0 x1,  x0^2 + x2^3,  3 x1 x2^2)
  //          H      = [[2 x1, 2 x0, 0], [2 x0, 0, 3 x2^2], [0, 3 x2^2, 6 x1 x2]]
  // At x = (1, 2, 3): grad f = (4, 28, 54), H = [[4, 2, 0], [2, 0, 27], [0, 27, 36]].
  const double hessian_by_hand[3][3] = {{4, 2, 0}, {2, 0, 27}, {0, 27, 36}};

  // [first-derivative]
  Tensor x = from_vector<double>({1.0, 2.0, 3.0}).requires_grad_(true);
  Tensor f = f_of(x);
  // create_graph: the backward pass records what it computes, so g has a grad_fn of its own.
  Tensor g = autograd::grad({f}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  fmt::print("g = {}  (grad_fn {})\n", g, g.grad_fn()->name());
  // [/first-derivative]
  check.expect_close(g, {4, 28, 54}, "grad f(1, 2, 3) = (4, 28, 54)", 1e-12);
  check.expect(g.requires_grad() && g.grad_fn() != nullptr, "with create_graph the gradient has a history");

  // [hvp]
  // H v = d/dx (g · v): one more backward pass through g's graph, no 3x3 matrix anywhere.
  Tensor v = from_vector<double>({1.0, -1.0, 2.0});
  Tensor hv = autograd::grad({dot(g, v)}, {x}, {}, /*retain_graph=*/true)[0];
  fmt::print("H v = {}\n", hv);
  // [/hvp]
  std::vector<double> hv_by_hand(3, 0.0);
  const double vs[3] = {1.0, -1.0, 2.0};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) hv_by_hand[i] += hessian_by_hand[i][j] * vs[j];
  check.expect_close(hv, hv_by_hand, "the Hessian-vector product equals H v with H derived by hand: (2, 56, 45)", 1e-12);

  // [hessian]
  // Row i of H is the gradient of g_i: one backward per row.
  TensorList rows;
  for (int64_t i = 0; i < 3; ++i) rows.push_back(autograd::grad({g[i]}, {x}, {}, /*retain_graph=*/true)[0]);
  Tensor hessian = stack(rows);
  fmt::print("H =\n{}\n", hessian);
  // [/hessian]
  check.expect_close(hessian, {4, 2, 0, 2, 0, 27, 0, 27, 36}, "the Hessian row by row matches the one by hand", 1e-12);
  check.expect_close(hessian, hessian.t(), "... and is symmetric", 1e-12);

  // [backward-create-graph]
  // The same through .grad: backward(create_graph) leaves a differentiable x.grad.
  Tensor x2 = from_vector<double>({1.0, 2.0, 3.0}).requires_grad_(true);
  f_of(x2).backward(Tensor(), /*retain_graph=*/false, /*create_graph=*/true);
  Tensor first = x2.grad();
  x2.zero_grad();  // set .grad to none: the second backward must not add into the first gradient
  dot(first, v).backward();
  fmt::print("x2.grad after the second backward = {}\n", x2.grad());
  // [/backward-create-graph]
  check.expect_close(x2.grad(), hv_by_hand, "backward(create_graph) then backward again gives H v too", 1e-12);

  // [gradgradcheck]
  auto f_as_function = [](const TensorList& in) -> TensorList { return {f_of(in[0])}; };
  const bool ok = gradgradcheck(f_as_function, {from_vector<double>({0.5, -1.5, 2.0}).requires_grad_(true)});
  // [/gradgradcheck]
  check.expect(ok, "gradgradcheck: second derivatives agree with finite differences of the first");
  return check.finish();
}
