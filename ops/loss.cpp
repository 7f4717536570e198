// Losses: API, checks, dispatch and backward. Kernels: ops/cpu/loss.cpp.
// Formulas: autograd/derivatives/nn.md.
//
// Forward passes are fused kernels that produce the elementwise ("none") loss; reductions and
// weights are applied with ops, and backward formulas are written with ops, so every loss is
// differentiable twice. nll_loss is a gather (nll_gather) whose adjoint is a scatter
// (nll_scatter); each is the other's backward. cross_entropy = log_softmax + nll_loss.
#include "ops/loss.h"

#include <functional>
#include <limits>

#include "autograd/function.h"
#include "cuda/loss.h"
#include "engine/autocast.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"
#include "ops/cpu/loss.h"
#include "ops/flops.h"
#include "ops/elementwise.h"
#include "ops/elementwise_util.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "ops/unary.h"

namespace ember {

namespace {

enum class Reduction { none, mean, sum, batchmean };

Reduction parse_reduction(const char* op, const std::string& reduction, bool allow_batchmean = false) {
  if (reduction == "mean") return Reduction::mean;
  if (reduction == "sum") return Reduction::sum;
  if (reduction == "none") return Reduction::none;
  if (allow_batchmean && reduction == "batchmean") return Reduction::batchmean;
  EMBER_FAIL("{}: reduction must be 'mean', 'sum'{} or 'none', got '{}'", op, allow_batchmean ? ", 'batchmean'" : "",
             reduction);
}

Tensor reduce_loss(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::none: return loss;
    case Reduction::sum: return sum(loss);
    case Reduction::mean: return mean(loss);
    case Reduction::batchmean: return loss.dim() == 0 ? sum(loss) : div(sum(loss), static_cast<double>(loss.size(0)));
  }
  return loss;
}

// log(x) clamped below at -100 (PyTorch's BCE convention) with the gradient 1/x everywhere, so a
// probability of exactly 0 or 1 gives a finite loss; clamp_min(log(x), -100) would zero the
// gradient there instead.
Tensor loss_log(const Tensor& x) {
  Tensor out = empty_like(x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("loss_log", cuda::clamped_log(out, x));
  else cpu::clamped_log(out, x);
  record_backward("loss_log", {x}, {out}, {x}, [](BackwardContext& ctx) -> TensorList {
    return {div(ctx.grad(0), ctx.saved(0))};
  });
  return out;
}

// ---------------------------------------------------------------- nll: gather / scatter pair
struct NllArgs {
  Tensor target;  // (N, S) contiguous int64, checked
  Tensor weight;  // (C) contiguous in the input dtype, or undefined
  int64_t N = 1, C = 1, S = 1;
  Shape sample_shape;  // the per-sample loss shape ("none" reduction)
  int64_t ignore_index = -100;
};

Tensor nll_scatter(const Tensor& grad, const NllArgs& a);

// (N, C, S) -> (N, S): out[n, s] = -w[t] x[n, t, s].
Tensor nll_gather(const Tensor& x3, const NllArgs& a) {
  Tensor out = make_tensor({a.N, a.S}, x3.dtype(), x3.device());
  if (x3.device().is_cuda()) EMBER_CUDA_KERNEL("nll_loss", cuda::nll_gather(out, x3, a.target, a.weight, a.ignore_index));
  else cpu::nll_gather(out, x3, a.target, a.weight, a.ignore_index);
  record_backward("nll_loss", {x3}, {out}, {}, [a](BackwardContext& ctx) -> TensorList {
    return {nll_scatter(ctx.grad(0), a)};
  });
  return out;
}

// (N, S) -> (N, C, S): the adjoint of nll_gather.
Tensor nll_scatter(const Tensor& grad, const NllArgs& a) {
  Tensor out = zeros({a.N, a.C, a.S}, TensorOptions(grad.dtype()).device(grad.device()));
  if (grad.device().is_cuda())
    EMBER_CUDA_KERNEL("nll_loss_backward", cuda::nll_scatter(out, grad, a.target, a.weight, a.ignore_index));
  else cpu::nll_scatter(out, grad, a.target, a.weight, a.ignore_index);
  record_backward("nll_loss_backward", {grad}, {out}, {}, [a](BackwardContext& ctx) -> TensorList {
    return {nll_gather(ctx.grad(0), a)};
  });
  return out;
}

// Checks shapes, dtypes and every target value; lays the problem out as (N, C, S).
NllArgs prepare_nll(const char* op, const Tensor& input, const Tensor& target, const Tensor& weight,
                    int64_t ignore_index) {
  check_defined(op, input, "input");
  check_defined(op, target, "target");
  check_same_device(op, {&input, &target, &weight});
  EMBER_CHECK(is_floating(input.dtype()), "{}: input must be floating, got {}", op, input.describe());
  EMBER_CHECK(input.dim() >= 1, "{}: input must have a class dim, got {}", op, input.describe());
  EMBER_CHECK(target.dtype() == DType::i64 || target.dtype() == DType::i32,
              "{}: target must hold int64 class indices, got {}", op, target.describe());
  NllArgs a;
  a.ignore_index = ignore_index;
  if (input.dim() == 1) {
    a.C = input.size(0);
    EMBER_CHECK(target.dim() == 0, "{}: a (C) input {} needs a 0-d target, got {}", op, input.describe(),
                target.describe());
  } else {
    a.N = input.size(0);
    a.C = input.size(1);
    a.sample_shape = {a.N};
    for (int64_t d = 2; d < input.dim(); ++d) {
      a.S *= input.size(d);
      a.sample_shape.push_back(input.size(d));
    }
    EMBER_CHECK(target.sizes() == a.sample_shape, "{}: target {} does not match input {} (expected target shape {})",
                op, target.describe(), input.describe(), shape_str(a.sample_shape));
  }
  a.target = target.to(DType::i64).contiguous();
  // The backward nodes keep this copy: it must not alias the caller's tensor, which may change.
  if (a.target.storage() == target.storage()) a.target = a.target.clone();
  // CUDA targets are checked on a host copy: one transfer that synchronizes with the device.
  const Tensor host_target = a.target.device().is_cpu() ? a.target : a.target.cpu();
  const int64_t* t = host_target.data_ptr<int64_t>();
  for (int64_t i = 0; i < host_target.numel(); ++i) {
    EMBER_CHECK(t[i] == ignore_index || (t[i] >= 0 && t[i] < a.C),
                "{}: target {} at position {} is out of bounds for {} classes (ignore_index {})", op, t[i], i, a.C,
                ignore_index);
  }
  if (weight.defined()) {
    EMBER_CHECK(weight.dim() == 1 && weight.size(0) == a.C, "{}: weight {} must be 1-D with {} classes", op,
                weight.describe(), a.C);
    EMBER_CHECK(is_floating(weight.dtype()), "{}: weight must be floating, got {}", op, weight.describe());
    a.weight = weight.detach().to(input.dtype()).contiguous();
  }
  a.target = a.target.reshape({a.N, a.S});
  return a;
}

// nll's "mean" denominator: the sum of the class weights of the targets that are not ignored.
double total_weight(const NllArgs& a) {
  double total = 0;
  if (a.target.device().is_cuda()) EMBER_CUDA_KERNEL("nll_loss", total = cuda::nll_total_weight(a.target, a.weight, a.ignore_index));
  else total = cpu::nll_total_weight(a.target, a.weight, a.ignore_index);
  return total;
}

// The reduced nll from per-sample values (N, S) laid out by `a`.
Tensor reduce_nll(const Tensor& per_sample, const NllArgs& a, Reduction reduction) {
  switch (reduction) {
    case Reduction::none: return per_sample.reshape(a.sample_shape);
    case Reduction::sum: return sum(per_sample);
    default: return div(sum(per_sample), total_weight(a));
  }
}

// cross_entropy for (N, C) logits without label smoothing, in one pass each way: per-sample
// losses (N, 1) shaped like nll_gather's output. The fused kernel serves plain backward; with
// create_graph the same gradient is composed from ops:
//   d/dx = softmax(x) * (w[t] g) - onehot(t) w[t] g  =  softmax(x) * (w[t] g) + nll_scatter(g).
Tensor fused_cross_entropy(const Tensor& logits2d, const NllArgs& a) {
  const Tensor x = logits2d.contiguous();
  const Tensor target = a.target.reshape({a.N});
  Tensor out = make_tensor({a.N, 1}, x.dtype(), x.device());
  Tensor lse = make_tensor({a.N}, x.dtype(), x.device());
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("cross_entropy", cuda::cross_entropy_fwd(out, lse, x, target, a.weight, a.ignore_index));
  else cpu::cross_entropy_fwd(out, lse, x, target, a.weight, a.ignore_index);
  record_backward("cross_entropy", {logits2d}, {out}, {x, lse}, [a](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);  // (N, 1)
    const Tensor& x = ctx.saved(0);
    if (!ctx.create_graph()) {
      EMBER_PROFILE_OP("cross_entropy_backward", {g, x}, flops::same_shape(x, 4, {g}));
      Tensor grad_x = empty_like(x);
      const Tensor grad_n = g.reshape({a.N}).to(x.dtype()), target_n = a.target.reshape({a.N});
      if (x.device().is_cuda())
        EMBER_CUDA_KERNEL("cross_entropy_backward",
                          cuda::cross_entropy_bwd(grad_x, grad_n, x, ctx.saved(1), target_n, a.weight, a.ignore_index));
      else cpu::cross_entropy_bwd(grad_x, grad_n, x, ctx.saved(1), target_n, a.weight, a.ignore_index);
      return {grad_x};
    }
    // w[t] per sample (0 where ignored) is -nll_gather of a ones tensor.
    const Tensor sample_weight = neg(nll_gather(ones({a.N, 1, 1}, TensorOptions(x.dtype()).device(x.device())).expand({a.N, a.C, 1}), a)).detach();
    const Tensor weighted_grad = mul(g, sample_weight);  // (N, 1)
    return {add(mul(softmax(x, 1), weighted_grad), nll_scatter(g, a).reshape({a.N, a.C}))};
  });
  return out;
}

// The weight as a (1, C, 1, ...) tensor that broadcasts against the input along the class dim.
Tensor class_weight_view(const Tensor& weight, const Tensor& input) {
  if (input.dim() == 1) return weight;
  Shape shape(input.dim(), 1);
  shape[1] = weight.size(0);
  return weight.reshape(shape);
}

// ---------------------------------------------------------------- elementwise losses
// grads(g, input, target, need_input, need_target) -> {d/d input, d/d target}, written with ops.
using PointwiseGrads = std::function<TensorList(const Tensor&, const Tensor&, const Tensor&, bool, bool)>;

Tensor pointwise_loss(const char* op, cpu::PointwiseLoss kind, double param, const Tensor& input,
                      const Tensor& target, PointwiseGrads grads) {
  EMBER_PROFILE_OP(op, {input, target}, flops::elementwise({input, target}, 3));
  check_defined(op, input, "input");
  check_defined(op, target, "target");
  check_same_device(op, {&input, &target});
  EMBER_CHECK(is_floating(input.dtype()) && is_floating(target.dtype()),
              "{}: input and target must be floating, got {} and {}", op, input.describe(), target.describe());
  EMBER_CHECK(input.sizes() == target.sizes(), "{}: input {} and target {} must have the same shape", op,
              input.describe(), target.describe());
  const DType dtype = promote_types(input.dtype(), target.dtype());
  Tensor out = make_tensor(input.sizes(), dtype, input.device());
  const Tensor x = input.to(dtype), t = target.to(dtype);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::pointwise_loss(out, x, t, kind, param));
  else cpu::pointwise_loss(out, x, t, kind, param);
  record_backward(op, {input, target}, {out}, {input, target}, [grads](BackwardContext& ctx) -> TensorList {
    return grads(ctx.grad(0), ctx.saved(0), ctx.saved(1), ctx.needs_grad(0), ctx.needs_grad(1));
  });
  return out;
}

