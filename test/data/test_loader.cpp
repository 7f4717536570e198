// DataLoader and samplers: coverage and order of each epoch, determinism in (seed, epoch), drop_last,
// identical batches for 0 and 3 workers, exact resume from a saved position (augmentation
// included), errors from workers reaching the consumer, early exit without hanging, sharding.
// Code under test: data/dataloader.h, data/dataset.h.
#include <algorithm>
#include <atomic>
#include <set>

#include "data/dataloader.h"
#include "data/datasets.h"
#include "data/transforms.h"
#include "helpers.h"

using namespace ember;
using namespace ember::data;
using ember::test::values;

namespace {

// inputs[i] = (i, -i), targets[i] = i: a batch tells which indices it holds.
DatasetPtr index_dataset(int64_t n) {
  const Tensor idx = arange(0.0, static_cast<double>(n), 1.0, DType::f64);
  return std::make_shared<TensorDataset>(stack({idx, neg(idx)}, 1), idx.to(DType::i64));
}

std::vector<int64_t> targets_of(const Batch& b) {
  std::vector<int64_t> out;
  for (double v : values(b.target)) out.push_back(static_cast<int64_t>(v));
  return out;
}

// Every batch of the epoch, from `first_batch` on.
std::vector<Batch> run_epoch(DataLoader& loader, int64_t epoch, int64_t first_batch = 0) {
  loader.start_epoch(epoch, first_batch);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

std::vector<int64_t> epoch_order(DataLoader& loader, int64_t epoch) {
  std::vector<int64_t> order;
  for (const Batch& b : run_epoch(loader, epoch)) {
    const auto t = targets_of(b);
    order.insert(order.end(), t.begin(), t.end());
  }
  return order;
}

void require_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("batch " << i);
    REQUIRE(a[i].input.sizes() == b[i].input.sizes());
    REQUIRE(values(a[i].input) == values(b[i].input));
    REQUIRE(values(a[i].target) == values(b[i].target));
  }
}

// Synthetic images with the augmentation the trainer uses (crop + flip + normalize).
struct AugmentedData {
  DatasetPtr dataset;
  TransformPtr transform;
};
AugmentedData augmented_data(int64_t n) {
  SyntheticOptions o;
  o.train_size = n;
  o.size = 12;
  auto split = make_synthetic_dataset(o, true);
  return {split.dataset, compose({random_crop(12, 2, PadMode::reflect), random_horizontal_flip(),
                                  normalize(split.info.mean, split.info.std)})};
}

}  // namespace

TEST_CASE("every index exactly once per epoch, in order without shuffle", "[data][loader]") {
  for (bool shuffle : {false, true}) {
    for (int workers : {0, 2}) {
      DataLoader loader(index_dataset(103), {.batch_size = 10, .shuffle = shuffle, .seed = 7, .num_workers = workers});
      REQUIRE(loader.num_batches() == 11);
      const auto batches = run_epoch(loader, 0);
      REQUIRE(batches.size() == 11);
      REQUIRE(batches.back().size() == 3);
      std::vector<int64_t> order = epoch_order(loader, 0);
      REQUIRE(values(batches[1].input).size() == 20);
      if (!shuffle) {
        for (int64_t i = 0; i < 103; ++i) REQUIRE(order[i] == i);
      }
      std::sort(order.begin(), order.end());
      for (int64_t i = 0; i < 103; ++i) REQUIRE(order[i] == i);
      // Inputs travel with their targets: input row i is (i, -i).
      const auto in = values(batches[4].input);
      const auto t = targets_of(batches[4]);
      for (size_t k = 0; k < t.size(); ++k) {
        REQUIRE(in[2 * k] == t[k]);
        REQUIRE(in[2 * k + 1] == -t[k]);
      }
    }
  }
}

TEST_CASE("shuffled order depends only on (seed, epoch)", "[data][loader]") {
  DataLoader a(index_dataset(50), {.batch_size = 8, .shuffle = true, .seed = 3});
  DataLoader b(index_dataset(50), {.batch_size = 8, .shuffle = true, .seed = 3});
  DataLoader c(index_dataset(50), {.batch_size = 8, .shuffle = true, .seed = 4});
  const auto a0 = epoch_order(a, 0), a1 = epoch_order(a, 1);
  const auto a5 = epoch_order(a, 5);
  REQUIRE(a0 != a1);
  REQUIRE(epoch_order(b, 5) == a5);  // without going through epochs 0..4 first
  REQUIRE(epoch_order(b, 0) == a0);
  REQUIRE(epoch_order(c, 0) != a0);
  // The order is the engine's Philox randperm seeded by derive_seed(seed, {shuffle stream, epoch}).
  REQUIRE(RandomSampler(50, 3).epoch_indices(1) == a1);
}

