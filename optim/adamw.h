// Adam (coupled L2 weight decay: g += wd·w) and AdamW (decoupled: w *= 1 − lr·wd), both with the
// AMSGrad option, exactly as torch.optim.Adam / AdamW (1.13). Options: lr 1e-3, beta1 0.9,
// beta2 0.999, eps 1e-8, weight_decay (Adam 0, AdamW 1e-2), amsgrad 0, maximize 0.
// Implementation: optim/adamw.cpp; tests: test/optim/test_sgd_adamw.cpp. The rest of the Adam
// family (Adamax, NAdam, RAdam, ...) is one file each next to this one.
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
  bool has_cuda_step() const override { return true; }

 protected:
  Adam(std::string name, bool decoupled, std::vector<ParamGroup> groups, const std::map<std::string, double>& options);

 private:
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
};

}  // namespace ember::optim
