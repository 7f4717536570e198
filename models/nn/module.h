// nn::Module: the base of every layer and model, in the shape of torch.nn.Module.
// A module owns named parameters (trainable tensors), buffers (state such as BatchNorm's running
// statistics) and child modules; names join with dots ("layer1.0.conv1.weight") exactly as in
// PyTorch, so state_dicts line up with timm/torchvision checkpoints key for key.
//
// Note [Module registration]: a layer keeps its tensors as members *and* registers them:
//     weight = register_parameter("weight", empty({out, in}));
// Both handles point at the same TensorImpl. Whole-module changes (to(dtype), load_state_dict) edit
// that TensorImpl in place (see set_data in module.cpp), so the member, the registry and any
// optimizer holding the parameter keep seeing the same tensor — as PyTorch's `param.data = ...`.
//
// Note [Module calls]: call a child as `(*child)(x)` (operator()), never `child->forward(x)`:
// operator() runs forward hooks (used by summary()) and announces the call to the module-call
// observer (the profiler's named ranges). forward() is what subclasses override.
// Implementation: models/nn/module.cpp; tests: test/nn/test_module.cpp.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/serialize.h"
#include "engine/tensor.h"

namespace ember::nn {

class Module;
using ModulePtr = std::shared_ptr<Module>;
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module : public std::enable_shared_from_this<Module> {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The single-input forward most layers and every zoo model have. Modules with other signatures
  // (MultiheadAttention) add their own overloads; the default throws an ember::Error.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x);  // forward + hooks + observer; see Note [Module calls]

  // ---- what the module holds ----
  const std::string& type_name() const { return type_name_; }
  // "in_features=784, out_features=256, bias=true": shown by print() and summary().
  virtual std::string extra_repr() const { return ""; }

  // A parameter shared by several modules is listed once, under its first name (PyTorch's
  // remove_duplicate=True), so an optimizer steps it once; state_dict() keeps every name.
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;  // persistent and not
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, ModulePtr>> named_children() const { return children_; }
  std::vector<ModulePtr> children() const;
  // This module (name "") and every descendant, depth first, parents before children.
  std::vector<std::pair<std::string, Module*>> named_modules();
  ModulePtr child(const std::string& name) const;  // nullptr when absent

  // Number of parameter elements (shared tensors counted once); trainable_only skips frozen ones.
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- modes ----
  virtual void train(bool on = true);  // recursive
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // ---- state ----
  // Parameters then persistent buffers, dotted names, in registration order within each module.
  TensorMap state_dict() const;
  // Copies values into the existing tensors (shapes must match; dtypes convert). strict: every key
  // of the module must be present and no extra key may appear. Errors list every missing,
  // unexpected and mis-shaped key, with shapes, in one message.
  void load_state_dict(const TensorMap& state, bool strict = true);
  // Floating parameters and buffers only (as PyTorch's Module.to(dtype)); accumulated gradients
  // follow. Tensors keep their identity (Note [Module registration]).
  void to(DType dtype);
  void to(Device device);
  void zero_grad(bool set_to_none = true);
  // Calls fn on every module, children first (as PyTorch's Module.apply): used for init.
  void apply(const std::function<void(Module&)>& fn);
  void requires_grad_(bool on);  // freeze / unfreeze every parameter

  // ---- hooks ----
  using ForwardHook = std::function<void(Module&, const Tensor& input, const Tensor& output)>;
  // Hooks run after forward, in registration order; a hook may remove itself while running.
  size_t register_forward_hook(ForwardHook hook);
  void remove_forward_hook(size_t handle);

 protected:
  // Registering returns the tensor so it can be stored in a member (Note [Module registration]).
  // A parameter becomes a leaf that requires grad (unless requires_grad is false, e.g. frozen).
  Tensor register_parameter(const std::string& name, Tensor value, bool requires_grad = true);
  // A buffer is state that is not trained (running statistics); persistent buffers are in state_dict.
  Tensor register_buffer(const std::string& name, Tensor value, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    register_module_impl(name, module);
    return module;
  }
  // Replaces a registered child (e.g. to swap a head for fine-tuning); the name must exist.
  void replace_module(const std::string& name, ModulePtr module);

  bool training_ = true;

 private:
  void register_module_impl(const std::string& name, ModulePtr module);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool recurse, bool params, bool persistent_only,
               NamedTensors& out) const;

  std::string type_name_;
  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::string> non_persistent_;
  std::vector<std::pair<std::string, ModulePtr>> children_;
  std::vector<std::pair<size_t, ForwardHook>> forward_hooks_;
  size_t next_hook_ = 0;
};

// Note [Module calls]: the profiler installs an observer to nest ops under module ranges.
// With no observer installed, operator() costs one branch.
class ModuleCallObserver {
 public:
  virtual ~ModuleCallObserver() = default;
  virtual void enter(const Module& module) = 0;
  virtual void exit(const Module& module) = 0;
};
void set_module_call_observer(ModuleCallObserver* observer);  // nullptr removes it
ModuleCallObserver* module_call_observer();

// Points `dst` (a parameter or buffer) at `src`'s data, dtype and shape, keeping dst's identity and
// autograd flags (PyTorch's `param.data = src`). dst shares src's storage afterwards (pass a clone to
// decouple). Used by to(); weight averaging copies values with copy_ instead.
void set_data(const Tensor& dst, const Tensor& src);

// "True" / "False": extra_repr() spells booleans as PyTorch prints them.
inline const char* repr_bool(bool value) { return value ? "True" : "False"; }

// A multi-line tree like PyTorch's print(model): "(conv1): Conv2d(3, 64, kernel_size=3, ...)".
std::string to_string(const Module& module);

}  // namespace ember::nn
