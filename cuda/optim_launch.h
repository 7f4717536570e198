// Launcher of cuda/optim.cu: fused optimizer steps over many parameters at once (multi-tensor
// apply: one launch updates up to FusedBatch::kTensors parameters, each with its own element
// count and hyperparameters). Raw pointers only (Note [CUDA kernel boundary] in cuda/layout.h);
// the g++ side that fills these from Tensors is cuda/optim.{h,cpp}. CPU twins: optim/sgd.cpp,
// optim/adamw.cpp, optim/lion.cpp: the per-element formulas here repeat theirs operation for
// operation, in the parameter's type, so a CUDA trajectory follows the CPU one to rounding.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

enum class FusedOptimizer : uint8_t { sgd, adam, lion };

// The per-parameter scalars of one step (what optim/<name>.cpp computes on the host).
struct FusedHyper {
  double lr = 0;
  double beta1 = 0, beta2 = 0;   // adam, lion; sgd: beta1 = momentum
  double eps = 0;                // adam
  double weight_decay = 0;       // sgd and adam's coupled decay (added to the gradient)
  double shrink = 1;             // decoupled decay: w *= shrink first (adamw, lion)
  double sign = 1;               // -1 when maximizing
  double step_size = 0;          // adam: lr / (1 - beta1^t)
  double correction2_sqrt = 1;   // adam: sqrt(1 - beta2^t)
  double keep = 1;               // sgd: 1 - dampening
  uint32_t flags = 0;            // FusedFlags
};
enum FusedFlags : uint32_t { kFusedNesterov = 1, kFusedFirstStep = 2, kFusedAmsgrad = 4, kFusedMomentum = 8 };

// One parameter: its data, gradient and up to three state slots (sgd: momentum buffer; adam:
// exp_avg, exp_avg_sq, max_exp_avg_sq; lion: exp_avg), all contiguous, same dtype and numel.
struct FusedTensor {
  void* param = nullptr;
  const void* grad = nullptr;
  void* state[3] = {nullptr, nullptr, nullptr};
  int64_t numel = 0;
  FusedHyper hyper;
};

// Applies one step of `kind` to `count` parameters of `type` (f32 or f64) on `stream`.
void fused_optimizer_step(FusedOptimizer kind, ScalarType type, const FusedTensor* tensors, int count, Stream stream);

}  // namespace ember::cuda
