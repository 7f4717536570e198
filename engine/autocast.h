// Autocast: mixed precision by scope, as torch.autocast("cuda"). Inside an AutocastGuard, ops
// that gain from 16-bit math (matmul, linear, conv, scaled-dot-product attention: the
// "lower-precision" list) cast their floating CUDA inputs to the autocast dtype (bfloat16 by
// default) and compute with float32 accumulation (cuBLASLt / cuDNN compute type 32F); ops that
// need range or precision (softmax, log_softmax, losses, norms: the "float32" list) cast 16-bit
// inputs up to float32. Parameters stay float32 ("master weights"): the casts are differentiable,
// so their gradients arrive in float32. CPU tensors are never cast (the CPU kernels are float32 /
// float64 only). With float16, scale the loss (optim/grad_scaler.h) so small gradients do not
// underflow. Thread-local, nestable; AutocastGuard(false) turns it off for a region.
// Note [Autocast lists]: the op entry points that call autocast_lower / autocast_fp32 are listed
// in docs/GPU.md ("Mixed precision"); keep the two in step.
#pragma once
#include <initializer_list>

#include "engine/tensor.h"

namespace ember {

struct AutocastState {
  bool enabled = false;
  DType dtype = DType::bf16;  // bf16 or f16
};
AutocastState autocast_state();

class AutocastGuard {
 public:
  explicit AutocastGuard(bool enabled = true, DType dtype = DType::bf16);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  AutocastState previous_;
};

// Whether an op entry point must cast first: some input is a float32 CUDA tensor (lower) or a
// 16-bit floating CUDA tensor (fp32) while autocast is on. The entry point then calls itself again
// with autocast_lower / autocast_fp32 applied to its floating inputs; the casts make the test
// false, so the second call runs the op.
//   if (autocast_wants_lower({&a, &b})) return mm(autocast_lower(a), autocast_lower(b));
bool autocast_wants_lower(std::initializer_list<const Tensor*> inputs);
bool autocast_wants_fp32(std::initializer_list<const Tensor*> inputs);

// The "lower-precision" cast: t in the autocast dtype when autocast is on and t is a float32 CUDA
// tensor; t itself otherwise (undefined tensors pass through).
Tensor autocast_lower(const Tensor& t);
// The "float32" cast: t in float32 when autocast is on and t is a 16-bit floating CUDA tensor.
Tensor autocast_fp32(const Tensor& t);

}  // namespace ember
