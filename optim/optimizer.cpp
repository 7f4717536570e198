// Optimizer base (optim/optimizer.h): group checks, defaults, slots, state_dict, the no-decay group
// builder and the by-name factory. The update rules live one per file (optim/sgd.cpp, adamw.cpp, ...).
#include "optim/optimizer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <set>

#include "engine/error.h"
#include "engine/factories.h"
#include "engine/shape.h"
#include "optim/adabelief.h"
#include "optim/adafactor.h"
#include "optim/adabound.h"
#include "optim/adadelta.h"
#include "optim/adagrad.h"
#include "optim/adamax.h"
#include "optim/adamp.h"
#include "optim/adamw.h"
#include "optim/adan.h"
#include "optim/lamb.h"
#include "optim/lars.h"
#include "optim/lion.h"
#include "optim/nadam.h"
#include "optim/novograd.h"
#include "optim/radam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "optim/sgdp.h"
#include "optim/sophia.h"

namespace ember::optim {
namespace {

std::string group_label(const ParamGroup& group, size_t index) {
  return group.name.empty() ? fmt::format("group {}", index) : fmt::format("group {} ('{}')", index, group.name);
}

std::string join_keys(const std::map<std::string, double>& options) {
  std::string out;
  for (const auto& [key, value] : options) out += (out.empty() ? "" : ", ") + key;
  return out;
}

bool known_key(const std::map<std::string, double>& defaults, const std::string& key) {
  return key == "initial_lr" || defaults.count(key) > 0;
}

}  // namespace

double ParamGroup::get(const std::string& key) const {
  const auto it = options.find(key);
  EMBER_CHECK(it != options.end(), "optimizer: parameter group '{}' has no option '{}' (it has: {})", name, key,
              join_keys(options));
  return it->second;
}

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups, std::map<std::string, double> defaults)
    : name_(std::move(name)), groups_(std::move(groups)), defaults_(std::move(defaults)) {
  size_t total = 0;
  std::set<const TensorImpl*> seen;
  for (size_t g = 0; g < groups_.size(); ++g) {
    ParamGroup& group = groups_[g];
    for (size_t p = 0; p < group.params.size(); ++p) {
      const Tensor& param = group.params[p];
      const std::string where = fmt::format("{}: parameter {} of {}", name_, p, group_label(group, g));
      EMBER_CHECK(param.defined(), "{} is an undefined tensor", where);
      EMBER_CHECK(param.is_leaf(), "{} ({}) is not a leaf tensor (it was computed by an op); optimize leaves such "
                  "as module parameters", where, param.describe());
      EMBER_CHECK(param.dtype() == DType::f32 || param.dtype() == DType::f64,
                  "{} is {}; optimizers update float32 or float64 parameters", where, param.describe());
      EMBER_CHECK(param.device().is_cpu(), "{} is {}; optimizers run on the CPU for now", where, param.describe());
      EMBER_CHECK(param.is_contiguous(), "{} ({}) is not contiguous", where, param.describe());
      EMBER_CHECK(seen.insert(&param.impl()).second, "{} appears more than once in the parameter groups", where);
      ++total;
    }
    for (const auto& [key, value] : group.options) {
      EMBER_CHECK(known_key(defaults_, key), "{}: unknown option '{}' in {} (known: {}, initial_lr)", name_, key,
                  group_label(group, g), join_keys(defaults_));
    }
    for (const auto& [key, value] : defaults_) group.options.emplace(key, value);  // keeps the group's own
    for (const auto& [key, value] : group.options) {
      EMBER_CHECK(!std::isnan(value), "{}: option '{}' is required (set it in the options or in {})", name_, key,
                  group_label(group, g));
    }
  }
  EMBER_CHECK(total > 0, "{}: empty parameter list (no parameters in {} group(s)); pass the model's parameters",
              name_, groups_.size());
  state_.resize(total);
  scalar_state_.resize(total);
  steps_.assign(total, 0);
}

std::map<std::string, double> Optimizer::merge_options(const std::string& name, std::map<std::string, double> defaults,
                                                       const std::map<std::string, double>& options) {
  for (const auto& [key, value] : options) {
    EMBER_CHECK(defaults.count(key) > 0, "{}: unknown option '{}' (known: {})", name, key, join_keys(defaults));
    defaults[key] = value;
  }
  return defaults;
}

void Optimizer::zero_grad(bool set_to_none) {
  for (ParamGroup& group : groups_) {
    for (Tensor& param : group.params) param.zero_grad(set_to_none);
  }
}

void Optimizer::set_lr(double lr) {
  EMBER_CHECK(std::isfinite(lr) && lr >= 0.0, "{}: set_lr: lr must be a finite value >= 0, got {}", name_, lr);
  for (ParamGroup& group : groups_) group.options["lr"] = lr;
}

void Optimizer::check_adam_options() const {
  check_option("lr", 0.0, 1e300);
  check_option("eps", 0.0, 1e300);
  check_option("beta1", 0.0, 1.0, false, true);
  check_option("beta2", 0.0, 1.0, false, true);
  check_option("weight_decay", 0.0, 1e300);
}

