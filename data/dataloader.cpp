// Samplers and the DataLoader (interface and determinism contract: data/dataloader.h).
//
// Note [Prefetch]: worker threads claim batch indices in increasing order from a shared counter,
// never more than `capacity` ahead of the consumer, make the batch (gather + transform) without the
// lock, and file it in `ready` under its index. next() waits for exactly the index it needs, so the
// output order does not depend on which worker finished first. A failed batch is filed as an
// exception_ptr and rethrown by next() when the consumer reaches it; stop() sets a flag, wakes
// everyone and joins, so breaking out of a loop early never hangs.
#include "data/dataloader.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "engine/random.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ember::data {

namespace {
// Sub-stream tags for derive_seed.
constexpr uint64_t kShuffleStream = 0x5348554646ull;  // "SHUFF"
constexpr uint64_t kAugmentStream = 0x4155474dull;    // "AUGM"
}  // namespace

uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> path) {
  uint64_t h = seed;
  for (uint64_t v : path) {
    const auto r = philox4x32(v, h ^ 0x9E3779B97F4A7C15ull);
    h = (static_cast<uint64_t>(r[0]) << 32) | r[1];
  }
  return h;
}

// ---- samplers ----

SequentialSampler::SequentialSampler(int64_t n) : n_(n) {
  EMBER_CHECK(n >= 0, "SequentialSampler: size must be non-negative, got {}", n);
}

std::vector<int64_t> SequentialSampler::epoch_indices(int64_t) const {
  std::vector<int64_t> out(static_cast<size_t>(n_));
  for (int64_t i = 0; i < n_; ++i) out[i] = i;
  return out;
}

RandomSampler::RandomSampler(int64_t n, uint64_t seed) : n_(n), seed_(seed) {
  EMBER_CHECK(n >= 0, "RandomSampler: size must be non-negative, got {}", n);
}

std::vector<int64_t> RandomSampler::epoch_indices(int64_t epoch) const {
  Generator gen(derive_seed(seed_, {kShuffleStream, static_cast<uint64_t>(epoch)}));
  const Tensor perm = randperm(n_, gen);
  const int64_t* p = perm.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + n_);
}

DistributedSampler::DistributedSampler(SamplerPtr base, int64_t rank, int64_t world_size)
    : base_(std::move(base)), rank_(rank), world_size_(world_size) {
  EMBER_CHECK(base_ != nullptr, "DistributedSampler: the base sampler is null");
  EMBER_CHECK(world_size >= 1 && rank >= 0 && rank < world_size,
              "DistributedSampler: rank {} is not in [0, world_size = {})", rank, world_size);
}

int64_t DistributedSampler::size() const { return (base_->size() + world_size_ - 1) / world_size_; }

std::vector<int64_t> DistributedSampler::epoch_indices(int64_t epoch) const {
  const std::vector<int64_t> all = base_->epoch_indices(epoch);
  const int64_t n = static_cast<int64_t>(all.size());
  std::vector<int64_t> out;
  if (n == 0) return out;
  out.reserve(static_cast<size_t>(size()));
  for (int64_t k = rank_; k < size() * world_size_; k += world_size_) out.push_back(all[k % n]);  // wraps to pad
  return out;
}

// ---- position ----

void to_json(nlohmann::json& j, const LoaderPosition& p) { j = {{"epoch", p.epoch}, {"next_batch", p.next_batch}}; }

void from_json(const nlohmann::json& j, LoaderPosition& p) {
  for (const char* key : {"epoch", "next_batch"}) {
    EMBER_CHECK(j.is_object() && j.contains(key) && j.at(key).is_number_integer() && j.at(key).get<int64_t>() >= 0,
                "LoaderPosition: expected {{\"epoch\": int >= 0, \"next_batch\": int >= 0}}, got {}", j.dump());
  }
  p.epoch = j.at("epoch").get<int64_t>();
  p.next_batch = j.at("next_batch").get<int64_t>();
}

// ---- loader ----

struct DataLoader::Workers {
  struct Slot {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  std::mutex mutex;
  std::condition_variable can_produce, can_consume;
  int64_t next_claim = 0;    // next batch index a worker will take
  int64_t next_deliver = 0;  // next batch index the consumer wants
  int64_t end = 0;
  int64_t capacity = 1;
  bool stopping = false;
  std::map<int64_t, Slot> ready;
  std::vector<std::thread> threads;

  void run(const DataLoader& loader) {
#ifdef _OPENMP
    omp_set_num_threads(1);  // this thread's ops stay serial: the training thread owns the cores
#endif
    for (;;) {
      int64_t b;
      {
        std::unique_lock lock(mutex);
        can_produce.wait(lock, [&] { return stopping || next_claim >= end || next_claim < next_deliver + capacity; });
        if (stopping || next_claim >= end) return;
        b = next_claim++;
      }
      Slot slot;
      try {
        slot.batch = loader.make_batch(b);
      } catch (...) {
        slot.error = std::current_exception();
      }
      {
        std::lock_guard lock(mutex);
        ready.emplace(b, std::move(slot));
      }
      can_consume.notify_all();
    }
  }

