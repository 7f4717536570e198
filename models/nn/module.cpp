// nn::Module: registration, traversal, state_dict, modes, hooks. See models/nn/module.h.
#include "models/nn/module.h"

#include <algorithm>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/shape.h"

namespace ember::nn {

namespace {
ModuleCallObserver* g_observer = nullptr;

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}
}  // namespace

void set_module_call_observer(ModuleCallObserver* observer) { g_observer = observer; }
ModuleCallObserver* module_call_observer() { return g_observer; }

Tensor Module::forward(const Tensor& x) {
  EMBER_FAIL("{}.forward: this module has no single-input forward (input {}); call its own forward overload",
             type_name_, x.defined() ? x.describe() : std::string("undefined"));
}

Tensor Module::operator()(const Tensor& x) {
  if (g_observer == nullptr && forward_hooks_.empty()) return forward(x);
  if (g_observer) g_observer->enter(*this);
  Tensor out;
  try {
    out = forward(x);
  } catch (...) {
    if (g_observer) g_observer->exit(*this);
    throw;
  }
  if (g_observer) g_observer->exit(*this);
  // A copy: a hook may remove itself (or add another) while running.
  const auto hooks = forward_hooks_;
  for (auto& [handle, hook] : hooks) hook(*this, x, out);
  return out;
}

// ---- registration ----

void Module::check_new_name(const std::string& name, const char* what) const {
  EMBER_CHECK(!name.empty() && name.find('.') == std::string::npos,
              "{}.register_{}: name '{}' must be non-empty and contain no '.'", type_name_, what, name);
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& entry) { return entry.first == name; });
  };
  EMBER_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_),
              "{}.register_{}: name '{}' is already registered", type_name_, what, name);
}

Tensor Module::register_parameter(const std::string& name, Tensor value, bool requires_grad) {
  check_new_name(name, "parameter");
  EMBER_CHECK(value.defined(), "{}.register_parameter: '{}' is undefined", type_name_, name);
  EMBER_CHECK(value.is_floating_point(), "{}.register_parameter: '{}' must be floating point, got {}", type_name_,
              name, value.describe());
  // A parameter is a leaf: cut any history the initialiser left behind.
  Tensor leaf = value.is_leaf() ? value : value.detach();
  leaf.requires_grad_(requires_grad);
  parameters_.emplace_back(name, leaf);
  return leaf;
}

Tensor Module::register_buffer(const std::string& name, Tensor value, bool persistent) {
  check_new_name(name, "buffer");
  EMBER_CHECK(value.defined(), "{}.register_buffer: '{}' is undefined", type_name_, name);
  buffers_.emplace_back(name, value);
  if (!persistent) non_persistent_.push_back(name);
  return value;
}

void Module::register_module_impl(const std::string& name, ModulePtr module) {
  check_new_name(name, "module");
  EMBER_CHECK(module != nullptr, "{}.register_module: '{}' is null", type_name_, name);
  children_.emplace_back(name, std::move(module));
}

void Module::replace_module(const std::string& name, ModulePtr module) {
  EMBER_CHECK(module != nullptr, "{}.replace_module: '{}' is null", type_name_, name);
  for (auto& [child_name, child] : children_) {
    if (child_name == name) {
      child = std::move(module);
      return;
    }
  }
  EMBER_FAIL("{}.replace_module: no child named '{}'", type_name_, name);
}

// ---- traversal ----

void Module::collect(const std::string& prefix, bool recurse, bool params, bool persistent_only,
                     NamedTensors& out) const {
  const NamedTensors& own = params ? parameters_ : buffers_;
  for (const auto& [name, tensor] : own) {
    if (persistent_only &&
        std::find(non_persistent_.begin(), non_persistent_.end(), name) != non_persistent_.end()) {
      continue;
    }
    out.emplace_back(join(prefix, name), tensor);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) child->collect(join(prefix, name), true, params, persistent_only, out);
}

// A parameter shared by two modules (weight tying) is listed once, under its first name, as PyTorch's
// named_parameters(remove_duplicate=True): otherwise an optimizer would step it twice. state_dict()
// keeps every name.
NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors all, out;
  collect("", recurse, true, false, all);
  std::set<const TensorImpl*> seen;
  for (auto& entry : all) {
    if (seen.insert(&entry.second.impl()).second) out.push_back(std::move(entry));
  }
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters(recurse)) out.push_back(tensor);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  collect("", recurse, false, false, out);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_buffers(recurse)) out.push_back(tensor);
  return out;
}

std::vector<ModulePtr> Module::children() const {
  std::vector<ModulePtr> out;
  for (auto& [name, child] : children_) out.push_back(child);
  return out;
}

ModulePtr Module::child(const std::string& name) const {
  for (auto& [child_name, child] : children_) {
    if (child_name == name) return child;
  }
  return nullptr;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  std::function<void(const std::string&, Module*)> visit = [&](const std::string& prefix, Module* m) {
    out.emplace_back(prefix, m);
    for (auto& [name, child] : m->children_) visit(join(prefix, name), child.get());
  };
  visit("", this);
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  std::set<const TensorImpl*> seen;
  int64_t total = 0;
  for (auto& [name, p] : named_parameters()) {
    if (trainable_only && !p.requires_grad()) continue;
    if (seen.insert(&p.impl()).second) total += p.numel();
  }
  return total;
}

