// The g++ side of the fused CUDA optimizer steps (cuda/optim.cu): optimizers queue their CUDA
// parameters during step() and launch them together at the end (multi-tensor apply). Used by
// optim/sgd.cpp, optim/adamw.cpp and optim/lion.cpp; built only with CUDA (they call it through
// EMBER_CUDA_KERNEL, Note [CUDA dispatch]).
#pragma once
#include <vector>

#include "cuda/optim_launch.h"
#include "engine/tensor.h"

namespace ember::cuda {

class FusedStepQueue {
 public:
  explicit FusedStepQueue(FusedOptimizer kind) : kind_(kind) {}
  // Queues one parameter; `states` are the optimizer's slots for it (undefined ones are unused).
  // The tensors are held until launch().
  void add(const Tensor& param, const Tensor& grad, std::vector<Tensor> states, const FusedHyper& hyper);
  // Launches everything queued, grouped by (device, dtype); empties the queue.
  void launch();
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    Tensor param, grad;
    std::vector<Tensor> states;
    FusedHyper hyper;
  };
  FusedOptimizer kind_;
  std::vector<Entry> entries_;
};

}  // namespace ember::cuda