// d/d input = f'(d) g and d/d target = -f'(d) g for losses of d = input - target.
PointwiseGrads difference_grads(std::function<Tensor(const Tensor&)> derivative) {
  return [derivative](const Tensor& g, const Tensor& x, const Tensor& t, bool need_x, bool need_t) -> TensorList {
    const Tensor grad = mul(g, derivative(sub(x, t)));
    return {need_x ? grad : Tensor(), need_t ? neg(grad) : Tensor()};
  };
}

Tensor apply_weight(const char* op, const Tensor& loss, const Tensor& weight) {
  if (!weight.defined()) return loss;
  check_same_device(op, {&loss, &weight});
  EMBER_CHECK(broadcast_shapes(weight.sizes(), loss.sizes(), op) == loss.sizes(),
              "{}: weight {} does not broadcast to the loss shape {}", op, weight.describe(), shape_str(loss.sizes()));
  return mul(loss, weight);
}

}  // namespace

// ---------------------------------------------------------------- nll_loss / cross_entropy
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                const std::string& reduction) {
  EMBER_PROFILE_OP("nll_loss", {log_probs, target, weight}, flops::per_input_element(target, 1, 1, {log_probs}));
  const char* op = "nll_loss";
  const Reduction r = parse_reduction(op, reduction);
  NllArgs a = prepare_nll(op, log_probs, target, weight, ignore_index);
  return reduce_nll(nll_gather(log_probs.reshape({a.N, a.C, a.S}), a), a, r);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     const std::string& reduction, double label_smoothing) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): computed in float32.
  if (autocast_wants_fp32({&logits, &target, &weight})) {
    return cross_entropy(autocast_fp32(logits), autocast_fp32(target), autocast_fp32(weight), ignore_index, reduction,
                         label_smoothing);
  }
  EMBER_PROFILE_OP("cross_entropy", {logits, target, weight}, flops::per_input_element(logits, 6, 1, {target}));
  const char* op = "cross_entropy";
  const Reduction r = parse_reduction(op, reduction);
  check_defined(op, logits, "input");
  check_defined(op, target, "target");
  EMBER_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
              "{}: label_smoothing must be between 0.0 and 1.0, got {}", op, label_smoothing);
  EMBER_CHECK(is_floating(logits.dtype()), "{}: input must be floating, got {}", op, logits.describe());
  EMBER_CHECK(logits.dim() >= 1, "{}: input must have a class dim, got {}", op, logits.describe());
  const int64_t class_dim = logits.dim() == 1 ? 0 : 1;
  const int64_t C = logits.size(class_dim);
  if (weight.defined()) {
    EMBER_CHECK(weight.dim() == 1 && weight.size(0) == C && is_floating(weight.dtype()),
                "{}: weight {} must be a floating 1-D tensor with {} classes", op, weight.describe(), C);
  }

  if (is_floating(target.dtype())) {
    // Class probabilities.
    EMBER_CHECK(target.sizes() == logits.sizes(), "{}: probability target {} must have the input's shape {}", op,
                target.describe(), logits.describe());
    const Tensor log_probs = log_softmax(logits, class_dim);
    Tensor probs = target;
    if (label_smoothing > 0.0) probs = add(mul(target, 1.0 - label_smoothing), label_smoothing / static_cast<double>(C));
    Tensor weighted = mul(log_probs, probs);
    if (weight.defined()) weighted = mul(weighted, class_weight_view(weight.detach().to(logits.dtype()), logits));
    const Tensor per_sample = neg(sum(weighted, {class_dim}));
    return reduce_loss(per_sample, r);
  }

  if (label_smoothing == 0.0 && logits.dim() <= 2) {
    NllArgs a = prepare_nll(op, logits, target, weight, ignore_index);
    return reduce_nll(fused_cross_entropy(logits.reshape({a.N, a.C}), a), a, r);
  }
  const Tensor log_probs = log_softmax(logits, class_dim);
  NllArgs a = prepare_nll(op, log_probs, target, weight, ignore_index);
  const Tensor nll = reduce_nll(nll_gather(log_probs.reshape({a.N, a.C, a.S}), a), a, r);
  if (label_smoothing == 0.0) return nll;
  // Smoothing term: -sum_c w_c log p_c per sample, zero where ignored, reduced like nll.
  Tensor weighted = a.weight.defined() ? mul(log_probs, class_weight_view(a.weight, log_probs)) : log_probs;
  const Tensor kept = ne(a.target.reshape(a.sample_shape), static_cast<double>(ignore_index)).to(logits.dtype());
  const Tensor smooth = mul(neg(sum(weighted, {class_dim})), kept);
  Tensor smooth_reduced;
  switch (r) {
    case Reduction::none: smooth_reduced = smooth; break;
    case Reduction::sum: smooth_reduced = sum(smooth); break;
    default: smooth_reduced = div(sum(smooth), total_weight(a)); break;
  }
  return add(mul(nll, 1.0 - label_smoothing), mul(smooth_reduced, label_smoothing / static_cast<double>(C)));
}

