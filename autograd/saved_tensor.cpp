#include "autograd/saved_tensor.h"

#include "autograd/node.h"

namespace ember {

SavedTensor::SavedTensor(const Tensor& tensor, bool is_output_of_saving_node) {
  was_defined_ = tensor.defined();
  if (!was_defined_) return;
  saved_version_ = tensor.version();
  is_output_ = is_output_of_saving_node;
  requires_grad_ = tensor.requires_grad();
  output_nr_ = tensor.output_nr();
  data_ = is_output_ ? tensor.detach() : tensor;  // Note [Saved outputs]
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& saving_node, const std::string& op) const {
  if (!was_defined_) return Tensor();
  EMBER_CHECK(!released_,
              "{}: trying to backward through the graph a second time (its saved tensors were freed "
              "after the first backward); pass retain_graph=true to the first backward",
              op);
  EMBER_CHECK(data_.version() == saved_version_,
              "{}: a tensor saved for backward ({}) was modified by an in-place operation: it was at "
              "version {} when saved and is now at version {}. Use an out-of-place op, or clone() first",
              op, data_.describe(), saved_version_, data_.version());
  if (!is_output_) return data_;
  Tensor alias = data_.detach();
  if (requires_grad_ && saving_node) {
    AutogradMeta& meta = autograd_meta(alias);
    meta.grad_fn = saving_node;
    meta.output_nr = output_nr_;
    meta.history_changes_seen = alias.impl().version->history_changes.load();
  }
  return alias;
}

std::string SavedTensor::describe() const {
  if (released_) return "<freed>";
  if (!data_.defined()) return "None";
  return data_.describe();
}

}  // namespace ember
