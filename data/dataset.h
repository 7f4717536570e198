// Dataset interface: random access to (input, target) examples, plus a batched fast path.
// In-memory datasets (Fashion-MNIST, CIFAR, npy arrays) override get_batch to gather a whole batch
// with one index_select instead of N small copies. Implementation: data/dataset.cpp.
// Readers that fill these datasets: data/idx.h, data/cifar.h, data/npy.h; the registry of named
// image datasets: data/datasets.h; batching and shuffling: data/dataloader.h.
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

// Examples held in memory: inputs (N, ...) and targets (N, ...) of any dtypes. get_batch gathers
// with one index_select per tensor.
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor inputs, Tensor targets);
  int64_t size() const override { return inputs_.size(0); }
  Example get(int64_t index) const override;
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_, targets_;
};

// Images kept as uint8 (N, C, H, W) (a (N, H, W) tensor gets C = 1) with int64 labels (N); inputs
// come out as float32 in [0, 1] (x / 255), converted per batch in one pass, so a 60000-image
// dataset costs 47 MB instead of 188 MB.
class ImageDataset : public Dataset {
 public:
  ImageDataset(Tensor images, Tensor labels);
  int64_t size() const override { return images_.size(0); }
  Example get(int64_t index) const override;
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  const Tensor& images() const { return images_; }  // (N, C, H, W) uint8
  const Tensor& labels() const { return labels_; }  // (N) int64

 private:
  Tensor images_, labels_;
};

// A view of `base` restricted to `indices` (e.g. a validation split). Batches map through the
// indices and use base's get_batch.
class Subset : public Dataset {
 public:
  Subset(DatasetPtr base, std::vector<int64_t> indices);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Example get(int64_t index) const override;
  Batch get_batch(const std::vector<int64_t>& indices) const override;

 private:
  DatasetPtr base_;
  std::vector<int64_t> indices_;
};

}  // namespace ember::data
