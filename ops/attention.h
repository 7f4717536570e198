// scaled_dot_product_attention with a key-tiled CPU kernel (O(L·d) memory).
// Twins: ops/attention.cpp (checks, dispatch, backward), ops/cpu/attention.cpp (kernels),
// autograd/derivatives/attention.md (formulas).
#pragma once
#include <optional>

#include "engine/random.h"
#include "engine/tensor.h"

namespace ember {

// softmax(q kᵀ · scale + mask) v, with PyTorch's semantics:
//   q: (..., L, d), k: (..., S, d), v: (..., S, dv) -> (..., L, dv); batch dims broadcast.
//   attn_mask: bool (true = take part) or an additive float mask of q's dtype, broadcastable to
//     (..., L, S); a float mask that requires grad gets a gradient.
//   is_causal: keep key j for query i iff j <= i (top-left aligned tril(L, S)); excludes attn_mask.
//   scale: defaults to 1/sqrt(d). dropout_p: dropout on the attention weights, drawn from
//   `generator` (the default generator when null), see Note [Attention dropout stream].
// A query row whose keys are all masked gives 0 (and zero gradients), not NaN.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0.0,
                                    bool is_causal = false, std::optional<double> scale = std::nullopt,
                                    Generator* generator = nullptr);

namespace detail {

// The same function composed of differentiable ops (matmul, exp, sums; it builds the (..., L, S)
// scores): the naive reference the fused kernel is tested against, and the double-backward path.
// `dropout_factors` (..., L, S), when given, multiplies the attention weights (0 or 1/(1-p)).
Tensor attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask = Tensor(),
                           bool is_causal = false, std::optional<double> scale = std::nullopt,
                           const Tensor& dropout_factors = Tensor());

// The dropout multipliers (0 or 1/(1-p)), shape batch + (L, S), that scaled_dot_product_attention
// draws when it is called with a generator in state `state` (Note [Attention dropout stream]).
Tensor attention_dropout_factors(const Shape& batch, int64_t L, int64_t S, double p, GeneratorState state,
                                 DType dtype);

}  // namespace detail
}  // namespace ember