// ---- modes and state ----

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

TensorMap Module::state_dict() const {
  TensorMap out;
  NamedTensors all;
  collect("", true, true, false, all);
  collect("", true, false, true, all);
  for (auto& [name, tensor] : all) out.emplace(name, tensor.detach());
  return out;
}

void Module::load_state_dict(const TensorMap& state, bool strict) {
  NamedTensors own;
  collect("", true, true, false, own);
  collect("", true, false, true, own);
  std::vector<std::string> missing, mismatched, unexpected;
  std::set<std::string> own_names;
  for (auto& [name, tensor] : own) {
    own_names.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back(name);
    } else if (!it->second.defined() || it->second.sizes() != tensor.sizes()) {
      mismatched.push_back(fmt::format("{} (checkpoint {}, model {})", name,
                                       it->second.defined() ? shape_str(it->second.sizes()) : "undefined",
                                       shape_str(tensor.sizes())));
    }
  }
  for (auto& [name, tensor] : state) {
    if (!own_names.count(name)) unexpected.push_back(name);
  }
  auto list = [](const std::vector<std::string>& names) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < 20; ++i) s += (i ? ", " : "") + names[i];
    if (names.size() > 20) s += fmt::format(", ... ({} in all)", names.size());
    return s;
  };
  std::string problems;
  if (!mismatched.empty()) problems += fmt::format(" mis-shaped keys: {}.", list(mismatched));
  if (strict && !missing.empty()) problems += fmt::format(" missing keys: {}.", list(missing));
  if (strict && !unexpected.empty()) problems += fmt::format(" unexpected keys: {}.", list(unexpected));
  EMBER_CHECK(problems.empty(), "{}.load_state_dict: the state does not fit this model ({} tensors given, {} "
              "expected):{} Was it saved from another architecture or configuration?",
              type_name_, state.size(), own.size(), problems);
  NoGradGuard no_grad;
  for (auto& [name, tensor] : own) {
    auto it = state.find(name);
    if (it == state.end()) continue;
    Tensor target = tensor.detach();
    target.copy_(it->second.to(tensor.device()));
  }
}

void set_data(const Tensor& dst, const Tensor& src) {
  EMBER_CHECK(dst.defined() && src.defined(), "set_data: both tensors must be defined");
  Tensor fresh = src.detach().contiguous();  // dst shares this storage afterwards (clone to decouple)
  TensorImpl& d = dst.impl();
  d.storage = fresh.storage();
  d.sizes = fresh.sizes();
  d.strides = fresh.strides();
  d.offset = fresh.offset();
  d.dtype = fresh.dtype();
  d.is_view = false;
  dst.bump_version();
}

void Module::to(DType dtype) {
  EMBER_CHECK(is_floating(dtype), "{}.to: modules convert to floating dtypes only, got {}", type_name_,
              dtype_name(dtype));
  for (auto& [name, m] : named_modules()) {
    for (auto* list : {&m->parameters_, &m->buffers_}) {
      for (auto& [pname, t] : *list) {
        if (!t.is_floating_point() || t.dtype() == dtype) continue;
        set_data(t, t.detach().to(dtype));
        // An accumulated gradient follows its parameter (as PyTorch's Module._apply), so an
        // optimizer never mixes dtypes.
        if (t.grad().defined()) t.set_grad(t.grad().to(dtype));
      }
    }
  }
}

void Module::to(Device device) {
  for (auto& [name, m] : named_modules()) {
    for (auto* list : {&m->parameters_, &m->buffers_}) {
      for (auto& [pname, t] : *list) {
        if (t.device() == device) continue;
        set_data(t, t.detach().to(device));
        if (t.grad().defined()) t.set_grad(t.grad().to(device));
      }
    }
  }
}

void Module::zero_grad(bool set_to_none) {
  for (auto& p : parameters()) p.zero_grad(set_to_none);
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
}

void Module::requires_grad_(bool on) {
  for (auto& p : parameters()) p.requires_grad_(on);
}

size_t Module::register_forward_hook(ForwardHook hook) {
  forward_hooks_.emplace_back(next_hook_, std::move(hook));
  return next_hook_++;
}

void Module::remove_forward_hook(size_t handle) {
  std::erase_if(forward_hooks_, [&](const auto& entry) { return entry.first == handle; });
}

std::string to_string(const Module& module) {
  std::function<void(const Module&, int, std::ostringstream&)> print = [&](const Module& m, int indent,
                                                                           std::ostringstream& os) {
    os << m.type_name() << "(" << m.extra_repr();
    auto kids = m.named_children();
    if (kids.empty()) {
      os << ")";
      return;
    }
    os << "\n";
    for (auto& [name, child] : kids) {
      os << std::string(indent + 2, ' ') << "(" << name << "): ";
      print(*child, indent + 2, os);
      os << "\n";
    }
    os << std::string(indent, ' ') << ")";
  };
  std::ostringstream os;
  print(module, 0, os);
  return os.str();
}

}  // namespace ember::nn
