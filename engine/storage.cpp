// CPU storage allocation, with a cache of large freed blocks (Note [Block cache]).
#include "engine/storage.h"


#include <atomic>
#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include "cuda/runtime.h"
#include "engine/error.h"

namespace ember {

static std::atomic<size_t> g_cpu_bytes{0};
static std::atomic<size_t> g_cpu_peak_bytes{0};
static thread_local uint64_t t_bytes_allocated_total = 0;

namespace {

// Note [Block cache]: a training step frees and re-allocates the same activation and gradient
// sizes every iteration. glibc returns blocks of 128 KiB and more to the kernel on free (mmap /
// munmap), and the kernel zeroes every page again on the next first touch: a quarter of a
// ResNet-18 step went to clear_page. Freed blocks of kMinCachedBytes and more are therefore kept,
// keyed by their exact rounded size (the same shapes recur every step), up to a cap (default
// 2 GiB; EMBER_CPU_CACHE_MB sets it, 0 disables), past which they are freed. Reuse is
// exact-size only, so nothing is wasted on a block bigger than asked for.
constexpr size_t kMinCachedBytes = size_t{64} << 10;

class BlockCache {
 public:
  void* take(size_t rounded) {
    if (rounded < kMinCachedBytes) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = blocks_.find(rounded);
    if (it == blocks_.end()) return nullptr;
    void* block = it->second;
    blocks_.erase(it);
    cached_bytes_ -= rounded;
    return block;
  }
  // Keeps `block` for reuse, or frees it when it is small or the cache is full.
  void give(void* block, size_t rounded) {
    if (rounded >= kMinCachedBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + rounded <= capacity_) {
        blocks_.emplace(rounded, block);
        cached_bytes_ += rounded;
        return;
      }
    }
    std::free(block);
  }
 private:
  static size_t capacity_from_env() {
    const char* mb = std::getenv("EMBER_CPU_CACHE_MB");
    return (mb && *mb ? static_cast<size_t>(std::strtoull(mb, nullptr, 10)) : size_t{2048}) << 20;
  }
  std::mutex mutex_;
  std::multimap<size_t, void*> blocks_;
  size_t cached_bytes_ = 0, capacity_ = capacity_from_env();
};

BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: storages may outlive statics
  return *cache;
}

}  // namespace

size_t cpu_bytes_allocated() { return g_cpu_bytes.load(); }
size_t cpu_peak_bytes_allocated() { return g_cpu_peak_bytes.load(std::memory_order_relaxed); }
void reset_cpu_peak_bytes_allocated() { g_cpu_peak_bytes.store(g_cpu_bytes.load()); }
uint64_t thread_bytes_allocated_total() { return t_bytes_allocated_total; }

// The profiler's counters: a relaxed max and a thread-local sum, a few cycles per allocation.
static void count_allocation(size_t nbytes) {
  const size_t live = g_cpu_bytes.fetch_add(nbytes) + nbytes;
  size_t peak = g_cpu_peak_bytes.load(std::memory_order_relaxed);
  while (live > peak && !g_cpu_peak_bytes.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
  }
  t_bytes_allocated_total += nbytes;
}

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cuda()) {
    EMBER_CHECK(cuda::is_available(), "allocate: cannot place {} bytes on {}: {}", nbytes, device.str(),
                cuda::unavailable_reason());
    // The device's caching allocator, tagged with its current stream (cuda/caching_allocator.h);
    // without CUDA or without a GPU this raises a clear error.
    cuda::CachingAllocator& allocator = cuda::device_allocator(device.index);
    data_ = nbytes ? allocator.allocate(nbytes, cuda::current_stream(device.index).id()) : nullptr;
    deleter_ = [&allocator](void* p) {
      if (p) allocator.deallocate(p);
    };
    return;
  }
  // Large blocks are 2 MiB-aligned and asked to use transparent huge pages: first-touching a
  // 12 MB activation costs ~15 ms with 4 KiB pages and ~1.5 ms with huge pages.
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t alignment = nbytes >= kHugePage ? kHugePage : 64;
  const size_t rounded = ((nbytes + alignment - 1) / alignment) * alignment;
  data_ = block_cache().take(rounded);
  if (!data_ && rounded) {
    data_ = std::aligned_alloc(alignment, rounded);
    if (data_ && alignment == kHugePage) madvise(data_, rounded, MADV_HUGEPAGE);
  }
  EMBER_CHECK(rounded == 0 || data_ != nullptr, "allocate: out of memory asking for {} bytes", nbytes);
  count_allocation(nbytes_);
  deleter_ = [nbytes, rounded](void* p) {
    if (p) block_cache().give(p, rounded);
    g_cpu_bytes -= nbytes;
  };
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {}

Storage::~Storage() {
  if (deleter_) deleter_(data_);
}

}  // namespace ember
