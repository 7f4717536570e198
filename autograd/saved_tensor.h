// SavedTensor: a tensor a backward node keeps from the forward pass.
// Note [Version counter] (engine/tensor.h): the version at save time is recorded, and unpack()
// refuses a tensor modified in place since, naming the op that saved it.
// Note [Saved outputs]: a node that saves its own forward output would form a cycle
// (output -> grad_fn -> saved output). We keep a detached alias plus a weak pointer to the node,
// and re-attach the history at unpack time, so double backward through the output still works.
#pragma once
#include <memory>
#include <string>

#include "engine/tensor.h"

namespace ember {

class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& tensor, bool is_output_of_saving_node);
  Tensor unpack(const std::shared_ptr<Node>& saving_node, const std::string& op) const;
  void release() { data_ = Tensor(); released_ = true; }
  bool defined() const { return data_.defined() || released_; }
  std::string describe() const;
  // Hands the saved tensor over for release (Note [Iterative teardown], node.h).
  std::shared_ptr<void> take_for_teardown() {
    std::shared_ptr<void> impl = data_.impl_ptr();
    data_ = Tensor();
    return impl;
  }

 private:
  Tensor data_;  // detached alias when it is an output, the tensor itself otherwise
  uint32_t saved_version_ = 0;
  bool is_output_ = false;
  bool requires_grad_ = false;
  uint32_t output_nr_ = 0;
  bool released_ = false;
  bool was_defined_ = false;
};

}  // namespace ember
