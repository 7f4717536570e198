// Sophia (Liu et al. 2023, "Sophia: A Scalable Stochastic Second-order Optimizer", SophiaG as the
// authors' code): momentum m divided element-wise by an EMA h of a Hessian-diagonal estimate and
// clipped, w = w·(1 − lr·λ) − lr·sign(m)·min(|m|/(ρ·h + ε), 1). The estimate is refreshed every
// update_interval steps (hessian_due()) by the caller, who owns the loss:
//   - Gauss-Newton-Bartlett: backward a loss on labels sampled from the model's own predictions,
//     then update_hessian_from_grads(batch_size) (ĥ = B·ĝ⊙ĝ);
//   - Hutchinson: update_hessian(hutchinson_hessian_diagonal(loss, params, gen)) (ĥ = u⊙(∇²L·u),
//     u Rademacher, by double backward).
// Options: lr 1e-4, beta1 0.965, beta2 0.99, rho 0.04, weight_decay 0.1, eps 1e-15, update_interval 10.
// Implementation: optim/sophia.cpp; tests: test/optim/test_paper_optimizers.cpp.
#pragma once
#include "engine/random.h"
#include "optim/optimizer.h"

namespace ember::optim {

class Sophia : public Optimizer {
 public:
  explicit Sophia(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;

  // True before the steps that should see a fresh estimate: the first, then every update_interval-th.
  bool hessian_due() const;
  // h = β2·h + (1 − β2)·ĥ, one estimate per parameter in group order (undefined: that one is skipped).
  void update_hessian(const std::vector<Tensor>& estimates);
  // The Gauss-Newton-Bartlett estimate from the parameters' current .grad: ĥ = scale·g⊙g.
  void update_hessian_from_grads(double scale);
};

// u ⊙ (∇²loss · u) for one Rademacher u per parameter: an unbiased estimate of the Hessian diagonal.
// `loss` must be a scalar whose graph is still alive; it stays alive (retain_graph) for reuse.
std::vector<Tensor> hutchinson_hessian_diagonal(const Tensor& loss, const std::vector<Tensor>& params, Generator& gen);

}  // namespace ember::optim
