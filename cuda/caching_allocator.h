// The CUDA caching allocator's policy, in plain C++ over a raw memory backend (PyTorch's design):
// device memory is reserved in segments from the backend (cudaMalloc) and carved into blocks that
// are cached on free instead of returned, so the steady state of a training loop never calls
// cudaMalloc/cudaFree (both synchronize the device). The real backend is in cuda/runtime_cuda.cpp;
// tests drive the policy on the CPU through a fake backend with a capacity limit
// (test/cuda/test_caching_allocator.cpp). How it works: docs/GPU.md, "The caching allocator".
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace ember::cuda {

// A stream as the allocator sees it: an opaque id (the cudaStream_t's value; 0 = default stream).
// Blocks are tagged with the stream they were allocated on and only ever reused on that stream,
// so reuse needs no event: work queued on one stream runs in order.
using StreamId = uintptr_t;

// Where segments come from. malloc returns nullptr when the device is out of memory (any other
// failure throws); free gives a whole segment back.
class MemoryBackend {
 public:
  virtual ~MemoryBackend() = default;
  virtual void* malloc(size_t bytes) = 0;
  virtual void free(void* ptr) = 0;
  // For error messages: "cuda:0 (NVIDIA H200)", "fake device (capacity 8 MiB)".
  virtual std::string name() const = 0;
};

// Byte and event counts. "allocated" counts whole blocks (requests rounded up to 512 bytes),
// "reserved" the segments held from the backend, so reserved - allocated is the cache.
struct MemoryStats {
  size_t allocated_bytes = 0;
  size_t requested_bytes = 0;  // the sizes callers asked for (before rounding)
  size_t reserved_bytes = 0;
  size_t peak_allocated_bytes = 0;
  size_t peak_reserved_bytes = 0;
  int64_t active_blocks = 0;      // blocks handed out and not yet freed
  int64_t cached_blocks = 0;      // free blocks kept for reuse
  int64_t segments = 0;           // segments currently reserved
  int64_t num_allocs = 0;         // allocate() calls that returned memory
  int64_t num_frees = 0;          // deallocate() calls
  int64_t num_segment_allocs = 0; // backend malloc calls that succeeded
  int64_t num_segment_frees = 0;  // backend free calls
  int64_t num_cache_flushes = 0;  // out-of-memory retries: cache released, malloc tried again
  int64_t num_ooms = 0;           // allocations that failed even after the retry
};

// Size classes (PyTorch's constants): requests round up to kMinBlockSize; requests up to
// kSmallSize come from the small pool, carved out of kSmallBuffer segments; larger ones from the
// large pool, in kLargeBuffer segments below kMinLargeAlloc and exact (2 MiB-rounded) above.
inline constexpr size_t kMinBlockSize = 512;
inline constexpr size_t kSmallSize = size_t{1} << 20;
inline constexpr size_t kSmallBuffer = size_t{2} << 20;
inline constexpr size_t kLargeBuffer = size_t{20} << 20;
inline constexpr size_t kMinLargeAlloc = size_t{10} << 20;
inline constexpr size_t kRoundLarge = size_t{2} << 20;

class CachingAllocator {
 public:
  explicit CachingAllocator(std::unique_ptr<MemoryBackend> backend);
  // Gives every segment back, including ones whose blocks are still handed out (their owners
  // must be gone by then: the allocators of the devices live until the process ends).
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // `bytes` of device memory usable on `stream`; nullptr for 0 bytes. Out of memory releases the
  // cache and retries once, then throws ember::Error naming requested/allocated/reserved/peak.
  void* allocate(size_t bytes, StreamId stream = 0);
  // Returns a block to its stream's pool, merged with free neighbours. nullptr is a no-op.
  void deallocate(void* ptr);
  // Gives every wholly free segment back to the backend.
  void empty_cache();

  MemoryStats memory_stats() const;
  void reset_peak_stats();
  // The block size behind a pointer from allocate() (the request rounded up, or more when the
  // leftover was too small to split off).
  size_t block_size(void* ptr) const;
  // Checks the bookkeeping (segments tile exactly, neighbours never both free, pools and counts
  // agree with the blocks); throws ember::Error on the first inconsistency. For tests.
  void check_invariants() const;

 private:
  struct Block;
  struct BlockOrder {  // best fit: by stream, then size, then address
    bool operator()(const Block* a, const Block* b) const;
  };
  using Pool = std::set<Block*, BlockOrder>;

  Block* find_free_block(Pool& pool, StreamId stream, size_t size);
  Block* reserve_segment(bool small, StreamId stream, size_t size, size_t requested);
  void release_cached_segments();
  void free_block(Block* block);
  [[noreturn]] void throw_out_of_memory(size_t requested, size_t segment_size);
  void check_pool(const Pool& pool, bool small) const;

  std::unique_ptr<MemoryBackend> backend_;
  mutable std::mutex mutex_;
  Pool small_pool_;
  Pool large_pool_;
  std::unordered_map<void*, Block*> active_;  // handed-out blocks by address
  std::map<Block*, size_t> segments_;         // the first block of every segment -> its size
  MemoryStats stats_;
};

// Rounds a request to the block size the allocator hands out, and the segment size it reserves
// for a request of that block size (exposed for tests and docs).
size_t round_block_size(size_t bytes);
size_t segment_size_for(size_t block_size);

// "3.00 MiB (3145728 bytes)": the error messages' byte format.
std::string format_bytes(size_t bytes);

}  // namespace ember::cuda
