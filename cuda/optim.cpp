// cuda/optim.h: Tensors -> FusedTensor records, grouped by device and dtype, one
// fused_optimizer_step per group.
#include "cuda/optim.h"

#include <map>
#include <utility>

#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

void FusedStepQueue::add(const Tensor& param, const Tensor& grad, std::vector<Tensor> states, const FusedHyper& hyper) {
  EMBER_CHECK(param.device().is_cuda() && param.is_contiguous() && grad.is_contiguous() &&
                  grad.device() == param.device() && grad.dtype() == param.dtype() && states.size() <= 3,
              "fused optimizer step: parameter {} and gradient {} must be contiguous on one CUDA device",
              param.describe(), grad.describe());
  for (const Tensor& s : states) {
    EMBER_CHECK(!s.defined() || (s.device() == param.device() && s.dtype() == param.dtype() &&
                                 s.numel() == param.numel() && s.is_contiguous()),
                "fused optimizer step: state {} does not match parameter {}", s.describe(), param.describe());
  }
  entries_.push_back({param, grad, std::move(states), hyper});
}

void FusedStepQueue::launch() {
  std::map<std::pair<int, int>, std::vector<FusedTensor>> groups;  // (device, dtype) -> records
  for (const Entry& e : entries_) {
    FusedTensor t;
    t.param = e.param.raw_data();
    t.grad = e.grad.raw_data();
    for (size_t k = 0; k < e.states.size(); ++k) t.state[k] = e.states[k].defined() ? e.states[k].raw_data() : nullptr;
    t.numel = e.param.numel();
    t.hyper = e.hyper;
    groups[{e.param.device().index, static_cast<int>(e.param.dtype())}].push_back(t);
  }
  for (auto& [key, records] : groups) {
    DeviceGuard guard(key.first);
    fused_optimizer_step(kind_, static_cast<ScalarType>(key.second), records.data(), static_cast<int>(records.size()),
                         current_stream(key.first));
  }
  entries_.clear();  // the kernels are queued on the stream; freed blocks are reused in stream order
}

}  // namespace ember::cuda
