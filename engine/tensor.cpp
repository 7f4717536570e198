// Tensor handle methods: metadata, data access, copies/conversions and autograd state.
// Views are in ops/view.cpp, in-place ops in ops/inplace.cpp.
#include "engine/tensor.h"

#include "cuda/runtime.h"

#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "cuda/runtime.h"
#include "engine/copy.h"
#include "engine/dispatch.h"
#include "ops/elementwise.h"

namespace ember {

TensorImpl::~TensorImpl() = default;

TensorImpl& Tensor::impl() const {
  EMBER_CHECK(impl_ != nullptr, "tensor: operation on an undefined tensor");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const { return sizes()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return fmt::format("{}{} on {}", dtype_name(dtype()), shape_str(sizes()), device().str());
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * static_cast<int64_t>(element_size());
}

template <class T> T Tensor::item() const {
  EMBER_CHECK(numel() == 1, "item: tensor has {} elements ({}), expected exactly one", numel(), describe());
  if (!device().is_cpu()) return to(Device::cpu()).item<T>();
  // Read in the native type: going through double (read_element) would round int64 beyond 2^53.
  return dispatch_with_half(dtype(), "item", [&]<class S>() -> T {
    const S value = *static_cast<const S*>(raw_data());
    if constexpr (std::is_same_v<S, bfloat16> || std::is_same_v<S, float16>) {
      return static_cast<T>(static_cast<float>(value));
    } else {
      return static_cast<T>(value);
    }
  });
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;
template int32_t Tensor::item<int32_t>() const;
template uint8_t Tensor::item<uint8_t>() const;
template bool Tensor::item<bool>() const;

Tensor make_tensor(const Shape& sizes, DType dtype, Device device) {
  for (int64_t s : sizes) EMBER_CHECK(s >= 0, "empty: negative size in shape {}", shape_str(sizes));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(numel_of(sizes) * itemsize(dtype), device);
  impl->sizes = sizes;
  impl->strides = contiguous_strides(sizes);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->sizes = sizes;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  impl->version = base.impl().version;
  impl->is_view = true;
  return Tensor(std::move(impl));
}

// ---- copies and conversions ----

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = make_tensor(sizes(), dtype(), device());
  copy_data(out, *this);
  record_backward("clone", {*this}, {out}, {}, [](BackwardContext& ctx) -> TensorList { return {ctx.grad(0)}; });
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = make_tensor(sizes(), target, device());
  copy_data(out, *this);
  if (is_floating(target) && is_floating(dtype())) {
    const DType source = dtype();
    record_backward("to", {*this}, {out}, {},
                    [source](BackwardContext& ctx) -> TensorList { return {ctx.grad(0).to(source)}; });
  }
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  EMBER_CHECK(!target.is_cuda() || cuda::is_available(), "to: cannot move {} to {}: {}", describe(), target.str(),
              cuda::unavailable_reason());
  Tensor out = make_tensor(sizes(), dtype(), target);
  copy_data(out, *this);
  if (is_floating(dtype())) {
    const Device source = device();
    record_backward("to_device", {*this}, {out}, {},
                    [source](BackwardContext& ctx) -> TensorList { return {ctx.grad(0).to(source)}; });
  }
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage();
  impl->sizes = sizes();
  impl->strides = strides();
  impl->offset = offset();
  impl->dtype = dtype();
  impl->version = impl_->version;
  impl->is_view = impl_->is_view;
  return Tensor(std::move(impl));
}

// ---- autograd state ----

bool Tensor::requires_grad() const {
  const auto& meta = impl().autograd;
  return meta && (meta->requires_grad || meta->grad_fn);
}

Tensor& Tensor::requires_grad_(bool value) {
  EMBER_CHECK(is_leaf(), "requires_grad_: only leaf tensors can change requires_grad ({} has grad_fn {})",
              describe(), grad_fn()->name());
  EMBER_CHECK(!value || is_floating(dtype()),
              "requires_grad_: only floating-point tensors can require gradients, got {}", describe());
  autograd_meta(*this).requires_grad = value;
  return *this;
}

bool Tensor::is_leaf() const { return !impl().autograd || !impl().autograd->grad_fn; }

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return impl().autograd ? impl().autograd->grad_fn : none;
}

uint32_t Tensor::output_nr() const { return impl().autograd ? impl().autograd->output_nr : 0; }

const Tensor& Tensor::grad() const {
  static const Tensor none;
  return impl().autograd ? impl().autograd->grad : none;
}

Tensor& Tensor::mutable_grad() { return autograd_meta(*this).grad; }

void Tensor::set_grad(const Tensor& grad) {
  if (grad.defined()) {
    EMBER_CHECK(grad.sizes() == sizes(), "set_grad: gradient {} does not match tensor {}", grad.describe(),
                describe());
  }
  autograd_meta(*this).grad = grad;
}

void Tensor::zero_grad(bool set_to_none) {
  if (!impl().autograd || !impl().autograd->grad.defined()) return;
  if (set_to_none) {
    impl().autograd->grad = Tensor();
  } else {
    NoGradGuard no_grad;
    impl().autograd->grad = impl().autograd->grad.detach();
    impl().autograd->grad.zero_();
  }
}

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph, create_graph);
}

size_t Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) const {
  EMBER_CHECK(requires_grad(), "register_hook: tensor {} does not require grad", describe());
  const size_t id = next_hook_id();
  if (is_leaf()) {
    autograd_meta(*this).leaf_hooks.emplace_back(id, std::move(hook));
  } else {
    grad_fn()->pre_hooks[output_nr()].emplace_back(id, std::move(hook));
  }
  return id;
}

void Tensor::remove_hook(size_t handle) const {
  if (!impl().autograd) return;
  std::erase_if(impl().autograd->leaf_hooks, [&](const auto& entry) { return entry.first == handle; });
  if (const auto& node = grad_fn()) {
    for (auto& [slot, hooks] : node->pre_hooks) {
      std::erase_if(hooks, [&](const auto& entry) { return entry.first == handle; });
    }
  }
}

void Tensor::retain_grad() const {
  EMBER_CHECK(requires_grad(), "retain_grad: tensor {} does not require grad", describe());
  if (is_leaf()) return;  // leaves keep .grad anyway
  AutogradMeta& meta = autograd_meta(*this);
  if (meta.retains_grad) return;
  meta.retains_grad = true;
  std::weak_ptr<TensorImpl> weak = impl_;
  // Kept apart from the ordinary hooks so that it runs after them all, whenever they were
  // registered: .grad of a non-leaf reflects its hooks, as in PyTorch.
  grad_fn()->retain_grad_hooks[output_nr()] = [weak](const Tensor& grad) -> Tensor {
    if (auto impl = weak.lock()) {
      Tensor self(impl);
      AutogradMeta& m = autograd_meta(self);
      // As AccumulateGrad (autograd/node.cpp): a fresh copy, then out-of-place sums. Under
      // create_graph (grad mode is on in the engine) both are recorded, so .grad keeps its graph.
      const bool keep_graph = GradMode::is_enabled();
      const Tensor incoming = keep_graph ? grad : grad.detach();
      m.grad = m.grad.defined() ? add(keep_graph ? m.grad : m.grad.detach(), incoming) : incoming.clone();
    }
    return Tensor();
  };
}

}  // namespace ember
