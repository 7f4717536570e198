// Optimizer base: parameter groups (each with its own hyperparameters), zero_grad, step, and a
// state_dict that carries everything an exact resume needs: per-parameter state tensors (momentum,
// moments; saved to safetensors) and scalars (step counts, group hyperparameters; saved as JSON).
// Implementation: optim/optimizer.cpp; the optimizers are one file each (optim/sgd.cpp, adamw.cpp, ...)
// and share the element-loop helper `for_each_param` below (one fused pass per parameter per step).
// Schedules: optim/schedule.h; gradient clipping: optim/clip.h. Tests: test/optim/.
//
// Hyperparameters are doubles keyed by name; flags are 0/1 ("nesterov", "amsgrad", "maximize").
// A group's own options win over the optimizer's defaults; keys no optimizer knows are an error.
// "initial_lr" is allowed in every group: LR schedules keep each group's base lr there.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/grad_mode.h"
#include "engine/dispatch.h"
#include "engine/parallel.h"
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
  bool flag(const std::string& key) const { return get(key) != 0.0; }
  double& operator[](const std::string& key) { return options[key]; }
};

struct OptimizerState {
  TensorMap tensors;      // "state.<param index>.<slot>" -> tensor (copies, not the live slots)
  nlohmann::json scalars; // {"optimizer", "param_groups": [{name, options, shapes}], "steps", "scalar_state"}
};

class Optimizer {
 public:
  // Checks the groups (non-empty overall; every parameter a floating-point CPU leaf, contiguous,
  // in one group only; no unknown option keys) and fills each group's missing options from
  // `defaults`. Subclasses then check value ranges with check_option().
  Optimizer(std::string name, std::vector<ParamGroup> groups, std::map<std::string, double> defaults);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  const std::string& name() const { return name_; }

  virtual void step() = 0;  // runs under NoGradGuard; parameters without .grad are skipped
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  double lr() const { return groups_.at(0).get("lr"); }  // first group's lr (for logs)
  void set_lr(double lr);  // every group (schedules scale per group through "initial_lr" instead)
  const std::map<std::string, double>& defaults() const { return defaults_; }
  size_t num_params() const { return steps_.size(); }
  int64_t step_count(size_t param_index) const { return steps_.at(param_index); }

  // Copies of the state (later steps do not change a saved state). load_state_dict checks that the
  // state comes from the same optimizer with the same group/parameter layout (count, shapes) and
  // replaces the group options, step counts and slots; on error nothing is changed.
  virtual OptimizerState state_dict() const;
  virtual void load_state_dict(const OptimizerState& state);

 protected:
  // Per-parameter slots ("momentum_buffer", "exp_avg", ...) keyed by (param index across groups).
  // Filled with `fill` (zeros by default) on first use.
  // Filled with `fill` (zeros by default) on first use, on the device of `like` / `device`.
  Tensor& slot(size_t param_index, const std::string& slot_name, const Tensor& like, double fill = 0.0) {
    return slot(param_index, slot_name, like.sizes(), like.dtype(), fill, like.device());
  }
  Tensor& slot(size_t param_index, const std::string& slot_name, const Shape& sizes, DType dtype, double fill = 0.0,
               Device device = Device::cpu());
  // Whether step() can update parameters on a CUDA device (a fused kernel: cuda/optim.h). The
  // others raise a clear error on a CUDA parameter instead of touching device memory from the host.
  virtual bool has_cuda_step() const { return false; }
  bool has_slot(size_t param_index, const std::string& slot_name) const;
  // The shape a slot must have in a loaded state: the parameter's, unless an optimizer keeps
  // smaller statistics (AdaFactor's row/column moments).
  virtual Shape slot_shape(const Tensor& param, const std::string& slot_name) const { return param.sizes(); }
  // Per-parameter scalars that are state, not options (NAdam's running μ product); `init` on first
  // use. Saved in the state's JSON under "scalar_state".
  double& scalar_slot(size_t param_index, const std::string& slot_name, double init);

  // A subclass's defaults with the caller's options applied; unknown keys are an error listing
  // the known ones. NaN in `defaults` marks a required option (SGD's lr).
  static std::map<std::string, double> merge_options(const std::string& name, std::map<std::string, double> defaults,
                                                     const std::map<std::string, double>& options);