// ---------------------------------------------------------------- regression losses
Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): computed in float32.
  if (autocast_wants_fp32({&input, &target})) return mse_loss(autocast_fp32(input), autocast_fp32(target), reduction);
  const Reduction r = parse_reduction("mse_loss", reduction);
  return reduce_loss(pointwise_loss("mse_loss", cpu::PointwiseLoss::mse, 0.0, input, target,
                                    difference_grads([](const Tensor& d) { return mul(d, 2.0); })),
                     r);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  const Reduction r = parse_reduction("l1_loss", reduction);
  return reduce_loss(pointwise_loss("l1_loss", cpu::PointwiseLoss::l1, 0.0, input, target, difference_grads(ember::sign)),
                     r);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double beta) {
  const char* op = "smooth_l1_loss";
  const Reduction r = parse_reduction(op, reduction);
  EMBER_CHECK(beta >= 0.0, "{}: beta must be non-negative, got {}", op, beta);
  if (beta == 0.0) return reduce_loss(pointwise_loss(op, cpu::PointwiseLoss::l1, 0.0, input, target,
                                                     difference_grads(ember::sign)), r);
  // d/dd = clamp(d, -beta, beta) / beta
  return reduce_loss(pointwise_loss(op, cpu::PointwiseLoss::smooth_l1, beta, input, target,
                                    difference_grads([beta](const Tensor& d) { return div(clamp(d, -beta, beta), beta); })),
                     r);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double delta) {
  const char* op = "huber_loss";
  const Reduction r = parse_reduction(op, reduction);
  EMBER_CHECK(delta > 0.0, "{}: delta must be positive, got {}", op, delta);
  // d/dd = clamp(d, -delta, delta)
  return reduce_loss(pointwise_loss(op, cpu::PointwiseLoss::huber, delta, input, target,
                                    difference_grads([delta](const Tensor& d) { return clamp(d, -delta, delta); })),
                     r);
}

