// Sequential and ModuleList. Implementation: models/nn/container.cpp.
#pragma once
#include <initializer_list>

#include "models/nn/module.h"

namespace ember::nn {

// Children named "0", "1", ... as torch.nn.Sequential; forward chains them with operator().
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<ModulePtr> modules);
  explicit Sequential(std::vector<ModulePtr> modules);
  Sequential& push_back(ModulePtr module);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return named_children().size(); }
  ModulePtr operator[](size_t index) const;
};

// A list of children named "0", "1", ...; forward is not defined (the owner iterates).
class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  ModuleList& push_back(ModulePtr module);
  size_t size() const { return named_children().size(); }
  ModulePtr operator[](size_t index) const;
  template <class M>
  std::shared_ptr<M> at(size_t index) const { return std::dynamic_pointer_cast<M>((*this)[index]); }
};

}  // namespace ember::nn
