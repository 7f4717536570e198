// AdaBelief (Zhuang et al. 2020), as the authors' adabelief-pytorch 0.2: Adam with the second
// moment of g − m (the "belief"), ε added into it every step, decoupled weight decay, optional
// AMSGrad and RAdam-style rectification (degenerating to momentum SGD while ρₜ < 5). Options:
// lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-16, weight_decay 0, amsgrad 0, rectify 1.
// Implementation: optim/adabelief.cpp; tests: test/optim/test_paper_optimizers.cpp (hand-worked steps).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class AdaBelief : public Optimizer {
 public:
  explicit AdaBelief(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