// ---------------------------------------------------------------- binary cross-entropy
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, const Tensor& weight,
                            const std::string& reduction) {
  EMBER_PROFILE_OP("binary_cross_entropy", {probs, target, weight}, flops::elementwise({probs, target}, 3));
  const char* op = "binary_cross_entropy";
  const Reduction r = parse_reduction(op, reduction);
  check_defined(op, probs, "input");
  check_same_device(op, {&probs});
  bool in_unit_interval = true;  // a non-floating input fails pointwise_loss's dtype check below
  if (is_floating(probs.dtype())) {
    if (probs.device().is_cuda()) EMBER_CUDA_KERNEL(op, in_unit_interval = cuda::all_in_unit_interval(probs));
    else in_unit_interval = cpu::all_in_unit_interval(probs);
  }
  EMBER_CHECK(in_unit_interval, "{}: all elements of input {} should be between 0 and 1", op, probs.describe());
  auto grads = [](const Tensor& g, const Tensor& p, const Tensor& t, bool need_p, bool need_t) -> TensorList {
    // d/dp = (p - t) / max(p (1 - p), 1e-12); d/dt = log(1 - p) - log(p)   (PyTorch's EPSILON)
    Tensor grad_p, grad_t;
    if (need_p) grad_p = mul(g, div(sub(p, t), clamp_min(mul(p, rsub(p, 1.0)), 1e-12)));
    if (need_t) grad_t = mul(g, sub(loss_log(rsub(p, 1.0)), loss_log(p)));
    return {grad_p, grad_t};
  };
  Tensor loss = pointwise_loss(op, cpu::PointwiseLoss::bce, 0.0, probs, target, grads);
  return reduce_loss(apply_weight(op, loss, weight), r);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, const std::string& reduction) {
  EMBER_PROFILE_OP("binary_cross_entropy_with_logits", {logits, target, weight, pos_weight}, flops::elementwise({logits, target}, 3));
  const char* op = "binary_cross_entropy_with_logits";
  const Reduction r = parse_reduction(op, reduction);
  check_defined(op, logits, "input");
  check_defined(op, target, "target");
  check_same_device(op, {&logits, &target, &pos_weight});
  EMBER_CHECK(is_floating(logits.dtype()) && is_floating(target.dtype()),
              "{}: input and target must be floating, got {} and {}", op, logits.describe(), target.describe());
  EMBER_CHECK(logits.sizes() == target.sizes(), "{}: target {} must have the input's shape {}", op, target.describe(),
              logits.describe());
  DType dtype = promote_types(logits.dtype(), target.dtype());
  if (pos_weight.defined()) {
    EMBER_CHECK(is_floating(pos_weight.dtype()), "{}: pos_weight must be floating, got {}", op, pos_weight.describe());
    EMBER_CHECK(broadcast_shapes(pos_weight.sizes(), logits.sizes(), op) == logits.sizes(),
                "{}: pos_weight {} does not broadcast to the input {}", op, pos_weight.describe(), logits.describe());
    dtype = promote_types(dtype, pos_weight.dtype());
  }
  const Tensor pw = pos_weight.defined() ? pos_weight.to(dtype) : scalar_tensor(1.0, TensorOptions(dtype).device(logits.device()));
  Tensor out = make_tensor(logits.sizes(), dtype, logits.device());
  const Tensor logits_d = logits.to(dtype), target_d = target.to(dtype);
  if (logits.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::bce_with_logits(out, logits_d, target_d, pw));
  else cpu::bce_with_logits(out, logits_d, target_d, pw);
  const bool has_pos_weight = pos_weight.defined();
  record_backward(op, {logits, target, pos_weight}, {out}, {logits, target, pw},
                  [has_pos_weight](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    const Tensor& x = ctx.saved(0);
    const Tensor& t = ctx.saved(1);
    const Tensor& pw = ctx.saved(2);
    // sigmoid and softplus(-x) from e = exp(-|x|) <= 1, so nothing overflows in any order.
    const Tensor positive = ge(x, 0.0);
    const Tensor e = exp(neg(where(positive, x, neg(x))));
    const Tensor one_plus_e = add(e, 1.0);
    const Tensor sigmoid = where(positive, rdiv(one_plus_e, 1.0), div(e, one_plus_e));
    const Tensor softplus_neg_x = add(loss_log(one_plus_e), clamp_min(neg(x), 0.0));
    Tensor grad_x, grad_t, grad_pw;
    if (ctx.needs_grad(0)) {
      // d/dx = (1 - t) - L (1 - sigmoid), L = 1 + (pw - 1) t
      if (has_pos_weight) {
        const Tensor L = add(mul(sub(pw, 1.0), t), 1.0);
        grad_x = mul(g, sub(rsub(t, 1.0), mul(L, rsub(sigmoid, 1.0))));
      } else {
        grad_x = mul(g, sub(sigmoid, t));
      }
    }
    if (ctx.needs_grad(1)) {
      // d/dt = -x + (pw - 1) softplus(-x)
      grad_t = has_pos_weight ? mul(g, sub(mul(sub(pw, 1.0), softplus_neg_x), x)) : mul(g, neg(x));
    }
    if (ctx.needs_grad(2)) grad_pw = sum_to(mul(g, mul(t, softplus_neg_x)), ctx.input_shape(2));
    return {grad_x, grad_t, grad_pw};
  });
  return reduce_loss(apply_weight(op, out, weight), r);
}

