// Tensor: a cheap, copyable handle to a ref-counted TensorImpl (storage + sizes + strides +
// offset + dtype + version counter + autograd meta). Copying a Tensor shares the data, as in
// PyTorch; `clone()` copies it. Ops are free functions in ops/*.h (`ember::add(a, b)`); the
// methods here are the handle's own business: metadata, views, autograd state, in-place ops.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/error.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace ember {

class Node;
class Tensor;
struct AutogradMeta;
using TensorList = std::vector<Tensor>;

// Options for factories: `zeros({2, 3}, DType::f64)` or `zeros({2}, TensorOptions().requires_grad(true))`.
struct TensorOptions {
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu();
  bool requires_grad_ = false;
  TensorOptions() = default;
  TensorOptions(DType d) : dtype_(d) {}        // NOLINT: implicit on purpose
  TensorOptions(Device dev) : device_(dev) {}  // NOLINT
  TensorOptions& dtype(DType d) { dtype_ = d; return *this; }
  TensorOptions& device(Device d) { device_ = d; return *this; }
  TensorOptions& requires_grad(bool r = true) { requires_grad_ = r; return *this; }
};

// Note [Version counter]: every in-place write bumps the counter shared by a tensor and all its
// views (and detached aliases). SavedTensor (autograd/saved_tensor.h) records the value at save
// time and refuses to unpack a tensor whose counter moved, naming the op that saved it.
// Note [Stale views]: `history_changes` counts in-place ops that gave one of the aliases sharing
// this counter a new grad_fn. Each tensor with a grad_fn remembers the count it was recorded at;
// if another alias (the base of a view, say) was rewritten since, the tensor's recorded history
// no longer describes its data, and using it in a graph is an error (PyTorch would regenerate a
// view's grad_fn; we refuse rather than return a silently wrong gradient).
struct VersionCounter {
  std::atomic<uint32_t> value{0};
  std::atomic<uint32_t> history_changes{0};
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape sizes;
  Shape strides;  // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::f32;
  std::shared_ptr<VersionCounter> version = std::make_shared<VersionCounter>();
  std::unique_ptr<AutogradMeta> autograd;  // null until autograd touches the tensor
  bool is_view = false;  // shares storage with a tensor it was derived from
  ~TensorImpl();
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor: used as "no gradient" / "zero gradient"
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  int64_t dim() const { return static_cast<int64_t>(impl().sizes.size()); }
  const Shape& sizes() const { return impl().sizes; }
  const Shape& shape() const { return impl().sizes; }
  int64_t size(int64_t dim) const;
  const Shape& strides() const { return impl().strides; }
  int64_t stride(int64_t dim) const;
  int64_t offset() const { return impl().offset; }
  int64_t numel() const { return numel_of(impl().sizes); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  size_t element_size() const { return itemsize(dtype()); }
  bool is_contiguous() const { return is_contiguous_layout(impl().sizes, impl().strides); }
  bool is_floating_point() const { return is_floating(dtype()); }
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  std::string describe() const;  // "float32[2, 3] on cpu" for error messages

  // ---- data access ----
  // Address of element 0 (storage + offset). data_ptr<T> checks that T matches the dtype.
  void* raw_data() const;
  template <class T> T* data_ptr() const {
    EMBER_CHECK(dtype_v<T> == dtype(), "data_ptr: tensor is {} but {} was asked for", dtype_name(dtype()),
                dtype_name(dtype_v<T>));
    return static_cast<T*>(raw_data());
  }
  // The single value of a one-element tensor, converted to T.
  template <class T> T item() const;

  // ---- copies and conversions (differentiable) ----
  Tensor contiguous() const;  // itself when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;  // a copy on `device` (differentiable: the gradient moves back)
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }
  Tensor detach() const;  // same data and version counter, no autograd history

  // ---- views (differentiable; share storage) — ops/view.cpp ----
  Tensor view(const Shape& sizes) const;     // errors when strides forbid; -1 infers one size
  Tensor reshape(const Shape& sizes) const;  // a view when possible, else a copy
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // 2-D transpose
  Tensor expand(const Shape& sizes) const;  // -1 keeps a size; new leading dims allowed
  Tensor expand_as(const Tensor& other) const { return expand(other.sizes()); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;  // python a[s:e:step]
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;  // removes `dim`
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor unflatten(int64_t dim, const Shape& sizes) const;
  Tensor operator[](int64_t index) const { return select(0, index); }

  // ---- autograd state ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool value = true);  // only on leaves
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  uint32_t output_nr() const;
  const Tensor& grad() const;  // undefined when no gradient was accumulated
  Tensor& mutable_grad();
  void set_grad(const Tensor& grad);
  void zero_grad(bool set_to_none = true);
  // Reverse-mode from this tensor. A scalar may omit `gradient` (ones are used).
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false, bool create_graph = false) const;
  // hook(grad) -> replacement grad (or an undefined Tensor to keep it). Returns a handle id.
  size_t register_hook(std::function<Tensor(const Tensor&)> hook) const;
  void remove_hook(size_t handle) const;
  void retain_grad() const;  // keep .grad on a non-leaf
  uint32_t version() const { return impl().version->value.load(); }
  void bump_version() const { impl().version->value.fetch_add(1); }

  // ---- in-place ops (bump the version; rejected on leaves that require grad under grad mode) ----
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& add_(double other);
  Tensor& sub_(const Tensor& other, double alpha = 1.0);
  Tensor& sub_(double other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(double other);
  Tensor& div_(const Tensor& other);
  Tensor& div_(double other);
  Tensor& zero_();
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);  // broadcasts src, converts dtype
  Tensor& clamp_(double min, double max);
  Tensor& clamp_min_(double min);
  Tensor& clamp_max_(double max);
  Tensor& neg_();
  Tensor& exp_();
  Tensor& sqrt_();
  Tensor& masked_fill_(const Tensor& mask, double value);

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Builds a tensor over new storage (uninitialised) — the primitive behind every factory.
Tensor make_tensor(const Shape& sizes, DType dtype, Device device = Device::cpu());
// A view of `base` with new geometry that shares storage and version counter. No autograd.
Tensor make_view(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset);

}  // namespace ember
