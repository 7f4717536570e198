// The CUDA caching allocator's policy (cuda/caching_allocator.h) on a fake device: host memory
// behind a MemoryBackend with a capacity limit, so reuse, splitting, merging, stream separation,
// out-of-memory recovery and the statistics are checked on any machine. The real cudaMalloc
// backend is exercised by test_cuda_runtime.cpp when a GPU is present.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cuda/caching_allocator.h"
#include "engine/error.h"

using namespace ember;
using namespace ember::cuda;

namespace {

constexpr size_t MiB = size_t{1} << 20;

// Host memory standing in for a device with `capacity` bytes. malloc returns nullptr past the
// capacity, like cudaMalloc's cudaErrorMemoryAllocation.
class FakeBackend final : public MemoryBackend {
 public:
  explicit FakeBackend(size_t capacity) : capacity_(capacity) {}
  ~FakeBackend() override {
    for (auto& [ptr, size] : live_) std::free(ptr);
  }
  void* malloc(size_t bytes) override {
    ++malloc_calls;
    if (used + bytes > capacity_) {
      ++failed_mallocs;
      return nullptr;
    }
    void* ptr = std::malloc(bytes);  // untouched pages cost nothing
    REQUIRE(ptr != nullptr);
    live_[ptr] = bytes;
    used += bytes;
    return ptr;
  }
  void free(void* ptr) override {
    ++free_calls;
    auto it = live_.find(ptr);
    REQUIRE(it != live_.end());  // the allocator frees only whole segments it got from malloc
    used -= it->second;
    live_.erase(it);
    std::free(ptr);
  }
  std::string name() const override { return "fake device"; }
  // True when [ptr, ptr + bytes) lies inside one segment handed out by malloc.
  bool owns(const void* ptr, size_t bytes) const {
    auto it = live_.upper_bound(const_cast<void*>(ptr));
    if (it == live_.begin()) return false;
    --it;
    const char* base = static_cast<const char*>(it->first);
    const char* p = static_cast<const char*>(ptr);
    return p >= base && p + bytes <= base + it->second;
  }

  size_t used = 0;
  int malloc_calls = 0;
  int failed_mallocs = 0;
  int free_calls = 0;

 private:
  size_t capacity_;
  std::map<void*, size_t> live_;
};

struct Fixture {
  explicit Fixture(size_t capacity = 256 * MiB) {
    auto owned = std::make_unique<FakeBackend>(capacity);
    backend = owned.get();
    allocator = std::make_unique<CachingAllocator>(std::move(owned));
  }
  FakeBackend* backend;  // owned by the allocator
  std::unique_ptr<CachingAllocator> allocator;
};

char* as_bytes(void* p) { return static_cast<char*>(p); }

}  // namespace

TEST_CASE("caching allocator: size classes follow PyTorch's", "[cuda][allocator]") {
  CHECK(round_block_size(1) == 512);
  CHECK(round_block_size(512) == 512);
  CHECK(round_block_size(513) == 1024);
  CHECK(segment_size_for(512) == 2 * MiB);        // small pool: 2 MiB segments
  CHECK(segment_size_for(1 * MiB) == 2 * MiB);    // 1 MiB is still small
  CHECK(segment_size_for(1 * MiB + 512) == 20 * MiB);  // large below 10 MiB: 20 MiB segments
  CHECK(segment_size_for(10 * MiB) == 10 * MiB);  // from 10 MiB: the size rounded to 2 MiB
  CHECK(segment_size_for(10 * MiB + 512) == 12 * MiB);
  CHECK(format_bytes(3 * MiB) == "3.00 MiB (3145728 bytes)");
}

TEST_CASE("caching allocator: a freed block is reused without a new segment", "[cuda][allocator]") {
  Fixture f;
  void* a = f.allocator->allocate(1000);
  f.allocator->deallocate(a);
  void* b = f.allocator->allocate(1000);
  CHECK(b == a);
  CHECK(f.backend->malloc_calls == 1);
  CHECK(f.allocator->memory_stats().num_segment_allocs == 1);
  CHECK(f.allocator->allocate(0) == nullptr);
  f.allocator->deallocate(nullptr);  // no-op
  f.allocator->deallocate(b);
  f.allocator->check_invariants();
}

