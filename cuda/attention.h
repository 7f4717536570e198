// CUDA twins of the kernels in ops/cpu/attention.h (scaled_dot_product_attention), taking Tensors
// (Note [CUDA kernel boundary] in cuda/layout.h). Kernels: cuda/attention.cu (design: Note [CUDA
// attention tiles] there). Called by ops/attention.cpp under EMBER_CUDA_KERNEL.
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/attention.h"

namespace ember::cuda {

// As cpu::attention_fwd, on one CUDA device: q (BH, L, d), k (BH, S, d), v (BH, S, dv) contiguous
// (any leading dims flattening to BH), out (BH, L, dv). `mask` is the attention mask expanded to
// (batch..., L, S) (any strides) or undefined; p.mask is not read (its offsets are host memory).
// lse: (BH, L) float32 for bfloat16/float16 inputs (a 16-bit logsumexp would cost the backward
// ~1% per probability), else the inputs' dtype. Dtypes: float32, float64, bfloat16, float16.
void attention_fwd(const cpu::AttentionProblem& p, const Tensor& q, const Tensor& k, const Tensor& v,
                   const Tensor& mask, const Tensor& out, const Tensor& lse);

// As cpu::attention_bwd: grad_q/grad_k/grad_v written; grad_scores (BH, L, S) when defined.
void attention_bwd(const cpu::AttentionProblem& p, const Tensor& q, const Tensor& k, const Tensor& v,
                   const Tensor& mask, const Tensor& out, const Tensor& grad_out, const Tensor& lse,
                   const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v, const Tensor& grad_scores);

// The dtype attention_fwd's lse has for inputs of `dtype`.
DType attention_lse_dtype(DType dtype);

}  // namespace ember::cuda
