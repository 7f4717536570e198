// Sharpness-Aware Minimization (Foret et al. 2021) and its adaptive variant ASAM (Kwon et al. 2021),
// as the reference PyTorch implementation (davda54/sam): two forward/backward passes per step.
//   first_step:  e = ρ·g/(‖g‖ + 1e-12)                 (SAM; ‖·‖ the global L2 norm over all parameters)
//                e = ρ·θ²·g/(‖|θ|·g‖ + 1e-12)          (adaptive: T_θ = |θ| element-wise)
//                θ ← θ + e   (θ saved first)
//   (the caller recomputes the loss and its gradient at θ + e)
//   second_step: θ ← saved θ; the base optimizer steps with the gradient taken at θ + e.
// Parameters without a gradient are skipped, as torch. Twin wrapper: optim/lookahead.h; base:
// optim/wrapped.h. Implementation: optim/sam.cpp; tests: test/optim/test_wrappers.cpp.
//
//   optim::SAM opt(optim::make_optimizer("sgd", groups, {{"lr", 0.1}}), 0.05);
//   loss(model, batch).backward();                         // gradient at θ
//   opt.step([&] { Tensor l = loss(model, batch); l.backward(); return l; });
#pragma once
#include <functional>

#include "optim/wrapped.h"

namespace ember::optim {

class SAM : public WrappedOptimizer {
 public:
  // rho >= 0, else ember::Error.
  SAM(std::unique_ptr<Optimizer> base, double rho = 0.05, bool adaptive = false);

  double rho() const { return rho_; }
  bool adaptive() const { return adaptive_; }
  bool perturbed() const { return perturbed_; }  // between first_step and second_step

  void first_step(bool zero_grad = true);
  void second_step(bool zero_grad = false);
  // first_step, then `closure` (which must recompute the loss and call backward; gradients are
  // already zeroed), then second_step. Returns the closure's loss (at the perturbed point).
  Tensor step(const std::function<Tensor()>& closure);
  // SAM needs the second pass: errors, pointing at step(closure).
  void step() override;

 protected:
  // rho and adaptive under "sam"; no tensors (the saved θ lives only inside one step).
  void wrapper_state(OptimizerState& out) const override;
  void load_wrapper_state(const OptimizerState& state, bool commit) override;

 private:
  double rho_;
  bool adaptive_;
  bool perturbed_ = false;
  std::vector<Tensor> saved_;  // θ before the perturbation, per parameter (undefined: no gradient)
};

}  // namespace ember::optim
