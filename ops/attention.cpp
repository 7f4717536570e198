// scaled_dot_product_attention: API, argument checks, dispatch and backward, side by side.
// Kernels: ops/cpu/attention.cpp (CPU), cuda/attention.cu (CUDA). Formulas: autograd/derivatives/attention.md.
//
// First-order backward runs the fused recomputing kernel (memory O(L·d)). With create_graph the
// backward is instead written with differentiable ops (attention_reference's pieces: matmul,
// softmax by exp/sum, where), so double backward works; that path holds (..., L, S) score
// matrices, fine for the sizes that need second derivatives.
#include "ops/attention.h"

#include <cmath>
#include <limits>

#include "autograd/function.h"
#include "cuda/attention.h"
#include "engine/autocast.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"
#include "ops/cpu/attention.h"
#include "ops/elementwise.h"
#include "ops/elementwise_util.h"
#include "ops/flops.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/unary.h"

namespace ember {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

Shape batch_of(const Tensor& t) { return Shape(t.sizes().begin(), t.sizes().end() - 2); }
Shape with_rows(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}
Tensor expand_to(const Tensor& t, const Shape& sizes) { return t.sizes() == sizes ? t : t.expand(sizes); }

// keep[i, j] = j <= i, shape (L, S): the top-left aligned causal mask.
Tensor causal_keep(int64_t L, int64_t S) {
  Tensor keep = empty({L, S}, DType::bool_);
  bool* data = keep.data_ptr<bool>();
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < S; ++j) data[i * S + j] = j <= i;
  return keep;
}

// Row max over the last dim as a constant (..., 1); fully masked rows give 0. Softmax is
// shift-invariant, so subtracting a constant changes neither the value nor any derivative.
// Computed on the CPU (a CUDA tensor's scores make a round trip: only the create_graph and
// empty-problem paths come here).
Tensor detached_row_max(const Tensor& scores) {
  if (!scores.device().is_cpu()) return detached_row_max(scores.detach().cpu()).to(scores.device());
  Tensor flat = scores.detach().contiguous();
  Shape out_shape = scores.sizes();
  out_shape.back() = 1;
  Tensor result = empty(out_shape, scores.dtype());
  const int64_t cols = scores.size(-1);
  const int64_t rows = cols == 0 ? result.numel() : flat.numel() / cols;
  dispatch_floating(scores.dtype(), kOp, [&]<class T>() {
    const T* in = flat.data_ptr<T>();
    T* out = result.data_ptr<T>();
    for (int64_t r = 0; r < rows; ++r) {
      T best = -std::numeric_limits<T>::infinity();
      for (int64_t c = 0; c < cols; ++c) best = std::max(best, in[r * cols + c]);
      out[r] = std::isfinite(best) ? best : T(0);
    }
  });
  return result;
}

// Attention weights softmax(q kᵀ · scale + mask), (..., L, S), from differentiable ops only.
Tensor reference_weights(const Tensor& q, const Tensor& k, const Tensor& mask, bool causal, double scale) {
  Tensor scores = mul(matmul(q, k.transpose(-2, -1)), scale);  // (..., L, S)
  if (causal) scores = where(causal_keep(q.size(-2), k.size(-2)).to(q.device()), scores, kNegInf);
  if (mask.defined()) scores = mask.dtype() == DType::bool_ ? where(mask, scores, kNegInf) : add(scores, mask);
  Tensor e = exp(sub(scores, detached_row_max(scores)));
  Tensor denominator = sum(e, {-1}, /*keepdim=*/true);
  return div(e, where(eq(denominator, 0.0), 1.0, denominator));  // fully masked rows -> 0
}

// The logsumexp is kept in float32 for 16-bit inputs (cuda/attention.h), else in the inputs' dtype.
DType lse_dtype(DType dtype) { return dtype == DType::bf16 || dtype == DType::f16 ? DType::f32 : dtype; }

double default_scale(int64_t d, std::optional<double> scale) {
  return scale ? *scale : 1.0 / std::sqrt(static_cast<double>(d));
}

