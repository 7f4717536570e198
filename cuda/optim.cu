// Fused optimizer steps on the GPU (cuda/optim_launch.h). Multi-tensor apply: the parameters of
// one step are packed FusedBatch::kTensors at a time into the kernel's argument block; block row
// blockIdx.y updates tensor y with a grid-stride loop over its elements, so one launch serves
// sixteen parameters of any sizes and a ResNet step needs a handful of launches, not hundreds.
#include <algorithm>

#include "cuda/kernel_util.cuh"
#include "cuda/optim_launch.h"

namespace ember::cuda {

namespace {

// 16 tensors x 104 bytes: well inside the 4 KiB kernel-argument limit.
struct FusedBatch {
  static constexpr int kTensors = 16;
  int count = 0;
  FusedTensor tensors[kTensors];
};

// The formulas of optim/sgd.cpp, optim/adamw.cpp and optim/lion.cpp, in the same order.
template <class T, FusedOptimizer kKind>
__device__ __forceinline__ void update(int64_t i, T* w, const T* g, T* s0, T* s1, T* s2, const FusedHyper& h) {
  if constexpr (kKind == FusedOptimizer::sgd) {
    const T d = T(h.sign) * g[i] + T(h.weight_decay) * w[i];
    if (!(h.flags & kFusedMomentum)) {
      w[i] -= T(h.lr) * d;
      return;
    }
    s0[i] = (h.flags & kFusedFirstStep) ? d : T(h.beta1) * s0[i] + T(h.keep) * d;
    w[i] -= T(h.lr) * ((h.flags & kFusedNesterov) ? d + T(h.beta1) * s0[i] : s0[i]);
  } else if constexpr (kKind == FusedOptimizer::adam) {
    const T grad = T(h.sign) * g[i] + T(h.weight_decay) * w[i];
    if (h.shrink != 1.0) w[i] *= T(h.shrink);
    s0[i] = T(h.beta1) * s0[i] + T(1.0 - h.beta1) * grad;
    s1[i] = T(h.beta2) * s1[i] + T(1.0 - h.beta2) * grad * grad;
    T second = s1[i];
    if (h.flags & kFusedAmsgrad) second = s2[i] = s2[i] > s1[i] ? s2[i] : s1[i];
    const T denom = sqrt(second) / T(h.correction2_sqrt) + T(h.eps);
    w[i] -= T(h.step_size) * s0[i] / denom;
  } else {  // lion
    const T c = T(h.beta1) * s0[i] + T(1.0 - h.beta1) * g[i];
    const T sign = c > T(0) ? T(1) : (c < T(0) ? T(-1) : T(0));
    w[i] = w[i] * T(h.shrink) - T(h.lr) * sign;
    s0[i] = T(h.beta2) * s0[i] + T(1.0 - h.beta2) * g[i];
  }
}

template <class T, FusedOptimizer kKind> __global__ void fused_step_kernel(FusedBatch batch) {
  const FusedTensor& t = batch.tensors[blockIdx.y];
  T* w = static_cast<T*>(t.param);
  const T* g = static_cast<const T*>(t.grad);
  T* s0 = static_cast<T*>(t.state[0]);
  T* s1 = static_cast<T*>(t.state[1]);
  T* s2 = static_cast<T*>(t.state[2]);
  for (int64_t i = global_thread_index(); i < t.numel; i += global_thread_count()) update<T, kKind>(i, w, g, s0, s1, s2, t.hyper);
}

template <class T> void launch(FusedOptimizer kind, const FusedBatch& batch, int64_t largest, cudaStream_t stream) {
  const dim3 grid(grid_for(largest), static_cast<unsigned>(batch.count));
  switch (kind) {
    case FusedOptimizer::sgd: fused_step_kernel<T, FusedOptimizer::sgd><<<grid, 256, 0, stream>>>(batch); break;
    case FusedOptimizer::adam: fused_step_kernel<T, FusedOptimizer::adam><<<grid, 256, 0, stream>>>(batch); break;
    case FusedOptimizer::lion: fused_step_kernel<T, FusedOptimizer::lion><<<grid, 256, 0, stream>>>(batch); break;
  }
}

}  // namespace

void fused_optimizer_step(FusedOptimizer kind, ScalarType type, const FusedTensor* tensors, int count, Stream stream) {
  if (type != ScalarType::f32 && type != ScalarType::f64) {
    detail::kernel_error("fused optimizer step", "parameters must be float32 or float64");
  }
  for (int begin = 0; begin < count; begin += FusedBatch::kTensors) {
    FusedBatch batch;
    batch.count = std::min(FusedBatch::kTensors, count - begin);
    int64_t largest = 1;
    for (int k = 0; k < batch.count; ++k) {
      batch.tensors[k] = tensors[begin + k];
      largest = std::max(largest, tensors[begin + k].numel);
    }
    if (type == ScalarType::f32) {
      launch<float>(kind, batch, largest, raw_stream(stream));
    } else {
      launch<double>(kind, batch, largest, raw_stream(stream));
    }
    EMBER_CUDA_LAUNCH_CHECK("fused optimizer step");
  }
}

}  // namespace ember::cuda
