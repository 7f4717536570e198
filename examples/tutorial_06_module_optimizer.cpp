// Tutorial chapter 6 (docs/tutorial/06-module-optimizer.md): from ops to a Module and an optimizer.
// A Linear layer and an MLP written by hand on nn::Module (models/nn/module.h), trained with a
// hand-written SGD step on a toy problem; then the same network from the library's nn::Linear and
// optim::SGD, which must follow the hand-written one step for step.
// `// [name]` ... `// [/name]` mark the snippets the chapter quotes (kept in sync by tutorial_snippets).
// Run: build/examples/tutorial_06_module_optimizer [--quick]
#include <cmath>
#include <cstring>
#include <functional>

#include "models/nn/linear.h"
#include "optim/sgd.h"
#include "tutorial_check.h"

using namespace ember;

// [hand-linear]
// y = x W^T + b, what nn::Linear does. A parameter is a member *and* registered, so that
// parameters(), state_dict() and optimizers find it (Note [Module registration]).
class HandLinear : public nn::Module {
 public:
  HandLinear(int64_t in, int64_t out, Generator& gen) : nn::Module("HandLinear") {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));  // PyTorch's default range
    weight = register_parameter("weight", uniform(-bound, bound, {out, in}, gen));
    bias = register_parameter("bias", uniform(-bound, bound, {out}, gen));
  }
  Tensor forward(const Tensor& x) override { return linear(x, weight, bias); }  // x: (B, in) -> (B, out)
  Tensor weight, bias;
};
// [/hand-linear]

// [mlp]
// Two layers with a ReLU between. Children are registered too: their parameters appear under
// dotted names ("fc1.weight"), as in PyTorch.
template <class Layer>
class Mlp : public nn::Module {
 public:
  explicit Mlp(std::shared_ptr<Layer> first, std::shared_ptr<Layer> second) : nn::Module("Mlp") {
    fc1 = register_module("fc1", std::move(first));
    fc2 = register_module("fc2", std::move(second));
  }
  Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))); }  // (B, 2) -> (B, 2) logits
  std::shared_ptr<Layer> fc1, fc2;
};
// [/mlp]

// [sgd-step]
// The whole of plain SGD: p <- p - lr * dL/dp. Under NoGradGuard, because the update is not part
// of the model (and chapter 2: a leaf that requires grad cannot be changed in place otherwise).
void sgd_step(nn::Module& model, double lr) {
  NoGradGuard no_grad;
  for (Tensor& p : model.parameters())
    if (p.grad().defined()) p.add_(p.grad(), -lr);
}
// [/sgd-step]

// [data]
// Points of the plane; class 1 outside the circle of radius sqrt(2 ln 2), where half of a 2-D
// standard normal lies, so the classes are balanced and no straight line separates them.
void make_data(int64_t n, Generator& gen, Tensor& points, Tensor& labels) {
  points = randn({n, 2}, gen);                              // (n, 2)
  labels = gt(sum(mul(points, points), {1}), 2.0 * std::log(2.0)).to(DType::i64);  // (n,)
}
// [/data]

double accuracy(nn::Module& model, const Tensor& points, const Tensor& labels) {
  NoGradGuard no_grad;
  return mean(eq(argmax(model(points), 1), labels).to(DType::f64)).item<double>();
}

// [train]
// The loop every trainer runs. `update` is the optimizer step; returns the loss of every step.
std::vector<double> train(nn::Module& model, const Tensor& points, const Tensor& labels, int steps,
                          const std::function<void()>& update) {
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    Tensor loss = cross_entropy(model(points), labels);  // forward: builds the graph
    model.zero_grad();                                   // .grad = none (no stale sums)
    loss.backward();                                     // fills every parameter's .grad
    update();                                            // p -= lr * grad
    losses.push_back(loss.item<double>());
    if (step % (steps / 5) == 0) fmt::print("step {:>4}  loss {:.4f}\n", step, losses.back());
  }
  return losses;
}
// [/train]

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int steps = quick ? 300 : 1500;
  const double lr = 0.5;
  tutorial::Checks check;
  Generator gen(0);
  Tensor train_x, train_y, test_x, test_y;
  make_data(512, gen, train_x, train_y);
  make_data(512, gen, test_x, test_y);

  // [build]
  auto model = std::make_shared<Mlp<HandLinear>>(std::make_shared<HandLinear>(2, 32, gen),
                                                 std::make_shared<HandLinear>(32, 2, gen));
  for (const auto& [name, p] : model->named_parameters()) fmt::print("{:<11} {}\n", name, p.describe());
  // [/build]
  check.expect(model->num_parameters() == 2 * 32 + 32 + 32 * 2 + 2, "the MLP has 2*32 + 32 + 32*2 + 2 = 162 parameters");
  TensorMap initial_state = model->state_dict();  // aliases of the parameters: copy them
  for (auto& [name, tensor] : initial_state) tensor = tensor.clone();

  // [train-by-hand]
  const std::vector<double> losses = train(*model, train_x, train_y, steps, [&] { sgd_step(*model, lr); });
  const double test_accuracy = accuracy(*model, test_x, test_y);
  fmt::print("final loss {:.4f}, test accuracy {:.3f}\n", losses.back(), test_accuracy);
  // [/train-by-hand]
  check.expect(std::abs(losses.front() - std::log(2.0)) < 0.1, "the first loss is near ln 2 (a 2-class guess)");
  check.expect(losses.back() < 0.5 * losses.front(),
               fmt::format("training more than halved the loss ({:.3f} -> {:.3f})", losses.front(), losses.back()));
  check.expect(test_accuracy > 0.9, fmt::format("test accuracy {:.3f} > 0.9 on points never trained on", test_accuracy));

  // [library]
  // The same network from the library: nn::Linear has the same parameter names, so the hand-written
  // model's initial weights load into it, and optim::SGD replaces sgd_step.
  auto library_model = std::make_shared<Mlp<nn::Linear>>(std::make_shared<nn::Linear>(2, 32),
                                                         std::make_shared<nn::Linear>(32, 2));
  library_model->load_state_dict(initial_state);
  optim::ParamGroup all_parameters{.params = library_model->parameters(), .options = {}, .name = "all"};
  optim::SGD optimizer({all_parameters}, {{"lr", lr}});
  const std::vector<double> library_losses =
      train(*library_model, train_x, train_y, steps, [&] { optimizer.step(); });
  // [/library]
  double largest_difference = 0;
  const TensorMap trained = model->state_dict(), library_trained = library_model->state_dict();
  for (const auto& [name, tensor] : trained)
    largest_difference =
        std::max(largest_difference, amax(abs(sub(tensor, library_trained.at(name)))).item<double>());
  fmt::print("largest difference between the two trained models: {:.3g}\n", largest_difference);
  check.expect(largest_difference < 1e-5, fmt::format("nn::Linear + optim::SGD followed the hand-written model and "
                                                      "step for all {} steps (largest difference {:.3g})",
                                                      steps, largest_difference));
  check.expect(std::abs(library_losses.back() - losses.back()) < 1e-5, "... and ended at the same loss");
  return check.finish();
}
