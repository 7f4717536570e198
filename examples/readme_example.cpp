// The README's example, compiled and run by the test suite so it never rots.
#include "ember.h"

using namespace ember;

int main(int argc, char** argv) {
  const bool quick = argc > 1;  // --quick (from scripts/test.sh) prints the same, just shorter
  manual_seed(0);
  Tensor x = randn({4, 3});                                     // a batch of 4 inputs
  Tensor w = randn({3, 2}).requires_grad_(true);                // weights we train
  Tensor b = zeros({2}, TensorOptions().requires_grad(true));
  Tensor loss = mean(pow(tanh(matmul(x, w) + b), 2.0));         // any expression of ops
  loss.backward();                                              // fills w.grad() and b.grad()
  fmt::print("loss = {}\ndloss/dw =\n{}\n", loss.item<float>(), w.grad());

  // Check the gradients numerically (float64, central differences).
  auto f = [](const TensorList& in) -> TensorList {
    return {mean(pow(tanh(matmul(in[0], in[1]) + in[2]), 2.0))};
  };
  bool ok = gradcheck(f, {x.to(DType::f64), w.detach().to(DType::f64).requires_grad_(true),
                          b.detach().to(DType::f64).requires_grad_(true)});
  fmt::print("gradcheck: {}\n", ok ? "passed" : "failed");
  if (!quick) fmt::print("{}", to_dot(loss));                   // the graph, for Graphviz
  return ok ? 0 : 1;
}
