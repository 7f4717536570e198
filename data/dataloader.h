// Samplers (the order of one epoch) and the DataLoader (batching, background prefetch, transforms,
// a saveable position). Implementation: data/dataloader.cpp; datasets: data/dataset.h; transforms:
// data/transforms.h; tests: test/data/test_loader.cpp.
//
// Determinism: everything a batch depends on is a function of (seed, epoch, batch index, rank):
// the epoch's order comes from a Philox randperm seeded by derive_seed(seed, {shuffle, epoch}), and
// batch b's transforms draw from Generator(derive_seed(seed, {augment, epoch, b, rank})). So the
// output is the same with 0 or N workers, epoch e's order does not depend on earlier epochs, and a
// run resumed at {epoch, next_batch} sees exactly the batches an uninterrupted run would have.
//
//   DataLoader loader(dataset, {.batch_size = 128, .shuffle = true, .seed = 1, .num_workers = 1}, transform);
//   for (int64_t epoch = start.epoch; epoch < epochs; ++epoch) {
//     loader.start_epoch(epoch, epoch == start.epoch ? start.next_batch : 0);
//     while (auto batch = loader.next()) { ... checkpoint: loader.position() ... }
//   }
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"

namespace ember::data {

// A well-mixed seed for a sub-stream: derive_seed(seed, {a, b}) differs for every (seed, a, b) and
// is a pure function of them (Philox rounds).
uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> path);

// The order in which one epoch visits a dataset's indices.
class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual int64_t size() const = 0;  // indices per epoch
  virtual std::vector<int64_t> epoch_indices(int64_t epoch) const = 0;
};
using SamplerPtr = std::shared_ptr<const Sampler>;

// 0, 1, ..., n - 1 every epoch.
class SequentialSampler : public Sampler {
 public:
  explicit SequentialSampler(int64_t n);
  int64_t size() const override { return n_; }
  std::vector<int64_t> epoch_indices(int64_t epoch) const override;

 private:
  int64_t n_;
};

// A fresh permutation per epoch: randperm(n) with Generator(derive_seed(seed, {shuffle, epoch})).
class RandomSampler : public Sampler {
 public:
  RandomSampler(int64_t n, uint64_t seed);
  int64_t size() const override { return n_; }
  std::vector<int64_t> epoch_indices(int64_t epoch) const override;

 private:
  int64_t n_;
  uint64_t seed_;
};

// One rank's share of `base`'s order, as torch's DistributedSampler: the epoch's order is padded
// by wrapping around to a multiple of world_size, and rank r takes positions r, r + world_size, ...
class DistributedSampler : public Sampler {
 public:
  DistributedSampler(SamplerPtr base, int64_t rank, int64_t world_size);
  int64_t size() const override;
  std::vector<int64_t> epoch_indices(int64_t epoch) const override;

 private:
  SamplerPtr base_;
  int64_t rank_, world_size_;
};

struct DataLoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;      // drop a last batch smaller than batch_size
  int num_workers = 0;         // 0: batches are made by next() on the calling thread
  int prefetch_per_worker = 2; // bound on batches made ahead of the consumer, per worker
  int64_t rank = 0, world_size = 1;  // sharding for data-parallel runs
};

// Where a loader stands: the epoch and the index of the next batch next() will return.
// {e, num_batches()} means epoch e is finished.
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t next_batch = 0;
  bool operator==(const LoaderPosition&) const = default;
};
void to_json(nlohmann::json& j, const LoaderPosition& p);
void from_json(const nlohmann::json& j, LoaderPosition& p);  // ember::Error on missing/bad fields

class DataLoader {
 public:
  // The sampler follows options (shuffle, seed, rank/world_size). transform may be null.
  DataLoader(DatasetPtr dataset, DataLoaderOptions options = {}, TransformPtr transform = nullptr);
  // With an explicit sampler (options.shuffle and rank/world_size are then ignored).
  DataLoader(DatasetPtr dataset, SamplerPtr sampler, DataLoaderOptions options, TransformPtr transform = nullptr);
  ~DataLoader();  // stops and joins the workers
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Begins (or restarts) `epoch` at batch `first_batch` (0 <= first_batch <= num_batches());
  // an epoch still in progress is abandoned cleanly.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  void start(const LoaderPosition& position) { start_epoch(position.epoch, position.next_batch); }
  // The next batch of the epoch in order, or nullopt at its end. An exception thrown while making
  // a batch (reader, transform) is rethrown here and ends the epoch.
  std::optional<Batch> next();
  // Abandons the epoch in progress (workers finish their current batch and exit); next() then
  // returns nullopt until start_epoch.
  void stop();

  int64_t num_batches() const;  // per epoch
  int64_t num_samples() const;  // per epoch (this rank's share)
  LoaderPosition position() const { return {epoch_, next_batch_}; }
  const DataLoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }
  const TransformPtr& transform() const { return transform_; }

 private:
  struct Workers;
  Batch make_batch(int64_t batch_index) const;

  DatasetPtr dataset_;
  SamplerPtr sampler_;
  DataLoaderOptions options_;
  TransformPtr transform_;
  int64_t epoch_ = 0;
  int64_t next_batch_ = 0;
  bool started_ = false;  // start_epoch was called at least once
  bool active_ = false;   // the epoch has not ended in an error
  std::vector<int64_t> order_;  // the epoch's indices (read-only while workers run)
  std::unique_ptr<Workers> workers_;
};

}  // namespace ember::data