TEST_CASE("caching allocator: segments are split into blocks", "[cuda][allocator]") {
  Fixture f;
  SECTION("small pool: consecutive requests share a 2 MiB segment") {
    void* a = f.allocator->allocate(1000);
    void* b = f.allocator->allocate(1000);
    CHECK(f.allocator->block_size(a) == 1024);
    CHECK(as_bytes(b) == as_bytes(a) + 1024);
    CHECK(f.backend->malloc_calls == 1);
    CHECK(f.backend->used == 2 * MiB);
  }
  SECTION("large pool: a 3 MiB request leaves 17 MiB of its 20 MiB segment for the next") {
    void* a = f.allocator->allocate(3 * MiB);
    void* b = f.allocator->allocate(5 * MiB);
    CHECK(as_bytes(b) == as_bytes(a) + 3 * MiB);
    CHECK(f.backend->malloc_calls == 1);
    CHECK(f.allocator->memory_stats().cached_blocks == 1);  // the 12 MiB rest
  }
  SECTION("large pool: a leftover of 1 MiB or less stays with the block") {
    void* a = f.allocator->allocate(19 * MiB + MiB / 2);  // 20 MiB segment, 0.5 MiB over
    CHECK(f.allocator->block_size(a) == 20 * MiB);
    CHECK(f.allocator->memory_stats().cached_blocks == 0);
  }
  f.allocator->check_invariants();
}

TEST_CASE("caching allocator: best fit picks the smallest free block that fits", "[cuda][allocator]") {
  Fixture f;
  // Free blocks of 4096, 2048 and 8192 bytes, kept apart by held 512-byte separators.
  void* a = f.allocator->allocate(4096);
  void* s1 = f.allocator->allocate(512);
  void* b = f.allocator->allocate(2048);
  void* s2 = f.allocator->allocate(512);
  void* c = f.allocator->allocate(8192);
  void* s3 = f.allocator->allocate(512);
  f.allocator->deallocate(a);
  f.allocator->deallocate(b);
  f.allocator->deallocate(c);
  f.allocator->check_invariants();
  CHECK(f.allocator->allocate(2000) == b);
  void* from_a = f.allocator->allocate(3000);  // 3072: 4096 is the smallest fit, split
  CHECK(from_a == a);
  CHECK(f.allocator->block_size(from_a) == 3072);
  CHECK(f.allocator->allocate(6000) == c);
  CHECK(f.backend->malloc_calls == 1);
  for (void* p : {s1, s2, s3}) f.allocator->deallocate(p);
  f.allocator->check_invariants();
}

TEST_CASE("caching allocator: freed neighbours merge back into whole segments", "[cuda][allocator]") {
  Fixture f;
  void* a = f.allocator->allocate(100000);
  void* b = f.allocator->allocate(200000);
  void* c = f.allocator->allocate(300000);
  f.allocator->deallocate(a);
  f.allocator->deallocate(c);  // merges with the free tail of the segment
  f.allocator->check_invariants();
  CHECK(f.allocator->memory_stats().cached_blocks == 2);
  f.allocator->empty_cache();  // b still holds the segment: nothing to release
  CHECK(f.allocator->memory_stats().reserved_bytes == 2 * MiB);
  f.allocator->deallocate(b);  // merges with both sides: one free block = the whole segment
  CHECK(f.allocator->memory_stats().cached_blocks == 1);
  // The merged block serves a request as large as the segment without a new malloc.
  void* whole = f.allocator->allocate(MiB);
  CHECK(whole == a);
  f.allocator->deallocate(whole);
  f.allocator->empty_cache();
  const MemoryStats s = f.allocator->memory_stats();
  CHECK(s.reserved_bytes == 0);
  CHECK(s.segments == 0);
  CHECK(f.backend->used == 0);
  CHECK(f.backend->free_calls == 1);
  f.allocator->check_invariants();
}

