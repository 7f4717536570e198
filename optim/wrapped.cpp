// WrappedOptimizer (optim/wrapped.h).
#include "optim/wrapped.h"

#include <string_view>

#include "engine/error.h"

namespace ember::optim {

namespace {
const Optimizer& checked_base(const std::unique_ptr<Optimizer>& base, const std::string& name) {
  EMBER_CHECK(base != nullptr, "{}: the base optimizer is null", name);
  return *base;
}
}  // namespace

// The base class is built from the base optimizer's (complete) groups and defaults before
// `base_` takes ownership, so the groups hold the same parameter tensors.
WrappedOptimizer::WrappedOptimizer(std::string name, std::unique_ptr<Optimizer> base)
    : Optimizer(name, checked_base(base, name).param_groups(), checked_base(base, name).defaults()),
      base_(std::move(base)) {}

void WrappedOptimizer::step_base() {
  std::vector<ParamGroup>& inner = base_->param_groups();
  for (size_t g = 0; g < groups_.size(); ++g) inner[g].options = groups_[g].options;
  base_->step();
}

OptimizerState WrappedOptimizer::state_dict() const {
  const OptimizerState inner = base_->state_dict();
  OptimizerState out;
  for (const auto& [key, tensor] : inner.tensors) out.tensors.emplace("base." + key, tensor);
  out.scalars = {{"optimizer", name_}, {"base", inner.scalars}};
  wrapper_state(out);
  return out;
}

void WrappedOptimizer::load_state_dict(const OptimizerState& state) {
  const std::string op = name_ + ": load_state_dict";
  const nlohmann::json& s = state.scalars;
  EMBER_CHECK(s.is_object() && s.contains("optimizer") && s.contains("base"),
              "{}: the scalars are not a {} state (expected keys optimizer, base)", op, name_);
  const std::string from = s.at("optimizer").get<std::string>();
  EMBER_CHECK(from == name_, "{}: the state was saved by optimizer '{}', this is '{}'", op, from, name_);
  OptimizerState inner;
  inner.scalars = s.at("base");
  constexpr std::string_view prefix = "base.";
  for (const auto& [key, tensor] : state.tensors) {
    if (key.starts_with(prefix)) inner.tensors.emplace(key.substr(prefix.size()), tensor);
  }
  load_wrapper_state(state, false);  // check only
  base_->load_state_dict(inner);     // checks, then commits
  load_wrapper_state(state, true);
  const std::vector<ParamGroup>& loaded = base_->param_groups();
  for (size_t g = 0; g < groups_.size(); ++g) groups_[g].options = loaded[g].options;
}

}  // namespace ember::optim