TEST_CASE("drop_last drops only a short last batch", "[data][loader]") {
  DataLoader keep(index_dataset(25), {.batch_size = 10});
  DataLoader drop(index_dataset(25), {.batch_size = 10, .drop_last = true});
  DataLoader even(index_dataset(30), {.batch_size = 10, .drop_last = true});
  REQUIRE(keep.num_batches() == 3);
  REQUIRE(drop.num_batches() == 2);
  REQUIRE(even.num_batches() == 3);
  const auto batches = run_epoch(drop, 0);
  REQUIRE(batches.size() == 2);
  REQUIRE(batches[1].size() == 10);
  REQUIRE(targets_of(batches[1]).back() == 19);
}

TEST_CASE("0 and 3 workers give identical augmented batches", "[data][loader]") {
  auto data = augmented_data(200);
  DataLoaderOptions options{.batch_size = 16, .shuffle = true, .seed = 11};
  DataLoader serial(data.dataset, options, data.transform);
  options.num_workers = 3;
  options.prefetch_per_worker = 1;
  DataLoader threaded(data.dataset, options, data.transform);
  for (int64_t epoch : {0, 1}) require_same_batches(run_epoch(serial, epoch), run_epoch(threaded, epoch));
  // Augmentation differs between epochs (same samples would be cropped/flipped anew).
  const auto e0 = run_epoch(serial, 0), e1 = run_epoch(serial, 1);
  REQUIRE(values(e0[0].input) != values(e1[0].input));
}

TEST_CASE("resuming from a saved position gives exactly the remaining batches", "[data][loader]") {
  auto data = augmented_data(100);
  const DataLoaderOptions options{.batch_size = 8, .shuffle = true, .seed = 5, .num_workers = 2};
  DataLoader first(data.dataset, options, data.transform);
  const auto full = run_epoch(first, 2);

  // An interrupted run: takes 5 batches of epoch 2, saves its position as JSON.
  DataLoader interrupted(data.dataset, options, data.transform);
  interrupted.start_epoch(2);
  for (int i = 0; i < 5; ++i) REQUIRE(interrupted.next());
  const nlohmann::json saved = interrupted.position();
  REQUIRE(saved.dump() == R"({"epoch":2,"next_batch":5})");

  // A fresh process (fresh loader, 0 workers this time) resumes.
  DataLoader resumed(data.dataset, {.batch_size = 8, .shuffle = true, .seed = 5}, data.transform);
  resumed.start(saved.get<LoaderPosition>());
  std::vector<Batch> rest;
  while (auto b = resumed.next()) rest.push_back(std::move(*b));
  require_same_batches(rest, std::vector<Batch>(full.begin() + 5, full.end()));
  REQUIRE(resumed.position() == LoaderPosition{2, resumed.num_batches()});

  // A position at the end of an epoch yields nothing; one past it is an error.
  REQUIRE(run_epoch(resumed, 2, resumed.num_batches()).empty());
  REQUIRE_THROWS_WITH(resumed.start_epoch(2, resumed.num_batches() + 1), Catch::Contains("first_batch 14"));
  REQUIRE_THROWS_WITH(nlohmann::json::parse(R"({"epoch":1})").get<LoaderPosition>(), Catch::Contains("next_batch"));
}

TEST_CASE("an exception in a transform reaches the consumer at its batch", "[data][loader]") {
  auto failing = lambda_transform("fails on batch 3", [](const Tensor& x, Generator&) {
    if (read_element(x, 0) == 3 * 4) throw Error("boom in batch 3");
    return x;
  });
  const Tensor pixels = arange(0.0, 40.0 * 4, 1.0).reshape({40, 1, 2, 2});
  auto dataset = std::make_shared<TensorDataset>(pixels, arange(0.0, 40.0, 1.0, DType::i64));
  for (int workers : {0, 3}) {
    INFO(workers << " workers");
    DataLoader loader(dataset, {.batch_size = 1, .num_workers = workers}, failing);
    loader.start_epoch(0);
    for (int i = 0; i < 3; ++i) REQUIRE(loader.next());
    REQUIRE_THROWS_WITH(loader.next(), Catch::Contains("boom in batch 3"));
    REQUIRE(loader.position() == LoaderPosition{0, 3});
    REQUIRE_FALSE(loader.next());  // the epoch ended with the error
    loader.start_epoch(0, 4);      // and a new one starts cleanly past it
    REQUIRE(loader.next());
  }
}