TEST_CASE("caching allocator: blocks are reused only on their own stream", "[cuda][allocator]") {
  Fixture f;
  const StreamId s1 = 0x10, s2 = 0x20;
  void* a = f.allocator->allocate(4096, s1);
  f.allocator->deallocate(a);
  void* b = f.allocator->allocate(4096, s2);
  CHECK(b != a);
  CHECK(f.backend->malloc_calls == 2);  // stream 2 got its own segment
  void* c = f.allocator->allocate(4096, s1);
  CHECK(c == a);
  // Large blocks too.
  void* big1 = f.allocator->allocate(4 * MiB, s1);
  f.allocator->deallocate(big1);
  void* big2 = f.allocator->allocate(4 * MiB, s2);
  CHECK(big2 != big1);
  for (void* p : {b, c, big2}) f.allocator->deallocate(p);
  f.allocator->check_invariants();
}

TEST_CASE("caching allocator: out of memory releases the cache and retries", "[cuda][allocator]") {
  Fixture f(24 * MiB);
  void* a = f.allocator->allocate(3 * MiB, 1);  // a 20 MiB segment on stream 1
  f.allocator->deallocate(a);                     // cached, not given back
  CHECK(f.backend->used == 20 * MiB);
  void* b = f.allocator->allocate(3 * MiB, 2);  // stream 2 cannot reuse it: 40 MiB > 24 MiB
  REQUIRE(b != nullptr);
  const MemoryStats s = f.allocator->memory_stats();
  CHECK(f.backend->failed_mallocs == 1);
  CHECK(s.num_cache_flushes == 1);
  CHECK(s.num_segment_frees == 1);
  CHECK(s.num_ooms == 0);
  CHECK(s.reserved_bytes == 20 * MiB);
  CHECK(f.backend->used == 20 * MiB);
  f.allocator->deallocate(b);
  f.allocator->check_invariants();
}

TEST_CASE("caching allocator: out of memory after the retry reports the byte counts", "[cuda][allocator]") {
  Fixture f(24 * MiB);
  // 3 MiB held on stream 1 pins its 20 MiB segment (17 MiB of it cached, but for stream 1 only).
  void* held = f.allocator->allocate(3 * MiB, 1);
  std::string message;
  try {
    // Stream 2 needs a 12 MiB segment: 32 MiB > 24 MiB, and the cache has no whole free segment.
    f.allocator->allocate(12 * MiB, 2);
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("out of memory on fake device") != std::string::npos);
  CHECK(message.find("allocating 12.00 MiB (12582912 bytes)") != std::string::npos);
  CHECK(message.find("allocated 3.00 MiB (3145728 bytes)") != std::string::npos);
  CHECK(message.find("reserved 20.00 MiB (20971520 bytes)") != std::string::npos);
  CHECK(message.find("peak allocated 3.00 MiB") != std::string::npos);
  CHECK(message.find("caching_allocator.cpp:") != std::string::npos);
  const MemoryStats s = f.allocator->memory_stats();
  CHECK(s.num_ooms == 1);
  CHECK(s.num_cache_flushes == 1);
  CHECK(f.backend->failed_mallocs == 2);  // first try and the retry
  f.allocator->check_invariants();
  // Still usable: once the 3 MiB block is freed its segment is whole, and the retry releases it.
  f.allocator->deallocate(held);
  void* big = f.allocator->allocate(12 * MiB, 2);
  CHECK(big != nullptr);
  CHECK(f.allocator->memory_stats().num_cache_flushes == 2);
  CHECK(f.backend->used == 12 * MiB);
  f.allocator->deallocate(big);
}

