// Sequential and ModuleList. See models/nn/container.h; tests: test/nn/test_module.cpp.
#include "models/nn/container.h"

#include <string>

#include "engine/error.h"

namespace ember::nn {

namespace {
// Children are named "0", "1", ... in order, as torch.nn.Sequential / ModuleList.
ModulePtr child_at(const Module& m, size_t index) {
  auto kids = m.named_children();
  EMBER_CHECK(index < kids.size(), "{}[{}]: index out of range (size {})", m.type_name(), index, kids.size());
  return kids[index].second;
}
}  // namespace

Sequential::Sequential(std::initializer_list<ModulePtr> modules) : Sequential(std::vector<ModulePtr>(modules)) {}

Sequential::Sequential(std::vector<ModulePtr> modules) : Module("Sequential") {
  for (auto& m : modules) push_back(std::move(m));
}

Sequential& Sequential::push_back(ModulePtr module) {
  register_module(std::to_string(size()), std::move(module));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor out = x;
  for (auto& [name, child] : named_children()) out = (*child)(out);
  return out;
}

ModulePtr Sequential::operator[](size_t index) const { return child_at(*this, index); }

ModuleList& ModuleList::push_back(ModulePtr module) {
  register_module(std::to_string(size()), std::move(module));
  return *this;
}

ModulePtr ModuleList::operator[](size_t index) const { return child_at(*this, index); }

}  // namespace ember::nn
