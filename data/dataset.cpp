// Datasets held in memory: TensorDataset, ImageDataset (uint8 -> float per batch), Subset, and the
// default stacking get_batch. Interface: data/dataset.h.
#include "data/dataset.h"

#include "engine/factories.h"
#include "ops/index.h"
#include "ops/shape.h"

namespace ember::data {

namespace {

void check_index(const char* who, int64_t index, int64_t size) {
  EMBER_CHECK(index >= 0 && index < size, "{}: index {} is out of range for a dataset of {} examples", who, index,
              size);
}

Tensor index_tensor(const std::vector<int64_t>& indices) {
  return from_vector(indices, {static_cast<int64_t>(indices.size())});
}

}  // namespace

Batch Dataset::get_batch(const std::vector<int64_t>& indices) const {
  EMBER_CHECK(!indices.empty(), "Dataset::get_batch: empty index list");
  TensorList inputs, targets;
  inputs.reserve(indices.size());
  targets.reserve(indices.size());
  for (int64_t i : indices) {
    Example e = get(i);
    inputs.push_back(std::move(e.input));
    targets.push_back(std::move(e.target));
  }
  return {stack(inputs), stack(targets)};
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) : inputs_(std::move(inputs)), targets_(std::move(targets)) {
  EMBER_CHECK(inputs_.defined() && targets_.defined(), "TensorDataset: inputs and targets must be defined");
  EMBER_CHECK(inputs_.dim() >= 1 && targets_.dim() >= 1 && inputs_.size(0) == targets_.size(0),
              "TensorDataset: inputs {} and targets {} must agree in their first dim (N)", inputs_.describe(),
              targets_.describe());
  inputs_ = inputs_.detach().contiguous();
  targets_ = targets_.detach().contiguous();
}

Example TensorDataset::get(int64_t index) const {
  check_index("TensorDataset::get", index, size());
  return {inputs_.select(0, index).clone(), targets_.select(0, index).clone()};
}

Batch TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  for (int64_t i : indices) check_index("TensorDataset::get_batch", i, size());
  const Tensor index = index_tensor(indices);
  return {index_select(inputs_, 0, index), index_select(targets_, 0, index)};
}

ImageDataset::ImageDataset(Tensor images, Tensor labels) : images_(std::move(images)), labels_(std::move(labels)) {
  EMBER_CHECK(images_.defined() && images_.dtype() == DType::u8 && (images_.dim() == 3 || images_.dim() == 4),
              "ImageDataset: images must be uint8 (N, H, W) or (N, C, H, W), got {}",
              images_.defined() ? images_.describe() : "an undefined tensor");
  EMBER_CHECK(labels_.defined() && labels_.dim() == 1 && labels_.size(0) == images_.size(0),
              "ImageDataset: labels must be (N) with N = {} images, got {}", images_.size(0),
              labels_.defined() ? labels_.describe() : "an undefined tensor");
  if (images_.dim() == 3) images_ = images_.unsqueeze(1);
  images_ = images_.contiguous();
  labels_ = labels_.to(DType::i64).contiguous();
}

Example ImageDataset::get(int64_t index) const {
  check_index("ImageDataset::get", index, size());
  Batch b = get_batch({index});
  return {b.input.select(0, 0), b.target.select(0, 0)};
}

Batch ImageDataset::get_batch(const std::vector<int64_t>& indices) const {
  for (int64_t i : indices) check_index("ImageDataset::get_batch", i, size());
  const int64_t batch = static_cast<int64_t>(indices.size());
  const int64_t per_image = images_.numel() / images_.size(0);
  Shape shape = images_.sizes();
  shape[0] = batch;
  Tensor input = empty(shape, DType::f32);
  Tensor target = empty({batch}, DType::i64);
  const uint8_t* src = images_.data_ptr<uint8_t>();
  const int64_t* labels = labels_.data_ptr<int64_t>();
  float* dst = input.data_ptr<float>();
  int64_t* t = target.data_ptr<int64_t>();
  constexpr float kScale = 1.0f / 255.0f;
  // One pass: gather and convert (the inner loop vectorises).
  for (int64_t b = 0; b < batch; ++b) {
    const uint8_t* s = src + indices[b] * per_image;
    float* d = dst + b * per_image;
    for (int64_t k = 0; k < per_image; ++k) d[k] = static_cast<float>(s[k]) * kScale;
    t[b] = labels[indices[b]];
  }
  return {input, target};
}

Subset::Subset(DatasetPtr base, std::vector<int64_t> indices) : base_(std::move(base)), indices_(std::move(indices)) {
  EMBER_CHECK(base_ != nullptr, "Subset: the base dataset is null");
  for (int64_t i : indices_) check_index("Subset", i, base_->size());
}

Example Subset::get(int64_t index) const {
  check_index("Subset::get", index, size());
  return base_->get(indices_[index]);
}

Batch Subset::get_batch(const std::vector<int64_t>& indices) const {
  std::vector<int64_t> mapped;
  mapped.reserve(indices.size());
  for (int64_t i : indices) {
    check_index("Subset::get_batch", i, size());
    mapped.push_back(indices_[i]);
  }
  return base_->get_batch(mapped);
}

}  // namespace ember::data
