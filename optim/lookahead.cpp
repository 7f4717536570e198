// Lookahead (optim/lookahead.h).
#include "optim/lookahead.h"

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"

namespace ember::optim {

Lookahead::Lookahead(std::unique_ptr<Optimizer> base, int64_t k, double alpha)
    : WrappedOptimizer("lookahead", std::move(base)), k_(k), alpha_(alpha) {
  EMBER_CHECK(k_ >= 1, "lookahead: k must be >= 1, got {}", k_);
  EMBER_CHECK(alpha_ >= 0.0 && alpha_ <= 1.0, "lookahead: alpha must be in [0, 1], got {}", alpha_);
  NoGradGuard no_grad;
  for (const ParamGroup& group : groups_) {
    for (const Tensor& param : group.params) slow_.push_back(param.detach().clone());
  }
}

void Lookahead::step() {
  step_base();
  if (++counter_ < k_) return;
  counter_ = 0;
  NoGradGuard no_grad;
  size_t index = 0;
  for (const ParamGroup& group : groups_) {
    for (const Tensor& param : group.params) {
      const Tensor& slow = slow_[index++];
      dispatch_floating(param.dtype(), "lookahead", [&]<class T>() {
        T* w = param.data_ptr<T>();
        T* s = slow.data_ptr<T>();
        const T a = T(alpha_);
        elementwise(param.numel(), [=](int64_t i) {
          s[i] += a * (w[i] - s[i]);
          w[i] = s[i];
        });
      });
      param.bump_version();
    }
  }
}

void Lookahead::wrapper_state(OptimizerState& out) const {
  for (size_t i = 0; i < slow_.size(); ++i) out.tensors.emplace(fmt::format("lookahead.slow.{}", i), slow_[i].clone());
  out.scalars["lookahead"] = {{"counter", counter_}, {"k", k_}, {"alpha", alpha_}};
}

void Lookahead::load_wrapper_state(const OptimizerState& state, bool commit) {
  const std::string op = "lookahead: load_state_dict";
  EMBER_CHECK(state.scalars.contains("lookahead"), "{}: the state has no 'lookahead' entry", op);
  const nlohmann::json& own = state.scalars.at("lookahead");
  const auto counter = own.at("counter").get<int64_t>();
  const auto k = own.at("k").get<int64_t>();
  EMBER_CHECK(k == k_, "{}: the state was saved with k = {}, this Lookahead has k = {}", op, k, k_);
  EMBER_CHECK(counter >= 0 && counter < k_, "{}: counter {} is outside [0, k = {})", op, counter, k_);
  for (size_t i = 0; i < slow_.size(); ++i) {
    const std::string key = fmt::format("lookahead.slow.{}", i);
    const auto it = state.tensors.find(key);
    EMBER_CHECK(it != state.tensors.end(), "{}: the state has no '{}'", op, key);
    EMBER_CHECK(it->second.sizes() == slow_[i].sizes() && it->second.dtype() == slow_[i].dtype(),
                "{}: '{}' is {} in the state, {} here", op, key, it->second.describe(), slow_[i].describe());
    if (commit) {
      NoGradGuard no_grad;
      slow_[i].copy_(it->second);
    }
  }
  if (commit) {
    counter_ = counter;
    alpha_ = own.at("alpha").get<double>();
  }
}

}  // namespace ember::optim