  void join() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    can_produce.notify_all();
    for (auto& t : threads) t.join();
    threads.clear();
  }
};

namespace {
SamplerPtr default_sampler(const DatasetPtr& dataset, const DataLoaderOptions& options) {
  EMBER_CHECK(dataset != nullptr, "DataLoader: the dataset is null");
  const int64_t n = dataset->size();
  SamplerPtr sampler = options.shuffle ? SamplerPtr(std::make_shared<RandomSampler>(n, options.seed))
                                       : SamplerPtr(std::make_shared<SequentialSampler>(n));
  if (options.world_size == 1 && options.rank == 0) return sampler;
  return std::make_shared<DistributedSampler>(sampler, options.rank, options.world_size);
}
}  // namespace

DataLoader::DataLoader(DatasetPtr dataset, DataLoaderOptions options, TransformPtr transform)
    : DataLoader(dataset, default_sampler(dataset, options), options, std::move(transform)) {}

DataLoader::DataLoader(DatasetPtr dataset, SamplerPtr sampler, DataLoaderOptions options, TransformPtr transform)
    : dataset_(std::move(dataset)), sampler_(std::move(sampler)), options_(options), transform_(std::move(transform)) {
  EMBER_CHECK(dataset_ != nullptr && sampler_ != nullptr, "DataLoader: the dataset or sampler is null");
  EMBER_CHECK(options_.batch_size >= 1, "DataLoader: batch_size must be positive, got {}", options_.batch_size);
  EMBER_CHECK(options_.num_workers >= 0 && options_.prefetch_per_worker >= 1,
              "DataLoader: num_workers ({}) must be >= 0 and prefetch_per_worker ({}) >= 1", options_.num_workers,
              options_.prefetch_per_worker);
}

DataLoader::~DataLoader() { stop(); }

int64_t DataLoader::num_samples() const { return sampler_->size(); }

int64_t DataLoader::num_batches() const {
  const int64_t n = num_samples(), bs = options_.batch_size;
  return options_.drop_last ? n / bs : (n + bs - 1) / bs;
}

void DataLoader::stop() {
  active_ = false;
  if (workers_) {
    workers_->join();
    workers_.reset();
  }
}

void DataLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  stop();
  EMBER_CHECK(epoch >= 0, "DataLoader::start_epoch: epoch must be non-negative, got {}", epoch);
  const int64_t batches = num_batches();
  EMBER_CHECK(first_batch >= 0 && first_batch <= batches,
              "DataLoader::start_epoch: first_batch {} is outside [0, {}] (the epoch has {} batches of {}); was the "
              "position saved with another batch size or dataset?",
              first_batch, batches, batches, options_.batch_size);
  epoch_ = epoch;
  next_batch_ = first_batch;
  order_ = sampler_->epoch_indices(epoch);
  active_ = started_ = true;
  if (options_.num_workers == 0 || first_batch == batches) return;
  workers_ = std::make_unique<Workers>();
  workers_->next_claim = workers_->next_deliver = first_batch;
  workers_->end = batches;
  workers_->capacity = int64_t{options_.num_workers} * options_.prefetch_per_worker;
  for (int i = 0; i < options_.num_workers; ++i) {
    workers_->threads.emplace_back([this] { workers_->run(*this); });
  }
}

Batch DataLoader::make_batch(int64_t batch_index) const {
  const int64_t bs = options_.batch_size;
  const auto begin = order_.begin() + batch_index * bs;
  const auto end = order_.begin() + std::min<int64_t>((batch_index + 1) * bs, static_cast<int64_t>(order_.size()));
  Batch batch = dataset_->get_batch(std::vector<int64_t>(begin, end));
  if (transform_) {
    Generator gen(derive_seed(options_.seed, {kAugmentStream, static_cast<uint64_t>(epoch_),
                                              static_cast<uint64_t>(batch_index), static_cast<uint64_t>(options_.rank)}));
    batch = transform_->apply_batch(std::move(batch), gen);
  }
  return batch;
}

std::optional<Batch> DataLoader::next() {
  EMBER_CHECK(started_, "DataLoader::next: no epoch started; call start_epoch(epoch) first");
  if (!active_ || next_batch_ >= num_batches()) return std::nullopt;
  if (!workers_) {
    try {
      Batch batch = make_batch(next_batch_);
      ++next_batch_;
      return batch;
    } catch (...) {
      active_ = false;  // the epoch ends with the error; position() still names the failed batch
      throw;
    }
  }
  Workers::Slot slot;
  {
    std::unique_lock lock(workers_->mutex);
    workers_->can_consume.wait(lock, [&] { return workers_->ready.count(next_batch_) > 0; });
    auto it = workers_->ready.find(next_batch_);
    slot = std::move(it->second);
    workers_->ready.erase(it);
    if (!slot.error) workers_->next_deliver = ++next_batch_;
  }
  workers_->can_produce.notify_all();
  if (slot.error) {
    stop();  // ends the epoch; position() still names the failed batch
    std::rethrow_exception(slot.error);
  }
  return std::move(slot.batch);
}

}  // namespace ember::data
