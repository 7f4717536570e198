// AveragedWeights, ModelEMA and SwitchEMA (optim/ema.h). Every pass over a tensor is one fused
// element loop on raw pointers under NoGradGuard (optim::elementwise), with no temporaries.
#include "optim/ema.h"

#include <cmath>
#include <set>
#include <utility>

#include "autograd/grad_mode.h"
#include "engine/copy.h"
#include "engine/dispatch.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "ops/ops.h"
#include "optim/optimizer.h"

namespace ember::optim {

namespace {

// Parameters (shared ones once), then persistent buffers (full state only), in registration order.
nn::NamedTensors tracked_tensors(const nn::Module& model, bool full_state) {
  nn::NamedTensors out = model.named_parameters();
  if (!full_state) return out;
  const TensorMap persistent = model.state_dict();
  std::set<const TensorImpl*> seen;
  for (auto& [name, tensor] : model.named_buffers()) {
    if (persistent.count(name) != 0 && seen.insert(&tensor.impl()).second) out.emplace_back(name, tensor);
  }
  return out;
}

// fn(shadow, live) for every pair, under NoGradGuard; fn bumps the live tensor's version when it writes it.
template <class F> void for_each_pair(const std::vector<Tensor>& shadow, const std::vector<Tensor>& live, F&& fn) {
  NoGradGuard no_grad;
  for (size_t k = 0; k < shadow.size(); ++k) fn(shadow[k], live[k]);
}

void copy_values(const Tensor& dst, const Tensor& src) {
  if (!dst.device().is_cpu() || !src.device().is_cpu()) return copy_data(dst, src);  // any device, any dtype
  dispatch_with_half(dst.dtype(), "weight averaging: copy", [&]<class T>() {
    T* d = dst.data_ptr<T>();
    const T* s = src.data_ptr<T>();
    elementwise(dst.numel(), [=](int64_t i) { d[i] = s[i]; });
  });
}

}  // namespace

// ---- AveragedWeights ----

AveragedWeights::AveragedWeights(std::string owner, const nn::Module& model, bool full_state)
    : owner_(std::move(owner)), full_state_(full_state) {
  for (const auto& [name, tensor] : tracked_tensors(model, full_state)) {
    check_cpu(owner_.c_str(), {&tensor});
    EMBER_CHECK(tensor.is_contiguous(), "{}: model tensor '{}' ({}) is not contiguous", owner_, name, tensor.describe());
    names_.push_back(name);
    NoGradGuard no_grad;
    shadow_.push_back(tensor.detach().clone());
  }
  EMBER_CHECK(!names_.empty(), "{}: the model has no {} to average", owner_,
              full_state ? "parameters or buffers" : "parameters");
}

std::vector<Tensor> AveragedWeights::live_tensors(const nn::Module& model) const {
  const nn::NamedTensors live = tracked_tensors(model, full_state_);
  EMBER_CHECK(live.size() == names_.size(), "{}: the model has {} averaged tensor(s), the average was made from {} "
              "(a model with a different parameter layout?)", owner_, live.size(), names_.size());
  std::vector<Tensor> out;
  out.reserve(live.size());
  for (size_t k = 0; k < live.size(); ++k) {
    const auto& [name, tensor] = live[k];
    EMBER_CHECK(name == names_[k] && tensor.sizes() == shadow_[k].sizes() && tensor.dtype() == shadow_[k].dtype(),
                "{}: model tensor {} is '{}' {}, the average has '{}' {} (a model with a different parameter layout?)",
                owner_, k, name, tensor.describe(), names_[k], shadow_[k].describe());
    EMBER_CHECK(tensor.is_contiguous(), "{}: model tensor '{}' ({}) is not contiguous", owner_, name, tensor.describe());
    out.push_back(tensor);
  }
  return out;
}

void AveragedWeights::lerp_from(const nn::Module& model, double weight) {
  for_each_pair(shadow_, live_tensors(model), [&](const Tensor& avg, const Tensor& live) {
    if (!avg.is_floating_point()) return copy_values(avg, live);
    if (avg.device().is_cuda()) {  // a += weight * (w - a) through the ops' CUDA kernels
      Tensor(avg).add_(sub(live, avg), weight);
      return;
    }
    dispatch_floating(avg.dtype(), owner_.c_str(), [&]<class T>() {
      T* a = avg.data_ptr<T>();
      const T* w = live.data_ptr<T>();
      const T step = T(weight);
      elementwise(avg.numel(), [=](int64_t i) { a[i] += step * (w[i] - a[i]); });
    });
  });
}

void AveragedWeights::copy_from(const nn::Module& model) {
  for_each_pair(shadow_, live_tensors(model), [](const Tensor& avg, const Tensor& live) { copy_values(avg, live); });
}

void AveragedWeights::copy_to(nn::Module& model) const {
  for_each_pair(shadow_, live_tensors(model), [](const Tensor& avg, const Tensor& live) {
    copy_values(live, avg);
    live.bump_version();
  });
}

void AveragedWeights::swap_with(nn::Module& model) {
  for_each_pair(shadow_, live_tensors(model), [&](const Tensor& avg, const Tensor& live) {
    if (avg.device().is_cuda()) {
      const Tensor held = avg.clone();
      copy_data(avg, live);
      copy_data(live, held);
      live.bump_version();
      return;
    }
    dispatch_with_half(avg.dtype(), owner_.c_str(), [&]<class T>() {
      T* a = avg.data_ptr<T>();
      T* w = live.data_ptr<T>();
      elementwise(avg.numel(), [=](int64_t i) { std::swap(a[i], w[i]); });
    });
    live.bump_version();
  });
}

TensorMap AveragedWeights::state_dict(const std::string& prefix) const {
  TensorMap out;
  for (size_t k = 0; k < names_.size(); ++k) out.emplace(prefix + names_[k], shadow_[k].clone());
  return out;
}

void AveragedWeights::load_state_dict(const TensorMap& state, const std::string& prefix) {
  for (size_t k = 0; k < names_.size(); ++k) {
    const auto it = state.find(prefix + names_[k]);
    EMBER_CHECK(it != state.end(), "{}: load_state_dict: the state has no '{}'", owner_, prefix + names_[k]);
    EMBER_CHECK(it->second.sizes() == shadow_[k].sizes() && it->second.dtype() == shadow_[k].dtype(),
                "{}: load_state_dict: '{}' is {} in the state, {} here", owner_, it->first, it->second.describe(),
                shadow_[k].describe());
  }
  NoGradGuard no_grad;
  for (size_t k = 0; k < names_.size(); ++k) copy_values(shadow_[k], state.at(prefix + names_[k]).contiguous());
}

AveragedWeightsScope::AveragedWeightsScope(AveragedWeights& weights, nn::Module& model)
    : weights_(weights), model_(model) {
  weights_.swap_with(model_);
}

AveragedWeightsScope::~AveragedWeightsScope() { weights_.swap_with(model_); }

// ---- counters in state maps ----

Tensor counter_tensor(int64_t value) { return from_vector(std::vector<int64_t>{value}, {}); }

int64_t read_counter(const TensorMap& state, const std::string& key, const std::string& owner) {
  const auto it = state.find(key);
  EMBER_CHECK(it != state.end(), "{}: load_state_dict: the state has no '{}'", owner, key);
  EMBER_CHECK(it->second.dtype() == DType::i64 && it->second.numel() == 1,
              "{}: load_state_dict: '{}' should be one int64, it is {}", owner, key, it->second.describe());
  const int64_t value = it->second.item<int64_t>();
  EMBER_CHECK(value >= 0, "{}: load_state_dict: '{}' is negative ({})", owner, key, value);
  return value;
}

// ---- warm-up names ----

namespace {
const std::vector<std::pair<EmaWarmup, std::string>> kWarmupNames = {
    {EmaWarmup::none, "none"}, {EmaWarmup::constant, "constant"}, {EmaWarmup::linear, "linear"},
    {EmaWarmup::exp, "exp"},   {EmaWarmup::num_updates, "num_updates"}};
}

EmaWarmup ema_warmup_from_name(const std::string& name) {
  std::string known;
  for (const auto& [warmup, warmup_name] : kWarmupNames) {
    if (warmup_name == name) return warmup;
    known += (known.empty() ? "" : ", ") + warmup_name;
  }
  EMBER_FAIL("ema: unknown warmup '{}' (known: {})", name, known);
}

std::string ema_warmup_name(EmaWarmup warmup) {
  for (const auto& [w, name] : kWarmupNames) {
    if (w == warmup) return name;
  }
  EMBER_FAIL("ema: invalid warmup value {}", static_cast<int>(warmup));
}

// ---- ModelEMA ----

namespace {
const EmaOptions& checked(const EmaOptions& o) {
  EMBER_CHECK(o.momentum >= 0.0 && o.momentum <= 1.0, "ema: momentum must be in [0, 1], got {}", o.momentum);
  const bool ramps = o.warmup == EmaWarmup::constant || o.warmup == EmaWarmup::linear || o.warmup == EmaWarmup::exp;
  if (ramps) {
    EMBER_CHECK(o.warmup_iters > 0, "ema: warmup '{}' needs warmup_iters > 0, got {}", ema_warmup_name(o.warmup),
                o.warmup_iters);
    EMBER_CHECK(o.warmup_ratio > 0.0 && o.warmup_ratio <= 1.0, "ema: warmup_ratio must be in (0, 1], got {}",
                o.warmup_ratio);
  }
  ema_warmup_name(o.warmup);  // rejects values outside the enum
  return o;
}
}  // namespace

ModelEMA::ModelEMA(const nn::Module& model, EmaOptions options)
    : options_(checked(options)), weights_("ema", model, options.full_state) {}

double ModelEMA::momentum_at(int64_t t) const {
  const double m = options_.momentum, r = options_.warmup_ratio;
  const double W = static_cast<double>(options_.warmup_iters), td = static_cast<double>(t);
  switch (options_.warmup) {
    case EmaWarmup::none: return m;
    case EmaWarmup::num_updates: return std::min(m, (1.0 + td) / (10.0 + td));
    case EmaWarmup::constant: return t <= options_.warmup_iters ? r * m : m;
    case EmaWarmup::linear: return t <= options_.warmup_iters ? (1.0 - (1.0 - td / W) * (1.0 - r)) * m : m;
    case EmaWarmup::exp: return t <= options_.warmup_iters ? std::pow(r, 1.0 - td / W) * m : m;
  }
  EMBER_FAIL("ema: invalid warmup value {}", static_cast<int>(options_.warmup));
}

void ModelEMA::update(const nn::Module& model) {
  weights_.lerp_from(model, 1.0 - momentum_at(num_updates_));
  ++num_updates_;
}

TensorMap ModelEMA::state_dict() const {
  TensorMap out = weights_.state_dict("ema.");
  out.emplace("ema_num_updates", counter_tensor(num_updates_));
  return out;
}

void ModelEMA::load_state_dict(const TensorMap& state) {
  const int64_t updates = read_counter(state, "ema_num_updates", "ema");
  weights_.load_state_dict(state, "ema.");
  num_updates_ = updates;
}

// ---- SwitchEMA ----

SwitchEMA::SwitchEMA(const nn::Module& model, EmaOptions ema_options, SwitchOptions switch_options)
    : ema_(model, ema_options), options_(switch_options) {
  EMBER_CHECK(options_.interval > 0, "switch ema: interval must be > 0, got {}", options_.interval);
  EMBER_CHECK(options_.start >= 0, "switch ema: start must be >= 0, got {}", options_.start);
  EMBER_CHECK(options_.end < 0 || options_.end > options_.start,
              "switch ema: end ({}) must be after start ({}), or -1 for no end", options_.end, options_.start);
}

bool SwitchEMA::should_switch(int64_t epoch, int64_t iteration) const {
  const int64_t n = options_.by_iter ? iteration : epoch;
  return n > options_.start && (n - options_.start) % options_.interval == 0 && (options_.end < 0 || n <= options_.end);
}

void SwitchEMA::switch_(nn::Module& model) {
  ema_.copy_to(model);
  ++num_switches_;
}

bool SwitchEMA::after_train_iter(nn::Module& model, int64_t iteration) {
  ema_.update(model);
  if (!options_.by_iter || !should_switch(0, iteration)) return false;
  switch_(model);
  return true;
}

bool SwitchEMA::before_train_epoch(nn::Module& model, int64_t epoch) {
  if (options_.by_iter || !should_switch(epoch, 0)) return false;
  switch_(model);
  return true;
}

TensorMap SwitchEMA::state_dict() const {
  TensorMap out = ema_.state_dict();
  out.emplace("sema_num_switches", counter_tensor(num_switches_));
  return out;
}

void SwitchEMA::load_state_dict(const TensorMap& state) {
  const int64_t switches = read_counter(state, "sema_num_switches", "switch ema");
  ema_.load_state_dict(state);
  num_switches_ = switches;
}

}  // namespace ember::optim
