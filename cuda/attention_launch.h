// Launchers of cuda/attention.cu (fused scaled-dot-product attention): raw pointers and POD
// arguments (Note [CUDA kernel boundary] in cuda/layout.h). Tensor-level twins: cuda/attention.h.
// CPU twin: ops/cpu/attention.h (same problem, same conventions for lse, masks and dropout).
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

struct AttentionArgs {
  int64_t batch_heads = 0, L = 0, S = 0, d = 0, dv = 0;
  bool causal = false;
  double scale = 1.0;
  // The mask expanded to (batch..., L, S) (stride 0 on broadcast dims): element (bh, i, j) at
  // the offset of the batch index bh (row-major over the batch dims) + i·stride(-2) + j·stride(-1).
  const void* mask = nullptr;  // null: none; else const bool* or const T* (the kernel's T)
  bool mask_is_bool = false;
  StridedLayout mask_layout;
  // Note [Attention dropout stream] (ops/cpu/attention.h): the same Philox counters as the CPU.
  double dropout_p = 0.0;
  uint64_t dropout_seed = 0, dropout_offset = 0;
};

// q: (BH, L, d), k: (BH, S, d), v: (BH, S, dv) contiguous, of `type` -> out (BH, L, dv) of
// `type`, lse (BH, L) of the accumulation type (float for bf16/f16, else `type`).
void attention_forward(const AttentionArgs& a, ScalarType type, const void* q, const void* k, const void* v,
                       void* out, void* lse, Stream stream);

// Gradients by recomputation (FlashAttention-2): grad_q (BH, L, d), grad_k (BH, S, d),
// grad_v (BH, S, dv) are written; grad_scores (BH, L, S), when non-null, receives dL/dscores.
// delta: scratch of BH·L accumulation-type elements (rowsum(dO ∘ O)).
void attention_backward(const AttentionArgs& a, ScalarType type, const void* q, const void* k, const void* v,
                        const void* out, const void* grad_out, const void* lse, void* delta, void* grad_q,
                        void* grad_k, void* grad_v, void* grad_scores, Stream stream);

}  // namespace ember::cuda