void Optimizer::check_option(const std::string& key, double lo, double hi, bool lo_open, bool hi_open) const {
  for (size_t g = 0; g < groups_.size(); ++g) {
    const double value = groups_[g].get(key);
    const bool ok = (lo_open ? value > lo : value >= lo) && (hi_open ? value < hi : value <= hi);
    EMBER_CHECK(ok, "{}: invalid {} = {} in {}: expected {} {} {} {} {}", name_, key, value, group_label(groups_[g], g),
                lo, lo_open ? "<" : "<=", key, hi_open ? "<" : "<=", hi);
  }
}

Tensor& Optimizer::slot(size_t param_index, const std::string& slot_name, const Shape& sizes, DType dtype, double fill,
                        Device device) {
  auto& slots = state_.at(param_index);
  auto it = slots.find(slot_name);
  if (it == slots.end()) it = slots.emplace(slot_name, full(sizes, fill, TensorOptions(dtype).device(device))).first;
  return it->second;
}

double& Optimizer::scalar_slot(size_t param_index, const std::string& slot_name, double init) {
  return scalar_state_.at(param_index).emplace(slot_name, init).first->second;
}

bool Optimizer::has_slot(size_t param_index, const std::string& slot_name) const {
  return state_.at(param_index).count(slot_name) > 0;
}

Tensor Optimizer::checked_grad(const Tensor& param, size_t index) const {
  const Tensor& grad = param.grad();
  EMBER_CHECK(grad.sizes() == param.sizes() && grad.dtype() == param.dtype() && grad.device() == param.device(),
              "{}: parameter {} is {} but its gradient is {}", name_, index, param.describe(), grad.describe());
  EMBER_CHECK(param.is_contiguous(), "{}: parameter {} ({}) is not contiguous", name_, index, param.describe());
  return grad.contiguous();
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState out;
  nlohmann::json groups = nlohmann::json::array();
  for (const ParamGroup& group : groups_) {
    nlohmann::json shapes = nlohmann::json::array();
    for (const Tensor& param : group.params) shapes.push_back(param.sizes());
    groups.push_back({{"name", group.name}, {"options", group.options}, {"shapes", shapes}});
  }
  out.scalars = {{"optimizer", name_}, {"param_groups", groups}, {"steps", steps_}, {"scalar_state", scalar_state_}};
  for (size_t i = 0; i < state_.size(); ++i) {
    for (const auto& [slot_name, tensor] : state_[i]) out.tensors.emplace(fmt::format("state.{}.{}", i, slot_name), tensor.clone());
  }
  return out;
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  const nlohmann::json& s = state.scalars;
  const std::string op = name_ + ": load_state_dict";
  EMBER_CHECK(s.is_object() && s.contains("optimizer") && s.contains("param_groups") && s.contains("steps"),
              "{}: the scalars are not an optimizer state (expected keys optimizer, param_groups, steps)", op);
  const std::string from = s.at("optimizer").get<std::string>();
  EMBER_CHECK(from == name_, "{}: the state was saved by optimizer '{}', this is '{}'", op, from, name_);
  const nlohmann::json& groups = s.at("param_groups");
  EMBER_CHECK(groups.is_array() && groups.size() == groups_.size(),
              "{}: the state has {} parameter group(s), this optimizer has {}", op, groups.size(), groups_.size());

  // Check everything first, then commit: a failed load leaves the optimizer as it was.
  std::vector<std::map<std::string, double>> options(groups_.size());
  std::vector<const Tensor*> params;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const nlohmann::json& saved = groups[g];
    const auto shapes = saved.at("shapes").get<std::vector<Shape>>();
    EMBER_CHECK(shapes.size() == groups_[g].params.size(), "{}: {} has {} parameter(s) in the state, {} here", op,
                group_label(groups_[g], g), shapes.size(), groups_[g].params.size());
    for (size_t p = 0; p < shapes.size(); ++p) {
      const Tensor& param = groups_[g].params[p];
      EMBER_CHECK(shapes[p] == param.sizes(), "{}: parameter {} of {} has shape {} in the state, {} here", op, p,
                  group_label(groups_[g], g), shape_str(shapes[p]), shape_str(param.sizes()));
      params.push_back(&param);
    }
    options[g] = saved.at("options").get<std::map<std::string, double>>();
    for (const auto& [key, value] : options[g]) {
      EMBER_CHECK(known_key(defaults_, key), "{}: unknown option '{}' in {} of the state (known: {})", op, key,
                  group_label(groups_[g], g), join_keys(defaults_));
    }
  }
  const auto steps = s.at("steps").get<std::vector<int64_t>>();
  EMBER_CHECK(steps.size() == params.size(), "{}: the state has {} step count(s) for {} parameter(s)", op, steps.size(),
              params.size());

  std::vector<std::map<std::string, double>> scalar_state(params.size());
  if (s.contains("scalar_state")) {
    scalar_state = s.at("scalar_state").get<std::vector<std::map<std::string, double>>>();
    EMBER_CHECK(scalar_state.size() == params.size(), "{}: the state has scalar state for {} parameter(s), not {}", op,
                scalar_state.size(), params.size());
  }
  std::vector<std::map<std::string, Tensor>> slots(params.size());
  for (const auto& [key, tensor] : state.tensors) {
    // key: "state.<param index>.<slot>"
    const size_t dot = key.find('.', 6);
    EMBER_CHECK(key.rfind("state.", 0) == 0 && dot != std::string::npos && dot > 6,
                "{}: unexpected tensor '{}' (expected state.<param index>.<slot>)", op, key);
    size_t index = 0;
    try {
      index = std::stoul(key.substr(6, dot - 6));
    } catch (const std::exception&) {
      EMBER_FAIL("{}: unexpected tensor '{}' (expected state.<param index>.<slot>)", op, key);
    }
    EMBER_CHECK(index < params.size(), "{}: tensor '{}' names parameter {} but there are {}", op, key, index,
                params.size());
    const std::string slot_name = key.substr(dot + 1);
    const Shape expected = slot_shape(*params[index], slot_name);
    EMBER_CHECK(tensor.sizes() == expected, "{}: tensor '{}' is {} but parameter {} ({}) needs shape {}", op, key,
                tensor.describe(), index, params[index]->describe(), shape_str(expected));
    slots[index].emplace(slot_name, tensor.to(params[index]->dtype()).to(params[index]->device()).clone());
  }

  for (size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].options = options[g];
    for (const auto& [key, value] : defaults_) groups_[g].options.emplace(key, value);
  }
  steps_ = steps;
  scalar_state_ = std::move(scalar_state);
  state_ = std::move(slots);
}

