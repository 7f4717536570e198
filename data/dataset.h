// Dataset interface: random access to (input, target) examples, plus a batched fast path.
// In-memory datasets (Fashion-MNIST, CIFAR, npy arrays) override get_batch to gather a whole batch
// with one index_select instead of N small copies. Implementation: data/dataset.cpp.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace ember::data {

struct Example {
  Tensor input;   // e.g. (C, H, W) float32
  Tensor target;  // 0-d int64 class index (or any tensor)
};

struct Batch {
  Tensor input;   // (B, ...) stacked inputs
  Tensor target;  // (B, ...) stacked targets
  int64_t size() const { return input.defined() ? input.size(0) : 0; }
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Example get(int64_t index) const = 0;
  // Default: stacks get(i) for each index. indices: the dataset positions, in batch order.
  virtual Batch get_batch(const std::vector<int64_t>& indices) const;
};
using DatasetPtr = std::shared_ptr<Dataset>;

// What a classifier needs to know about an image dataset.
struct ImageDatasetInfo {
  std::string name;
  int64_t num_classes = 0;
  int64_t channels = 0;
  int64_t height = 0, width = 0;
  std::vector<double> mean, std;  // per channel, of the training split in [0, 1] units
  std::vector<std::string> class_names;
};

}  // namespace ember::data
