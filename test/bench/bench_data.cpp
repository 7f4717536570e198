// Data-pipeline throughput (Google Benchmark): Fashion-MNIST-sized batches of 128 (uint8 images
// 28x28 gathered, scaled to [0, 1], then random crop with padding 4 + horizontal flip + normalize),
// delivered by a DataLoader with 1 background worker, and the same work on the calling thread.
// items_per_second is images/s. The bar: one worker keeps up with a ResNet-18 epoch on
// Fashion-MNIST, i.e. far more than the ~1000 images/s such a training step consumes on 2 cores.
// Code: data/dataloader.h, data/transforms.h.
#include <benchmark/benchmark.h>

#include "data/dataloader.h"
#include "data/transforms.h"
#include "ember.h"

namespace {
using namespace ember;

std::shared_ptr<data::ImageDataset> fmnist_sized_dataset() {
  static auto dataset = [] {
    Generator gen(1);
    return std::make_shared<data::ImageDataset>(randint(0, 256, {60000, 1, 28, 28}, gen, DType::u8),
                                                randint(0, 10, {60000}, gen));
  }();
  return dataset;
}

data::TransformPtr crop_flip_normalize() {
  return data::compose({data::random_crop(28, 4), data::random_horizontal_flip(),
                        data::normalize({0.2860406}, {0.3530242})});
}

void run_loader(benchmark::State& state, int workers) {
  data::DataLoader loader(fmnist_sized_dataset(),
                          {.batch_size = 128, .shuffle = true, .seed = 1, .drop_last = true, .num_workers = workers},
                          crop_flip_normalize());
  int64_t epoch = 0;
  loader.start_epoch(epoch);
  for (auto _ : state) {
    auto batch = loader.next();
    if (!batch) {
      loader.start_epoch(++epoch);
      batch = loader.next();
    }
    benchmark::DoNotOptimize(batch->input.raw_data());
  }
  state.SetItemsProcessed(state.iterations() * 128);
}

void data_loader_fmnist_b128_crop_flip_norm_1worker(benchmark::State& state) { run_loader(state, 1); }
BENCHMARK(data_loader_fmnist_b128_crop_flip_norm_1worker)->Unit(benchmark::kMillisecond)->UseRealTime();

void data_loader_fmnist_b128_crop_flip_norm_inline(benchmark::State& state) { run_loader(state, 0); }
BENCHMARK(data_loader_fmnist_b128_crop_flip_norm_inline)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
