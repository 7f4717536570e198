// Optimizer base: parameter groups (each with its own hyperparameters), zero_grad, step, and a
// state_dict that carries everything an exact resume needs: per-parameter state tensors (momentum,
// moments; saved to safetensors) and scalars (step counts, group hyperparameters; saved as JSON).
// Implementation: optim/optimizer.cpp; the optimizers are one file each (optim/sgd.cpp, adamw.cpp, ...).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/serialize.h"
#include "engine/tensor.h"

namespace ember::optim {

struct ParamGroup {
  std::vector<Tensor> params;
  // Hyperparameters by name ("lr", "weight_decay", "momentum", "beta1", ...). Each optimizer fills
  // in its defaults for keys a group does not set; schedules write "lr".
  std::map<std::string, double> options;
  std::string name;  // e.g. "decay" / "no_decay"
  double get(const std::string& key) const;  // throws naming the key when absent
  double& operator[](const std::string& key) { return options[key]; }
};

struct OptimizerState {
  TensorMap tensors;      // "state.<param index>.<slot>" -> tensor
  nlohmann::json scalars; // groups' options, step counters, anything else
};

class Optimizer {
 public:
  Optimizer(std::string name, std::vector<ParamGroup> groups, std::map<std::string, double> defaults);
  virtual ~Optimizer() = default;
  const std::string& name() const { return name_; }

  virtual void step() = 0;  // runs under NoGradGuard; parameters without .grad are skipped
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  double lr() const { return groups_.at(0).get("lr"); }  // first group's lr (for logs)
  void set_lr(double lr);  // every group (schedules scale per group through "initial_lr" instead)

  virtual OptimizerState state_dict() const;
  virtual void load_state_dict(const OptimizerState& state);

 protected:
  // Per-parameter slots ("momentum_buffer", "exp_avg", ...) keyed by (param index across groups).
  Tensor& slot(size_t param_index, const std::string& slot_name, const Tensor& like);  // zeros on first use
  std::vector<std::map<std::string, Tensor>> state_;
  std::vector<int64_t> steps_;  // per-parameter step counts
  std::string name_;
  std::vector<ParamGroup> groups_;
};

// Two groups: weights with `weight_decay`, and norm/bias parameters (dim <= 1) plus any name in
// `skip` with weight_decay 0, as timm's param_groups_weight_decay.
std::vector<ParamGroup> weight_decay_groups(const std::vector<std::pair<std::string, Tensor>>& named_params,
                                            double weight_decay, const std::vector<std::string>& skip = {});

}  // namespace ember::optim