// ---------------------------------------------------------------- kl_div
Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction, bool log_target) {
  EMBER_PROFILE_OP("kl_div", {input, target}, flops::elementwise({input, target}, 3));
  const char* op = "kl_div";
  const Reduction r = parse_reduction(op, reduction, /*allow_batchmean=*/true);
  PointwiseGrads grads;
  if (log_target) {
    // loss = exp(t) (t - x): d/dx = -exp(t), d/dt = exp(t) (t - x + 1)
    grads = [](const Tensor& g, const Tensor& x, const Tensor& t, bool need_x, bool need_t) -> TensorList {
      const Tensor et = exp(t);
      return {need_x ? neg(mul(g, et)) : Tensor(), need_t ? mul(g, mul(et, add(sub(t, x), 1.0))) : Tensor()};
    };
  } else {
    // loss = t log t - t x: d/dx = -t, d/dt = log t + 1 - x
    grads = [](const Tensor& g, const Tensor& x, const Tensor& t, bool need_x, bool need_t) -> TensorList {
      return {need_x ? neg(mul(g, t)) : Tensor(), need_t ? mul(g, sub(add(loss_log(t), 1.0), x)) : Tensor()};
    };
  }
  return reduce_loss(pointwise_loss(op, log_target ? cpu::PointwiseLoss::kl_div_log_target : cpu::PointwiseLoss::kl_div,
                                    0.0, input, target, grads),
                     r);
}

}  // namespace ember
