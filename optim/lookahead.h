// Lookahead (Zhang, Lucas, Hinton, Ba 2019): any optimizer makes k fast steps, then the slow
// weights move a fraction α toward the fast ones and the fast weights restart from them:
//   φ₀ = θ₀ (the weights at construction, as the paper's Algorithm 1)
//   every k-th step t:  φ ← φ + α·(θ − φ);  θ ← φ
// The base optimizer's own state (momentum, moments) carries on across syncs, as the paper's
// default and the common PyTorch ports. Twin wrapper: optim/sam.h; base: optim/wrapped.h.
// Implementation: optim/lookahead.cpp; tests: test/optim/test_wrappers.cpp.
//
//   optim::Lookahead opt(optim::make_optimizer("adamw", groups, {{"lr", 1e-3}}), 5, 0.5);
//   opt.step();  // as any optimizer
#pragma once
#include "optim/wrapped.h"

namespace ember::optim {

class Lookahead : public WrappedOptimizer {
 public:
  // k >= 1 and 0 <= alpha <= 1, else ember::Error naming the value.
  Lookahead(std::unique_ptr<Optimizer> base, int64_t k = 5, double alpha = 0.5);

  int64_t k() const { return k_; }
  double alpha() const { return alpha_; }
  int64_t fast_steps() const { return counter_; }  // base steps since the last sync (0 .. k−1)
  const std::vector<Tensor>& slow_weights() const { return slow_; }

  void step() override;  // one base step; the sync fused in one pass per parameter every k-th step

 protected:
  // Slow weights as "lookahead.slow.<i>", the counter and k, alpha under "lookahead".
  void wrapper_state(OptimizerState& out) const override;
  void load_wrapper_state(const OptimizerState& state, bool commit) override;

 private:
  int64_t k_;
  double alpha_;
  int64_t counter_ = 0;
  std::vector<Tensor> slow_;  // one per parameter, in group order
};

}  // namespace ember::optim