std::vector<ParamGroup> weight_decay_groups(const std::vector<std::pair<std::string, Tensor>>& named_params,
                                            double weight_decay, const std::vector<std::string>& skip) {
  EMBER_CHECK(std::isfinite(weight_decay) && weight_decay >= 0.0,
              "weight_decay_groups: weight_decay must be a finite value >= 0, got {}", weight_decay);
  const auto skipped = [&](const std::string& name) {
    const std::string last = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
    return std::find(skip.begin(), skip.end(), name) != skip.end() ||
           std::find(skip.begin(), skip.end(), last) != skip.end();
  };
  const auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  ParamGroup decay{{}, {{"weight_decay", weight_decay}}, "decay"};
  ParamGroup no_decay{{}, {{"weight_decay", 0.0}}, "no_decay"};
  for (const auto& [name, param] : named_params) {
    if (!param.requires_grad()) continue;
    const bool exempt = param.dim() <= 1 || ends_with(name, ".bias") || name == "bias" || skipped(name);
    (exempt ? no_decay : decay).params.push_back(param);
  }
  std::vector<ParamGroup> groups;
  if (!no_decay.params.empty()) groups.push_back(std::move(no_decay));
  if (!decay.params.empty()) groups.push_back(std::move(decay));
  return groups;
}

namespace {

using Factory = std::function<std::unique_ptr<Optimizer>(std::vector<ParamGroup>, const std::map<std::string, double>&)>;

template <class T> Factory factory() {
  return [](std::vector<ParamGroup> groups, const std::map<std::string, double>& options) {
    return std::make_unique<T>(std::move(groups), options);
  };
}

const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> table = {
      {"sgd", factory<SGD>()},
      {"adam", factory<Adam>()},
      {"adamw", factory<AdamW>()},
      {"adamax", factory<Adamax>()},
      {"nadam", factory<NAdam>()},
      {"radam", factory<RAdam>()},
      {"adagrad", factory<AdaGrad>()},
      {"adadelta", factory<AdaDelta>()},
      {"rmsprop", factory<RMSProp>()},
      {"lion", factory<Lion>()},
      {"lamb", factory<Lamb>()},
      {"lars", factory<Lars>()},
      {"adan", factory<Adan>()},
      {"adabelief", factory<AdaBelief>()},
      {"adabound", factory<AdaBound>()},
      {"novograd", factory<NovoGrad>()},
      {"adamp", factory<AdamP>()},
      {"sgdp", factory<SGDP>()},
      {"adafactor", factory<AdaFactor>()},
      {"sophia", factory<Sophia>()},
  };
  return table;
}

}  // namespace

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const auto& [name, make] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<ParamGroup> groups,
                                          const std::map<std::string, double>& options) {
  std::string key = name;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto it = registry().find(key);
  if (it == registry().end()) {
    std::string known;
    for (const std::string& n : optimizer_names()) known += (known.empty() ? "" : ", ") + n;
    EMBER_FAIL("make_optimizer: unknown optimizer '{}' (known: {})", name, known);
  }
  return it->second(std::move(groups), options);
}

}  // namespace ember::optim
