// WrappedOptimizer: the shared base of the optimizer wrappers (optim/lookahead.h, optim/sam.h).
// A wrapper is itself an Optimizer over the base optimizer's parameter groups, so a trainer, an LR
// schedule or a checkpoint treats it like any optimizer: schedules write the wrapper's group options
// and the wrapper hands them to the base before each base step. Implementation: optim/wrapped.cpp;
// tests: test/optim/test_wrappers.cpp.
#pragma once
#include <memory>

#include "optim/optimizer.h"

namespace ember::optim {

class WrappedOptimizer : public Optimizer {
 public:
  Optimizer& base() { return *base_; }
  const Optimizer& base() const { return *base_; }

  // The base's state under "base." (tensors) and "base" (scalars), plus the wrapper's own:
  // wrapper_state() / load_wrapper_state() below.
  OptimizerState state_dict() const override;
  void load_state_dict(const OptimizerState& state) override;

 protected:
  WrappedOptimizer(std::string name, std::unique_ptr<Optimizer> base);
  // Copies the wrapper's group options (what schedules edit) into the base, then steps it.
  void step_base();

  // The wrapper's own state. load_wrapper_state must check everything before changing anything
  // when `commit` is false, and only commit when it is true (a failed load changes nothing).
  virtual void wrapper_state(OptimizerState& out) const = 0;
  virtual void load_wrapper_state(const OptimizerState& state, bool commit) = 0;

 private:
  std::unique_ptr<Optimizer> base_;
};

}  // namespace ember::optim
