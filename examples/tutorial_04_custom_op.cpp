// Tutorial chapter 4 (docs/tutorial/04-custom-op.md): a new op with its backward, written the way
// every op in ops/ is: a kernel on raw pointers (no autograd), then the op (checks, dispatch, and
// one record_backward whose lambda uses differentiable ops), then a float64 gradcheck.
// The op, logaddexp(a, b) = log(exp(a) + exp(b)) computed without overflow, is in
// tutorial_logaddexp.h (chapter 7 profiles it); this program tests it.
// `// [name]` ... `// [/name]` mark the snippets the chapter quotes (kept in sync by tutorial_snippets).
// Run: build/examples/tutorial_04_custom_op
#include <cmath>

#include "tutorial_logaddexp.h"

using namespace ember;
using tutorial::logaddexp;

// [wrong-op]
// The same op with a classic slip in the backward: the two partial derivatives swapped.
Tensor logaddexp_swapped_backward(const Tensor& a, const Tensor& b) {
  Tensor out = tutorial::logaddexp_forward(a, b);
  record_backward("logaddexp", {a, b}, {out}, {a, b, out}, [](BackwardContext& ctx) -> TensorList {
    const Tensor& out = ctx.saved(2);
    return {mul(ctx.grad(0), exp(sub(ctx.saved(1), out))), mul(ctx.grad(0), exp(sub(ctx.saved(0), out)))};
  });
  return out;
}
// [/wrong-op]

int main() {
  tutorial::Checks check;

  // Forward against the naive formula where it does not overflow, and where it does.
  Tensor a = from_vector<double>({0.0, 1.0, -3.0, 20.0, 1000.0});
  Tensor b = from_vector<double>({0.0, 2.0, 4.0, -20.0, 999.0});
  Tensor naive = log(add(exp(a), exp(b)));
  fmt::print("logaddexp {}\nnaive     {}\n", logaddexp(a, b), naive);
  check.expect_close(logaddexp(a, b).narrow(0, 0, 4), naive.narrow(0, 0, 4),
                     "forward equals log(exp(a) + exp(b)) where that does not overflow", 1e-12);
  check.expect(std::isinf(naive[4].item<double>()), "the naive formula overflows at a = 1000");
  check.expect_close(logaddexp(a, b)[4], {1000.0 + std::log1p(std::exp(-1.0))},
                     "logaddexp(1000, 999) = 1000 + log(1 + e^-1)", 1e-12);

  // [by-hand]
  Tensor x = from_vector<double>({0.0, std::log(3.0)}).requires_grad_(true);
  Tensor y = from_vector<double>({0.0, 0.0}).requires_grad_(true);
  sum(logaddexp(x, y)).backward();
  fmt::print("x.grad {}  y.grad {}\n", x.grad(), y.grad());
  // [/by-hand]
  // d/dx log(e^x + e^y) = e^x / (e^x + e^y): 1/2 at (0, 0), 3/4 at (log 3, 0).
  check.expect_close(x.grad(), {0.5, 0.75}, "x.grad = e^x / (e^x + e^y) = (1/2, 3/4)", 1e-12);
  check.expect_close(y.grad(), {0.5, 0.25}, "y.grad = e^y / (e^x + e^y) = (1/2, 1/4)", 1e-12);

  // [gradcheck]
  manual_seed(0);
  Tensor p = randn({3, 4}, DType::f64).requires_grad_(true);
  Tensor q = randn({4, 3}, DType::f64).t().requires_grad_(true);  // strided: (3, 4) with strides (1, 3)
  auto f = [](const TensorList& in) -> TensorList { return {logaddexp(in[0], in[1])}; };
  const bool first = gradcheck(f, {p, q});
  const bool second = gradgradcheck(f, {p, q});  // the backward is ops, so it has a backward too
  fmt::print("gradcheck {}, gradgradcheck {}\n", first, second);
  // [/gradcheck]
  check.expect(first && !q.is_contiguous(), "gradcheck passed on a transposed (non-contiguous) input");
  check.expect(second, "gradgradcheck passed: the backward written with ops is differentiable");

  // [catch-bug]
  auto wrong = [](const TensorList& in) -> TensorList { return {logaddexp_swapped_backward(in[0], in[1])}; };
  check.expect_error([&] { gradcheck(wrong, {p, q}); }, "Jacobian mismatch", "gradcheck catches the swapped derivatives");
  // [/catch-bug]
  check.expect_error([&] { logaddexp(p, p.t()); }, "logaddexp: inputs must have the same shape",
                     "bad input is an ember::Error naming the op and the shapes");
  return check.finish();
}
