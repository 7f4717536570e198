#include "engine/storage.h"

#include <atomic>
#include <sys/mman.h>

#include <cstdlib>

#include "engine/error.h"

namespace ember {

static std::atomic<size_t> g_cpu_bytes{0};
static std::atomic<size_t> g_cpu_peak_bytes{0};
static thread_local uint64_t t_bytes_allocated_total = 0;

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
  EMBER_CHECK(device.is_cpu(), "allocate: device {} is not available (the CUDA backend is not built yet)",
              device.str());
  // Large blocks are 2 MiB-aligned and asked to use transparent huge pages: first-touching a
  // 12 MB activation costs ~15 ms with 4 KiB pages and ~1.5 ms with huge pages.
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t alignment = nbytes >= kHugePage ? kHugePage : 64;
  const size_t rounded = ((nbytes + alignment - 1) / alignment) * alignment;
  data_ = rounded ? std::aligned_alloc(alignment, rounded) : nullptr;
  if (data_ && alignment == kHugePage) madvise(data_, rounded, MADV_HUGEPAGE);
  EMBER_CHECK(rounded == 0 || data_ != nullptr, "allocate: out of memory asking for {} bytes", nbytes);
  count_allocation(nbytes_);
  deleter_ = [nbytes](void* p) {
    std::free(p);
    g_cpu_bytes -= nbytes;
  };
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {}

Storage::~Storage() {
  if (deleter_) deleter_(data_);
}

}  // namespace ember