  // Errors naming the optimizer, group and key unless lo <= value <= hi (lo < value when
  // lo_open, value < hi when hi_open) for every group.
  void check_option(const std::string& key, double lo, double hi, bool lo_open = false, bool hi_open = false) const;
  // The Adam family's common ranges: lr, eps, weight_decay >= 0; beta1, beta2 in [0, 1).
  void check_adam_options() const;

  // One parameter inside step(): what a fused update needs.
  struct ParamRef {
    size_t index;          // across groups: the slot / step-count key
    const ParamGroup& group;
    const Tensor& param;   // contiguous, floating
    Tensor grad;           // contiguous, the parameter's dtype
    int64_t step;          // this parameter's step count, already incremented (1 on the first step)
  };
  // Calls fn(ParamRef&) for every parameter with a gradient, in group order, under NoGradGuard;
  // increments the step count first and bumps the parameter's version afterwards (autograd's
  // saved-tensor check sees the in-place update).
  template <class F> void for_each_param(F&& fn);

  std::vector<std::map<std::string, Tensor>> state_;
  std::vector<int64_t> steps_;  // per-parameter step counts
  std::vector<std::map<std::string, double>> scalar_state_;
  std::string name_;
  std::vector<ParamGroup> groups_;
  std::map<std::string, double> defaults_;

 private:
  Tensor checked_grad(const Tensor& param, size_t index) const;
};

// The element loop every optimizer runs: body(i) for i in [0, n), split over threads. Kernels are
// written as `elementwise(n, [=](int64_t i) { ... w[i] = ...; })` on raw pointers: one pass over
// the parameter's data, no temporaries.
template <class Body> void elementwise(int64_t n, Body body) {
  parallel_for(n, kParallelGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) body(i);
  });
}

// K sums over [0, n) in double: body(i, sums) adds element i's terms into sums[0..K). Chunks of
// kParallelGrain elements run in parallel and are added in chunk order, so the result does not
// depend on the thread count (bit-exact resume). Used by the trust-ratio optimizers (LAMB, LARS)
// and gradient clipping.
template <size_t K, class Body> std::array<double, K> chunked_sums(int64_t n, Body body) {
  const int64_t chunks = (n + kParallelGrain - 1) / kParallelGrain;
  std::vector<std::array<double, K>> partial(static_cast<size_t>(chunks), std::array<double, K>{});
  parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      std::array<double, K>& sums = partial[static_cast<size_t>(c)];
      const int64_t stop = std::min(n, (c + 1) * kParallelGrain);
      for (int64_t i = c * kParallelGrain; i < stop; ++i) body(i, sums);
    }
  });
  std::array<double, K> total{};
  for (const auto& sums : partial) {
    for (size_t k = 0; k < K; ++k) total[k] += sums[k];
  }
  return total;
}

template <class F> void Optimizer::for_each_param(F&& fn) {
  NoGradGuard no_grad;
  size_t index = 0;
  for (const ParamGroup& group : groups_) {
    for (const Tensor& param : group.params) {
      const size_t i = index++;
      if (!param.grad().defined()) continue;
      EMBER_CHECK(param.device().is_cpu() || has_cuda_step(),
                  "{}: parameter {} is {}, but this optimizer has no CUDA step yet (sgd, adam, adamw and lion "
                  "have one); train on the CPU or use one of those",
                  name_, i, param.describe());
      ParamRef ref{i, group, param, checked_grad(param, i), ++steps_[i]};
      fn(ref);
      param.bump_version();
    }
  }
}

// Two groups: weights with `weight_decay`, and norm/bias parameters (dim <= 1, or a name ending in
// ".bias") plus any name in `skip` (exact, or as the last dotted component) with weight_decay 0, as
// timm's param_groups_weight_decay. Frozen parameters (requires_grad false) and empty groups are left out.
std::vector<ParamGroup> weight_decay_groups(const std::vector<std::pair<std::string, Tensor>>& named_params,
                                            double weight_decay, const std::vector<std::string>& skip = {});

// Builds an optimizer by name ("sgd", "adam", "adamw", ...; case-insensitive). `options` apply to
// every group that does not set the key itself. Unknown names list the known ones.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<ParamGroup> groups,
                                          const std::map<std::string, double>& options = {});
std::vector<std::string> optimizer_names();

}  // namespace ember::optim