TEST_CASE("breaking out early, restarting and destroying never hang", "[data][loader]") {
  std::atomic<int> made{0};
  auto counting = lambda_transform("count", [&](const Tensor& x, Generator&) {
    ++made;
    return x;
  });
  {
    DataLoader loader(index_dataset(1000), {.batch_size = 1, .num_workers = 3, .prefetch_per_worker = 2}, counting);
    loader.start_epoch(0);
    REQUIRE(loader.next());
    loader.start_epoch(1);  // abandons epoch 0 mid-way
    REQUIRE(loader.next());
    loader.stop();
    REQUIRE_FALSE(loader.next());  // stopped: nothing left to deliver... until the next start_epoch
    loader.start_epoch(2);
    REQUIRE(loader.next());
  }  // destroyed with workers blocked on a full queue
  // Prefetch is bounded: at most capacity (6) batches ahead of the consumer per epoch.
  REQUIRE(made.load() <= 3 * (1 + 6 + 3));
  DataLoader never_started(index_dataset(10), {});
  REQUIRE_THROWS_WITH(never_started.next(), Catch::Contains("start_epoch"));
}

TEST_CASE("DistributedSampler shards the padded order across ranks", "[data][loader]") {
  const auto base = std::make_shared<RandomSampler>(10, 9);
  std::multiset<int64_t> seen;
  for (int64_t rank = 0; rank < 4; ++rank) {
    DistributedSampler shard(base, rank, 4);
    REQUIRE(shard.size() == 3);
    const auto idx = shard.epoch_indices(1);
    REQUIRE(idx.size() == 3);
    seen.insert(idx.begin(), idx.end());
    const auto order = base->epoch_indices(1);
    for (size_t k = 0; k < idx.size(); ++k) REQUIRE(idx[k] == order[(rank + 4 * k) % 10]);
  }
  REQUIRE(seen.size() == 12);  // all 10, two of them twice (padding)
  for (int64_t i = 0; i < 10; ++i) REQUIRE(seen.count(i) >= 1);
  DataLoader rank1(index_dataset(10), {.batch_size = 2, .shuffle = true, .seed = 9, .rank = 1, .world_size = 4});
  REQUIRE(rank1.num_samples() == 3);
  REQUIRE(epoch_order(rank1, 1) == DistributedSampler(base, 1, 4).epoch_indices(1));
  REQUIRE_THROWS_WITH(DataLoader(index_dataset(10), {.rank = 4, .world_size = 4}), Catch::Contains("rank 4"));
}

TEST_CASE("datasets: default get_batch stacks, ImageDataset scales to [0, 1], Subset maps", "[data][dataset]") {
  struct Squares : Dataset {
    int64_t size() const override { return 5; }
    Example get(int64_t i) const override {
      return {full({2}, static_cast<double>(i * i)), scalar_tensor(static_cast<double>(i), DType::i64)};
    }
  };
  const Batch b = Squares().get_batch({3, 1});
  REQUIRE(b.input.sizes() == Shape{2, 2});
  REQUIRE(values(b.input) == std::vector<double>{9, 9, 1, 1});
  REQUIRE(values(b.target) == std::vector<double>{3, 1});

  const Tensor images = from_vector<uint8_t>({0, 51, 255, 102, 1, 2, 3, 4}, {2, 2, 2});
  auto image_data = std::make_shared<ImageDataset>(images, from_vector<int64_t>({4, 2}));
  const Batch ib = image_data->get_batch({1, 0});
  REQUIRE(ib.input.sizes() == Shape{2, 1, 2, 2});
  REQUIRE(ember::test::all_close(ib.input, {1 / 255.0, 2 / 255.0, 3 / 255.0, 4 / 255.0, 0, 0.2, 1, 0.4}));
  REQUIRE(values(image_data->get(0).target) == std::vector<double>{4});

  Subset odd(index_dataset(10), {1, 3, 5, 7, 9});
  REQUIRE(odd.size() == 5);
  REQUIRE(targets_of(odd.get_batch({4, 0})) == std::vector<int64_t>{9, 1});
  REQUIRE_THROWS_WITH(odd.get(5), Catch::Contains("index 5 is out of range"));
  REQUIRE_THROWS_WITH(image_data->get_batch({2}), Catch::Contains("ImageDataset::get_batch"));
  REQUIRE_THROWS_WITH(TensorDataset(zeros({3, 2}), zeros({4})), Catch::Contains("first dim"));
  REQUIRE_THROWS_WITH(ImageDataset(zeros({3, 2, 2}), zeros({3})), Catch::Contains("uint8"));
}