// Gradients of attention written with differentiable ops (the create_graph path):
//   dV = (P∘Z)ᵀ dO, dP = (dO Vᵀ)∘Z, dS = P∘(dP - rowsum(P∘dP)), dQ = scale·dS K, dK = scale·dSᵀ Q,
//   d(mask) = dS summed to the mask's shape.
TensorList reference_backward(const BackwardContext& ctx, const Tensor& grad_out, const Tensor& mask, bool causal,
                              double scale, const Tensor& dropout_factors) {
  const Tensor& q = ctx.saved(0);
  const Tensor& k = ctx.saved(1);
  const Tensor& v = ctx.saved(2);
  Tensor weights = reference_weights(q, k, mask, causal, scale);
  const bool dropout = dropout_factors.defined();
  TensorList grads(4);
  if (ctx.needs_grad(2)) {
    Tensor kept = dropout ? mul(weights, dropout_factors) : weights;
    grads[2] = matmul(kept.transpose(-2, -1), grad_out);  // (..., S, dv)
  }
  if (!ctx.needs_grad(0) && !ctx.needs_grad(1) && !ctx.needs_grad(3)) return grads;
  Tensor grad_weights = matmul(grad_out, v.transpose(-2, -1));  // (..., L, S)
  if (dropout) grad_weights = mul(grad_weights, dropout_factors);
  Tensor row_dot = sum(mul(grad_weights, weights), {-1}, /*keepdim=*/true);
  Tensor grad_scores = mul(weights, sub(grad_weights, row_dot));
  if (ctx.needs_grad(0)) grads[0] = mul(matmul(grad_scores, k), scale);
  if (ctx.needs_grad(1)) grads[1] = mul(matmul(grad_scores.transpose(-2, -1), q), scale);
  if (ctx.needs_grad(3)) grads[3] = sum_to(grad_scores, ctx.input_shape(3));
  return grads;
}

