// In-place ops (Tensor::add_ etc.).
// Without autograd they compute and write into the tensor's memory. With autograd they are
// "out-of-place on a clone, then rebase": the result's graph is computed from a clone of the old
// value (so nodes that need the old value keep an unmodified copy), the data is written back, and
// the tensor's grad_fn becomes the result's. Other nodes that saved the old tensor see the
// version bump and refuse to run (Note [Version counter], engine/tensor.h).
#include <functional>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "cuda/elementwise.h"
#include "engine/copy.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/elementwise.h"
#include "ops/elementwise.h"
#include "ops/flops.h"
#include "ops/index.h"
#include "ops/unary.h"

namespace ember {

namespace {

Tensor& apply_inplace(Tensor& self, const char* op, const std::function<Tensor(const Tensor&)>& compute,
                      const TensorList& others = {}) {
  EMBER_PROFILE_OP(op, {self}, flops::movement({self}, flops::numel(self)));
  check_defined(op, self, "self");
  const bool tracking = GradMode::is_enabled() && (self.requires_grad() || any_requires_grad(others));
  EMBER_CHECK(!(GradMode::is_enabled() && self.is_leaf() && self.requires_grad()),
              "{}: a leaf tensor that requires grad ({}) cannot be modified in place; wrap the update in "
              "NoGradGuard (as optimizers do) or work on a clone",
              op, self.describe());
  // Any in-graph update of a view is refused, also one that writes a constant (fill_, zero_):
  // the base's history would not see the write and its gradient would be silently wrong.
  EMBER_CHECK(!(tracking && self.impl().is_view),
              "{}: in-place update of a view ({}) inside a graph that requires grad is not supported; use the "
              "out-of-place op",
              op, self.describe());
  // As in PyTorch, writing into a tensor whose elements share memory (an expanded tensor) is an
  // error, except for the idempotent fill_ and zero_.
  if (std::string(op) != "fill_" && std::string(op) != "zero_") {
    for (int64_t d = 0; d < self.dim(); ++d) {
      EMBER_CHECK(self.size(d) <= 1 || self.stride(d) != 0,
                  "{}: more than one element of the written-to tensor {} (strides {}) refers to a single memory "
                  "location; clone() it first",
                  op, self.describe(), shape_str(self.strides()));
    }
  }
  const Tensor input = tracking ? self.clone() : self;
  Tensor result = compute(input);
  EMBER_CHECK(result.sizes() == self.sizes(), "{}: the result of shape {} cannot be written into {} in place", op,
              shape_str(result.sizes()), self.describe());
  // PyTorch's canCast: arithmetic may not turn floats into integers or anything into bool.
  EMBER_CHECK(std::string(op) == "copy_" || can_cast(result.dtype(), self.dtype()),
              "{}: result type {} cannot be cast to the in-place target's type {}", op, dtype_name(result.dtype()),
              dtype_name(self.dtype()));
  if (tracking && !result.requires_grad() && self.requires_grad()) {
    // Overwritten by a constant (fill_, zero_, copy_ of a constant): as in PyTorch the tensor stays
    // in the graph, with a zero gradient towards its old value (a non-leaf stays a non-leaf).
    result = result.detach();
    record_backward(op, {input}, {result}, {}, [](BackwardContext& ctx) -> TensorList {
      return {zeros(ctx.input_shape(0), TensorOptions(ctx.input_dtype(0)).device(ctx.grad(0).device()))};
    });
  }
  copy_data(self, result);
  self.bump_version();
  if (tracking) {
    AutogradMeta& meta = autograd_meta(self);
    // retain_grad follows the tensor to its new grad_fn (as in PyTorch).
    TensorHook retain;
    if (meta.grad_fn) {
      if (auto it = meta.grad_fn->retain_grad_hooks.find(meta.output_nr); it != meta.grad_fn->retain_grad_hooks.end()) {
        retain = std::move(it->second);
        meta.grad_fn->retain_grad_hooks.erase(it);
      }
    }
    if (result.requires_grad()) {
      meta.grad_fn = result.grad_fn();
      meta.output_nr = result.output_nr();
      if (retain) meta.grad_fn->retain_grad_hooks[meta.output_nr] = std::move(retain);
    } else {
      meta.grad_fn = nullptr;  // self never required grad and still does not (e.g. int target)
      meta.requires_grad = false;
    }
    // Note [Stale views] (engine/tensor.h): other aliases' recorded histories are now out of date.
    meta.history_changes_seen = self.impl().version->history_changes.fetch_add(1) + 1;
  }
  return self;
}

// Note [Direct in-place arithmetic]: outside autograd (an optimizer's update under NoGradGuard),
// add_ / sub_ / mul_ of a floating tensor by a same-dtype tensor that broadcasts to it, or by a
// scalar, run the kernel with self as both output and input: one pass over memory instead of
// computing a new tensor and copying it back (3x the traffic, and a fresh buffer per update).
// Only when self is contiguous and `other` does not share its memory (or is self itself), so no
// element is read after being written; everything else takes apply_inplace. On CUDA the same holds
// (each element is read and written by one thread, cuda/elementwise_map.cuh) when both tensors are
// on one device.
bool direct_inplace_ok(const Tensor& self, const Tensor& other) {
  if (!self.defined() || !other.defined() || self.device() != other.device()) return false;
  if (GradMode::is_enabled() && (self.requires_grad() || other.requires_grad())) return false;
  const bool float_kernel = self.dtype() == DType::f32 || self.dtype() == DType::f64;
  if (!float_kernel || other.dtype() != self.dtype() || !self.is_contiguous()) return false;
  if (other.storage() == self.storage() && !other.is_same(self)) return false;
  if (other.dim() > self.dim()) return false;
  for (int64_t d = 1; d <= other.dim(); ++d)  // trailing dims: equal, or 1 (broadcast)
    if (other.size(-d) != 1 && other.size(-d) != self.size(-d)) return false;
  return true;
}

// Runs `kernel` (which writes self) and bumps self's version, as every in-place op does.
template <class Kernel>
Tensor& write_direct(Tensor& self, const char* op, Kernel kernel) {
  EMBER_PROFILE_OP(op, {self}, flops::movement({self}, flops::numel(self)));
  kernel();
  self.bump_version();
  return self;
}

// A 0-d tensor of self's dtype on self's device (undefined unless self is f32 / f64: others take
// apply_inplace).
Tensor scalar_like(const Tensor& self, double value) {
  const bool float_kernel = self.defined() && (self.dtype() == DType::f32 || self.dtype() == DType::f64);
  return float_kernel ? scalar_tensor(value, TensorOptions(self.dtype()).device(self.device())) : Tensor();
}

// The direct kernels: cpu:: or cuda:: by self's device (Note [CUDA dispatch], engine/dispatch.h).
void add_kernel(const Tensor& out, const Tensor& a, const Tensor& b, double alpha) {
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("add_", cuda::add(out, a, b, alpha));
  else cpu::add(out, a, b, alpha);
}
void mul_kernel(const Tensor& out, const Tensor& a, const Tensor& b) {
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("mul_", cuda::mul(out, a, b));
  else cpu::mul(out, a, b);
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  if (direct_inplace_ok(*this, other))
    return write_direct(*this, "add_", [&] { add_kernel(*this, *this, other, alpha); });
  return apply_inplace(*this, "add_", [&](const Tensor& s) { return add(s, other, alpha); }, {other});
}
Tensor& Tensor::add_(double other) {
  if (const Tensor b = scalar_like(*this, other); direct_inplace_ok(*this, b))
    return write_direct(*this, "add_", [&] { add_kernel(*this, *this, b, 1.0); });
  return apply_inplace(*this, "add_", [&](const Tensor& s) { return add(s, other); });
}
Tensor& Tensor::sub_(const Tensor& other, double alpha) {
  if (direct_inplace_ok(*this, other))
    return write_direct(*this, "sub_", [&] { add_kernel(*this, *this, other, -alpha); });
  return apply_inplace(*this, "sub_", [&](const Tensor& s) { return sub(s, other, alpha); }, {other});
}
Tensor& Tensor::sub_(double other) {
  if (const Tensor b = scalar_like(*this, -other); direct_inplace_ok(*this, b))
    return write_direct(*this, "sub_", [&] { add_kernel(*this, *this, b, 1.0); });
  return apply_inplace(*this, "sub_", [&](const Tensor& s) { return sub(s, other); });
}
Tensor& Tensor::mul_(const Tensor& other) {
  if (direct_inplace_ok(*this, other)) return write_direct(*this, "mul_", [&] { mul_kernel(*this, *this, other); });
  return apply_inplace(*this, "mul_", [&](const Tensor& s) { return mul(s, other); }, {other});
}
Tensor& Tensor::mul_(double other) {
  if (const Tensor b = scalar_like(*this, other); direct_inplace_ok(*this, b))
    return write_direct(*this, "mul_", [&] { mul_kernel(*this, *this, b); });
  return apply_inplace(*this, "mul_", [&](const Tensor& s) { return mul(s, other); });
}
Tensor& Tensor::div_(const Tensor& other) {
  return apply_inplace(*this, "div_", [&](const Tensor& s) { return div(s, other); }, {other});
}
Tensor& Tensor::div_(double other) {
  return apply_inplace(*this, "div_", [&](const Tensor& s) { return div(s, other); });
}
Tensor& Tensor::zero_() {
  return apply_inplace(*this, "zero_", [&](const Tensor& s) {
    return zeros(s.sizes(), TensorOptions(s.dtype()).device(s.device()));
  });
}
Tensor& Tensor::fill_(double value) {
  return apply_inplace(*this, "fill_", [&](const Tensor& s) {
    return full(s.sizes(), value, TensorOptions(s.dtype()).device(s.device()));
  });
}
Tensor& Tensor::copy_(const Tensor& src) {
  check_defined("copy_", src, "src");
  check_same_device("copy_", {this, &src});
  EMBER_CHECK(broadcast_shapes(sizes(), src.sizes(), "copy_") == sizes(), "copy_: source {} cannot be broadcast to {}",
              src.describe(), describe());
  return apply_inplace(
      *this, "copy_",
      [&](const Tensor& s) {
        Tensor converted = src.to(s.dtype()).expand(s.sizes()).contiguous();
        // A source sharing memory with self (a[1:].copy_(a[:-1])) is read before it is overwritten.
        if (converted.storage() == storage() && !converted.is_same(*this)) converted = converted.clone();
        if (converted.is_same(src) && src.requires_grad()) {
          // No conversion was needed, so `converted` is `src` itself (a leaf, or another node's
          // output): self needs a node of its own, else it would share src's history, or none.
          converted = src.detach();
          record_backward("copy_", {src}, {converted}, {},
                          [](BackwardContext& ctx) -> TensorList { return {ctx.grad(0)}; });
        }
        return converted;
      },
      {src});
}
Tensor& Tensor::clamp_(double min_value, double max_value) {
  return apply_inplace(*this, "clamp_", [&](const Tensor& s) { return clamp(s, min_value, max_value); });
}
Tensor& Tensor::clamp_min_(double min_value) {
  return apply_inplace(*this, "clamp_min_", [&](const Tensor& s) { return clamp_min(s, min_value); });
}
Tensor& Tensor::clamp_max_(double max_value) {
  return apply_inplace(*this, "clamp_max_", [&](const Tensor& s) { return clamp_max(s, max_value); });
}
Tensor& Tensor::neg_() {
  return apply_inplace(*this, "neg_", [&](const Tensor& s) { return neg(s); });
}
Tensor& Tensor::exp_() {
  return apply_inplace(*this, "exp_", [&](const Tensor& s) { return exp(s); });
}
Tensor& Tensor::sqrt_() {
  return apply_inplace(*this, "sqrt_", [&](const Tensor& s) { return sqrt(s); });
}
Tensor& Tensor::masked_fill_(const Tensor& mask, double value) {
  return apply_inplace(*this, "masked_fill_", [&](const Tensor& s) { return masked_fill(s, mask, value); });
}

}  // namespace ember
