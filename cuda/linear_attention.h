// CUDA twins of the chunked kernels in ops/cpu/linear_attention.h, taking Tensors (Note [CUDA kernel
// boundary] in cuda/layout.h). Kernels: cuda/linear_attention.cu (Note [CUDA linear attention
// blocks] there). Called by ops/linear_attention.cpp under EMBER_CUDA_KERNEL.
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/linear_attention.h"

namespace ember::cuda {

// As cpu::linear_attention_chunked_fwd on one CUDA device: q, k (B, H, L, dk), v (B, H, L, dv),
// log_gates (B, H, L) or undefined, all contiguous, float32 or float64 -> out (B, H, L, dv).
void linear_attention_chunked_fwd(const cpu::LinearAttentionProblem& p, const Tensor& q, const Tensor& k,
                                  const Tensor& v, const Tensor& log_gates, const Tensor& out);

// As cpu::linear_attention_chunked_bwd: grad_q, grad_k, grad_v written; grad_log_gates when defined.
void linear_attention_chunked_bwd(const cpu::LinearAttentionProblem& p, const Tensor& q, const Tensor& k,
                                  const Tensor& v, const Tensor& log_gates, const Tensor& grad_out,
                                  const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                                  const Tensor& grad_log_gates);

}  // namespace ember::cuda