// The mask as the kernel reads it (see cpu::AttentionMask); `expanded` must outlive its use.
cpu::AttentionMask kernel_mask(const Tensor& expanded, int64_t batch_heads) {
  cpu::AttentionMask mask;
  if (!expanded.defined()) return mask;
  mask.data = expanded.raw_data();
  mask.is_bool = expanded.dtype() == DType::bool_;
  const int64_t batch_dims = expanded.dim() - 2;
  mask.stride_l = expanded.stride(-2);
  mask.stride_s = expanded.stride(-1);
  mask.batch_offsets.resize(batch_heads);
  for (int64_t bh = 0; bh < batch_heads; ++bh) {
    int64_t remaining = bh, offset = 0;
    for (int64_t dim = batch_dims - 1; dim >= 0; --dim) {
      offset += (remaining % expanded.size(dim)) * expanded.stride(dim);
      remaining /= expanded.size(dim);
    }
    mask.batch_offsets[bh] = offset;
  }
  return mask;
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                                    double dropout_p, bool is_causal, std::optional<double> scale,
                                    Generator* generator) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): 16-bit CUDA math, float32 accumulation.
  if (autocast_wants_lower({&q, &k, &v})) {
    return scaled_dot_product_attention(autocast_lower(q), autocast_lower(k), autocast_lower(v), autocast_lower(attn_mask),
                                        dropout_p, is_causal, scale, generator);
  }
  EMBER_PROFILE_OP(kOp, {q, k, v, attn_mask}, flops::attention(q, k, v, attn_mask));
  check_defined(kOp, q, "query");
  check_defined(kOp, k, "key");
  check_defined(kOp, v, "value");
  check_same_device(kOp, {&q, &k, &v, &attn_mask});
  EMBER_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2,
              "{}: query (..., L, d), key (..., S, d) and value (..., S, dv) need at least 2 dims, got query {}, "
              "key {}, value {}", kOp, q.describe(), k.describe(), v.describe());
  EMBER_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype() && is_floating(q.dtype()),
              "{}: query, key and value must share one floating dtype, got query {}, key {}, value {}", kOp,
              q.describe(), k.describe(), v.describe());
  EMBER_CHECK(q.size(-1) == k.size(-1), "{}: query {} and key {} must have the same feature size d (last dim)", kOp,
              q.describe(), k.describe());
  EMBER_CHECK(k.size(-2) == v.size(-2), "{}: key {} and value {} must have the same number of keys S (dim -2)", kOp,
              k.describe(), v.describe());
  EMBER_CHECK(dropout_p >= 0.0 && dropout_p <= 1.0, "{}: dropout_p must be in [0, 1], got {}", kOp, dropout_p);
  EMBER_CHECK(!(is_causal && attn_mask.defined()),
              "{}: attn_mask {} and is_causal cannot both be set (put the causal mask into attn_mask)", kOp,
              attn_mask.describe());
  EMBER_CHECK(!scale || std::isfinite(*scale), "{}: scale must be finite, got {}", kOp, scale.value_or(0.0));

  const Shape batch = broadcast_shapes(broadcast_shapes(batch_of(q), batch_of(k), kOp), batch_of(v), kOp);
  const int64_t L = q.size(-2), S = k.size(-2), d = q.size(-1), dv = v.size(-1);
  const Shape scores_shape = with_rows(batch, L, S);
  if (attn_mask.defined()) {
    EMBER_CHECK(attn_mask.dtype() == DType::bool_ || attn_mask.dtype() == q.dtype(),
                "{}: attn_mask {} must be bool or have the query's dtype ({})", kOp, attn_mask.describe(),
                dtype_name(q.dtype()));
    EMBER_CHECK(attn_mask.dim() <= static_cast<int64_t>(scores_shape.size()) &&
                    broadcast_shapes(attn_mask.sizes(), scores_shape, kOp) == scores_shape,
                "{}: attn_mask {} does not broadcast to the scores' shape {} (..., L, S)", kOp, attn_mask.describe(),
                shape_str(scores_shape));
  }
  const double scale_value = default_scale(d, scale);
  const Tensor qe = expand_to(q, with_rows(batch, L, d));
  const Tensor ke = expand_to(k, with_rows(batch, S, d));
  const Tensor ve = expand_to(v, with_rows(batch, S, dv));
  const int64_t batch_heads = numel_of(batch);

  cpu::AttentionProblem problem;
  problem.batch_heads = batch_heads;
  problem.L = L;
  problem.S = S;
  problem.d = d;
  problem.dv = dv;
  problem.causal = is_causal;
  problem.scale = scale_value;
  GeneratorState dropout_state;
  if (dropout_p > 0.0) {
    Generator& gen = generator != nullptr ? *generator : default_generator();
    dropout_state = gen.state();
    gen.advance(static_cast<uint64_t>(batch_heads * L * S));
    problem.dropout = {dropout_p, dropout_state.seed, dropout_state.offset};
  }
  auto dropout_factors = [=]() {
    return dropout_p > 0.0
               ? detail::attention_dropout_factors(batch, L, S, dropout_p, dropout_state, q.dtype()).to(q.device())
               : Tensor();
  };

  // Empty problems go through the composite, whose reductions already get empty sums right
  // (S = 0 gives zeros, as PyTorch).
  if (batch_heads == 0 || L == 0 || S == 0 || d == 0 || dv == 0) {
    return detail::attention_reference(qe, ke, ve, attn_mask, is_causal, scale_value, dropout_factors());
  }

  const Tensor mask_expanded = attn_mask.defined() ? attn_mask.detach().expand(scores_shape) : Tensor();
  const bool on_cuda = q.device().is_cuda();
  Tensor out = make_tensor(with_rows(batch, L, dv), q.dtype(), q.device());
  Tensor lse = make_tensor({batch_heads, L}, lse_dtype(q.dtype()), q.device());
  {
    const Tensor qc = qe.detach().contiguous(), kc = ke.detach().contiguous(), vc = ve.detach().contiguous();
    if (on_cuda) {
      EMBER_CUDA_KERNEL(kOp, cuda::attention_fwd(problem, qc, kc, vc, mask_expanded, out, lse));
    } else {
      problem.mask = kernel_mask(mask_expanded, batch_heads);
      dispatch_floating(q.dtype(), kOp, [&]<class T>() {
        cpu::attention_fwd<T>(problem, qc.data_ptr<T>(), kc.data_ptr<T>(), vc.data_ptr<T>(), out.data_ptr<T>(),
                              lse.data_ptr<T>());
      });
    }
  }

  record_backward(kOp, {qe, ke, ve, attn_mask}, {out}, {qe, ke, ve, out, lse},
                  [problem, mask_expanded, attn_mask, dropout_factors](BackwardContext& ctx) -> TensorList {
    const Tensor& grad_out = ctx.grad(0);
    if (!grad_out.defined()) return {Tensor(), Tensor(), Tensor(), Tensor()};
    if (ctx.create_graph()) {
      return reference_backward(ctx, grad_out, attn_mask, problem.causal, problem.scale, dropout_factors());
    }
    EMBER_PROFILE_OP("scaled_dot_product_attention_backward", {grad_out, ctx.saved(0), ctx.saved(1), ctx.saved(2)},
                     flops::backward(flops::attention(ctx.saved(0), ctx.saved(1), ctx.saved(2), Tensor()), 2.5));
    cpu::AttentionProblem p = problem;
    const Tensor qc = ctx.saved(0).detach().contiguous(), kc = ctx.saved(1).detach().contiguous(),
                 vc = ctx.saved(2).detach().contiguous(), oc = ctx.saved(3).detach().contiguous(),
                 gc = grad_out.detach().contiguous();
    const Tensor& lse_saved = ctx.saved(4);
    const Device device = qc.device();
    Tensor grad_q = make_tensor(ctx.input_shape(0), qc.dtype(), device);
    Tensor grad_k = make_tensor(ctx.input_shape(1), qc.dtype(), device);
    Tensor grad_v = make_tensor(ctx.input_shape(2), qc.dtype(), device);
    Tensor grad_scores;
    if (ctx.needs_grad(3)) {
      Shape scores_shape = ctx.input_shape(0);
      scores_shape.back() = p.S;
      grad_scores = make_tensor(scores_shape, qc.dtype(), device);
    }
    if (device.is_cuda()) {
      EMBER_CUDA_KERNEL("scaled_dot_product_attention_backward",
                        cuda::attention_bwd(p, qc, kc, vc, mask_expanded, oc, gc, lse_saved, grad_q, grad_k, grad_v,
                                            grad_scores));
    } else {
      p.mask = kernel_mask(mask_expanded, p.batch_heads);  // the captured tensor's pointers
      dispatch_floating(qc.dtype(), kOp, [&]<class T>() {
        cpu::attention_bwd<T>(p, qc.data_ptr<T>(), kc.data_ptr<T>(), vc.data_ptr<T>(), oc.data_ptr<T>(),
                              gc.data_ptr<T>(), lse_saved.data_ptr<T>(), grad_q.data_ptr<T>(), grad_k.data_ptr<T>(),
                              grad_v.data_ptr<T>(), grad_scores.defined() ? grad_scores.data_ptr<T>() : nullptr);
      });
    }
    return {ctx.needs_grad(0) ? grad_q : Tensor(), ctx.needs_grad(1) ? grad_k : Tensor(),
            ctx.needs_grad(2) ? grad_v : Tensor(),
            ctx.needs_grad(3) ? sum_to(grad_scores, ctx.input_shape(3)) : Tensor()};
  });
  return out;
}

namespace detail {

Tensor attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                           bool is_causal, std::optional<double> scale, const Tensor& dropout_factors) {
  Tensor weights = reference_weights(q, k, attn_mask, is_causal, default_scale(q.size(-1), scale));
  if (dropout_factors.defined()) weights = mul(weights, dropout_factors);
  return matmul(weights, v);  // (..., L, dv)
}

Tensor attention_dropout_factors(const Shape& batch, int64_t L, int64_t S, double p, GeneratorState state,
                                 DType dtype) {
  EMBER_CHECK(p >= 0.0 && p <= 1.0, "{}: dropout_p must be in [0, 1], got {}", kOp, p);
  cpu::AttentionProblem problem;
  problem.batch_heads = numel_of(batch);
  problem.L = L;
  problem.S = S;
  problem.dropout = {p, state.seed, state.offset};
  Tensor factors = empty(with_rows(batch, L, S), dtype);
  dispatch_floating(dtype, kOp, [&]<class T>() { cpu::attention_dropout_factors<T>(problem, factors.data_ptr<T>()); });
  return factors;
}

}  // namespace detail
}  // namespace ember