TEST_CASE("caching allocator: memory_stats counts bytes, peaks and events", "[cuda][allocator]") {
  Fixture f;
  void* a = f.allocator->allocate(1000);     // block 1024, small segment 2 MiB
  void* b = f.allocator->allocate(3 * MiB);  // block 3 MiB, large segment 20 MiB
  MemoryStats s = f.allocator->memory_stats();
  CHECK(s.allocated_bytes == 1024 + 3 * MiB);
  CHECK(s.requested_bytes == 1000 + 3 * MiB);
  CHECK(s.reserved_bytes == 22 * MiB);
  CHECK(s.active_blocks == 2);
  CHECK(s.cached_blocks == 2);  // the two segments' tails
  CHECK(s.segments == 2);
  CHECK(s.num_allocs == 2);
  f.allocator->deallocate(b);
  s = f.allocator->memory_stats();
  CHECK(s.allocated_bytes == 1024);
  CHECK(s.peak_allocated_bytes == 1024 + 3 * MiB);
  CHECK(s.num_frees == 1);
  f.allocator->empty_cache();
  s = f.allocator->memory_stats();
  CHECK(s.reserved_bytes == 2 * MiB);
  CHECK(s.peak_reserved_bytes == 22 * MiB);
  CHECK(s.num_segment_frees == 1);
  f.allocator->reset_peak_stats();
  s = f.allocator->memory_stats();
  CHECK(s.peak_allocated_bytes == 1024);
  CHECK(s.peak_reserved_bytes == 2 * MiB);
  f.allocator->deallocate(a);
}

TEST_CASE("caching allocator: bad frees are errors", "[cuda][allocator]") {
  Fixture f;
  void* a = f.allocator->allocate(1000);
  int on_stack = 0;
  CHECK_THROWS_WITH(f.allocator->deallocate(&on_stack), Catch::Contains("did not hand out"));
  f.allocator->deallocate(a);
  CHECK_THROWS_WITH(f.allocator->deallocate(a), Catch::Contains("already freed"));
  CHECK_THROWS_AS(CachingAllocator(nullptr), Error);
}

TEST_CASE("caching allocator: random alloc/free across streams keeps every invariant", "[cuda][allocator]") {
  // Checked independently of the bookkeeping: live blocks never overlap and always lie inside a
  // segment the backend handed out; every step also runs check_invariants().
  Fixture f(96 * MiB);
  std::mt19937_64 rng(20261129);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  struct Live {
    size_t bytes;
    StreamId stream;
  };
  std::map<char*, Live> live;
  int ooms = 0;
  auto free_random = [&] {
    auto it = live.begin();
    std::advance(it, static_cast<long>(rng() % live.size()));
    f.allocator->deallocate(it->first);
    live.erase(it);
  };
  for (int step = 0; step < 3000; ++step) {
    if (!live.empty() && unit(rng) < 0.45) {
      free_random();
    } else {
      // Sizes log-uniform over 1 B .. 1 MiB (small pool) or 1 MiB .. 24 MiB (large pool).
      const bool small = unit(rng) < 0.7;
      const double lo = small ? 0.0 : 20.0, hi = small ? 20.0 : 24.6;
      const size_t bytes = static_cast<size_t>(std::exp2(lo + (hi - lo) * unit(rng)));
      const StreamId stream = rng() % 3;
      char* p = nullptr;
      try {
        p = static_cast<char*>(f.allocator->allocate(bytes, stream));
      } catch (const Error&) {
        ++ooms;
        if (!live.empty()) free_random();
        continue;
      }
      const size_t size = f.allocator->block_size(p);
      REQUIRE(size >= bytes);
      REQUIRE(f.backend->owns(p, size));
      auto next = live.lower_bound(p);
      if (next != live.end()) REQUIRE(p + size <= next->first);
      if (next != live.begin()) {
        auto prev = std::prev(next);
        REQUIRE(prev->first + f.allocator->block_size(prev->first) <= p);
      }
      live.emplace(p, Live{bytes, stream});
    }
    f.allocator->check_invariants();
    REQUIRE(f.allocator->memory_stats().reserved_bytes == f.backend->used);
  }
  const MemoryStats mid = f.allocator->memory_stats();
  CHECK(mid.num_allocs > 1000);
  CHECK(mid.num_segment_allocs < mid.num_allocs / 10);  // the cache does its job
  CHECK(ooms > 0);                                       // the capacity was reached...
  CHECK(mid.num_cache_flushes > 0);                      // ...and the cache released
  while (!live.empty()) free_random();
  f.allocator->check_invariants();
  CHECK(f.allocator->memory_stats().allocated_bytes == 0);
  f.allocator->empty_cache();  // every segment is whole again, so all of it goes back
  CHECK(f.allocator->memory_stats().reserved_bytes == 0);
  CHECK(f.backend->used == 0);
}
