// The caching allocator's policy (see caching_allocator.h): best-fit over stream-tagged free
// blocks, splitting, merging with free neighbours, release-cached-and-retry on out-of-memory.
// Pure C++: the device is reached only through MemoryBackend.
#include "cuda/caching_allocator.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/error.h"

namespace ember::cuda {

// A piece of a segment. Blocks of one segment form a doubly linked list in address order;
// a free block sits in its pool, a handed-out one in active_.
struct CachingAllocator::Block {
  char* ptr = nullptr;
  size_t size = 0;
  size_t requested = 0;  // what the caller asked for (0 while free)
  StreamId stream = 0;
  bool small = false;
  bool allocated = false;
  Block* prev = nullptr;
  Block* next = nullptr;
};

bool CachingAllocator::BlockOrder::operator()(const Block* a, const Block* b) const {
  if (a->stream != b->stream) return a->stream < b->stream;
  if (a->size != b->size) return a->size < b->size;
  return reinterpret_cast<uintptr_t>(a->ptr) < reinterpret_cast<uintptr_t>(b->ptr);
}

size_t round_block_size(size_t bytes) {
  if (bytes < kMinBlockSize) return kMinBlockSize;
  return (bytes + kMinBlockSize - 1) / kMinBlockSize * kMinBlockSize;
}

size_t segment_size_for(size_t block_size) {
  if (block_size <= kSmallSize) return kSmallBuffer;
  if (block_size < kMinLargeAlloc) return kLargeBuffer;
  return (block_size + kRoundLarge - 1) / kRoundLarge * kRoundLarge;
}

std::string format_bytes(size_t bytes) {
  return fmt::format("{:.2f} MiB ({} bytes)", static_cast<double>(bytes) / (1 << 20), bytes);
}

namespace {
// A leftover is worth its own block when it can serve a later request of its pool: any
// small-pool size, but only more than kSmallSize in the large pool (smaller requests never look
// there, so a smaller leftover would be dead weight).
bool should_split(bool small, size_t remaining) {
  return small ? remaining >= kMinBlockSize : remaining > kSmallSize;
}
}  // namespace

CachingAllocator::CachingAllocator(std::unique_ptr<MemoryBackend> backend) : backend_(std::move(backend)) {
  EMBER_CHECK(backend_ != nullptr, "cuda caching allocator: no memory backend");
}

CachingAllocator::~CachingAllocator() {
  for (auto& [head, size] : segments_) {
    void* base = head->ptr;
    for (Block* b = head; b != nullptr;) {
      Block* next = b->next;
      delete b;
      b = next;
    }
    try {
      backend_->free(base);
    } catch (...) {  // a destructor must not throw; the process is tearing the device down anyway
    }
  }
}

CachingAllocator::Block* CachingAllocator::find_free_block(Pool& pool, StreamId stream, size_t size) {
  Block key;
  key.stream = stream;
  key.size = size;
  auto it = pool.lower_bound(&key);  // the smallest free block of this stream that fits
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  Block* block = *it;
  pool.erase(it);
  --stats_.cached_blocks;
  return block;
}

CachingAllocator::Block* CachingAllocator::reserve_segment(bool small, StreamId stream, size_t size,
                                                           size_t requested) {
  const size_t segment = segment_size_for(size);
  void* ptr = backend_->malloc(segment);
  if (ptr == nullptr) {
    // Out of memory: the cache may hold enough in free segments of other sizes or streams.
    release_cached_segments();
    ++stats_.num_cache_flushes;
    ptr = backend_->malloc(segment);
  }
  if (ptr == nullptr) {
    ++stats_.num_ooms;
    throw_out_of_memory(requested, segment);
  }
  auto* block = new Block;
  block->ptr = static_cast<char*>(ptr);
  block->size = segment;
  block->stream = stream;
  block->small = small;
  segments_.emplace(block, segment);
  ++stats_.segments;
  ++stats_.num_segment_allocs;
  stats_.reserved_bytes += segment;
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  return block;
}

void* CachingAllocator::allocate(size_t bytes, StreamId stream) {
  if (bytes == 0) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t size = round_block_size(bytes);
  const bool small = size <= kSmallSize;
  Pool& pool = small ? small_pool_ : large_pool_;
  Block* block = find_free_block(pool, stream, size);
  if (block == nullptr) block = reserve_segment(small, stream, size, bytes);

  const size_t remaining = block->size - size;
  if (should_split(small, remaining)) {
    auto* rest = new Block;
    rest->ptr = block->ptr + size;
    rest->size = remaining;
    rest->stream = stream;
    rest->small = small;
    rest->prev = block;
    rest->next = block->next;
    if (block->next != nullptr) block->next->prev = rest;
    block->next = rest;
    block->size = size;
    pool.insert(rest);
    ++stats_.cached_blocks;
  }
  block->allocated = true;
  block->requested = bytes;
  active_.emplace(block->ptr, block);
  ++stats_.active_blocks;
  ++stats_.num_allocs;
  stats_.allocated_bytes += block->size;
  stats_.requested_bytes += bytes;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  return block->ptr;
}

void CachingAllocator::deallocate(void* ptr) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(ptr);
  EMBER_CHECK(it != active_.end(),
              "cuda caching allocator: free of {} on {}, which it did not hand out (or already freed)", ptr,
              backend_->name());
  Block* block = it->second;
  active_.erase(it);
  --stats_.active_blocks;
  ++stats_.num_frees;
  stats_.allocated_bytes -= block->size;
  stats_.requested_bytes -= block->requested;
  free_block(block);
}

void CachingAllocator::free_block(Block* block) {
  Pool& pool = block->small ? small_pool_ : large_pool_;
  block->allocated = false;
  block->requested = 0;
  // Merge into the previous block (it keeps the lower address, so segment heads stay put).
  if (Block* prev = block->prev; prev != nullptr && !prev->allocated) {
    pool.erase(prev);
    --stats_.cached_blocks;
    prev->size += block->size;
    prev->next = block->next;
    if (block->next != nullptr) block->next->prev = prev;
    delete block;
    block = prev;
  }
  if (Block* next = block->next; next != nullptr && !next->allocated) {
    pool.erase(next);
    --stats_.cached_blocks;
    block->size += next->size;
    block->next = next->next;
    if (next->next != nullptr) next->next->prev = block;
    delete next;
  }
  pool.insert(block);
  ++stats_.cached_blocks;
}

void CachingAllocator::release_cached_segments() {
  for (Pool* pool : {&small_pool_, &large_pool_}) {
    for (auto it = pool->begin(); it != pool->end();) {
      Block* block = *it;
      if (block->prev != nullptr || block->next != nullptr) {  // part of a segment still in use
        ++it;
        continue;
      }
      it = pool->erase(it);
      --stats_.cached_blocks;
      backend_->free(block->ptr);
      segments_.erase(block);
      --stats_.segments;
      ++stats_.num_segment_frees;
      stats_.reserved_bytes -= block->size;
      delete block;
    }
  }
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached_segments();
}

void CachingAllocator::throw_out_of_memory(size_t requested, size_t segment_size) {
  EMBER_FAIL(
      "cuda caching allocator: out of memory on {} allocating {} (a segment of {}); allocated {}, reserved {} "
      "after releasing the cache, peak allocated {}. Free tensors you no longer need, or use a smaller batch",
      backend_->name(), format_bytes(requested), format_bytes(segment_size), format_bytes(stats_.allocated_bytes),
      format_bytes(stats_.reserved_bytes), format_bytes(stats_.peak_allocated_bytes));
}

MemoryStats CachingAllocator::memory_stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

size_t CachingAllocator::block_size(void* ptr) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(ptr);
  EMBER_CHECK(it != active_.end(), "cuda caching allocator: block_size of {}, which is not handed out", ptr);
  return it->second->size;
}

void CachingAllocator::check_pool(const Pool& pool, bool small) const {
  for (const Block* b : pool) {
    EMBER_CHECK(!b->allocated, "allocator invariant: block {} is in a pool but handed out", fmt::ptr(b->ptr));
    EMBER_CHECK(b->small == small, "allocator invariant: block {} is in the wrong pool", fmt::ptr(b->ptr));
  }
}

void CachingAllocator::check_invariants() const {
  std::lock_guard<std::mutex> lock(mutex_);
  check_pool(small_pool_, true);
  check_pool(large_pool_, false);
  size_t reserved = 0, allocated = 0, requested = 0;
  int64_t free_blocks = 0, used_blocks = 0;
  for (const auto& [head, segment] : segments_) {
    EMBER_CHECK(head->prev == nullptr, "allocator invariant: segment head {} has a predecessor", fmt::ptr(head->ptr));
    size_t covered = 0;
    for (const Block* b = head; b != nullptr; b = b->next) {
      EMBER_CHECK(b->ptr == head->ptr + covered, "allocator invariant: gap or overlap at {}", fmt::ptr(b->ptr));
      EMBER_CHECK(b->stream == head->stream && b->small == head->small,
                  "allocator invariant: block {} differs from its segment in stream or pool", fmt::ptr(b->ptr));
      EMBER_CHECK(b->next == nullptr || b->next->prev == b, "allocator invariant: broken links at {}",
                  fmt::ptr(b->ptr));
      covered += b->size;
      if (b->allocated) {
        ++used_blocks;
        allocated += b->size;
        requested += b->requested;
        auto it = active_.find(b->ptr);
        EMBER_CHECK(it != active_.end() && it->second == b, "allocator invariant: used block {} not in the active map",
                    fmt::ptr(b->ptr));
      } else {
        ++free_blocks;
        const Pool& pool = b->small ? small_pool_ : large_pool_;
        EMBER_CHECK(pool.count(const_cast<Block*>(b)) == 1, "allocator invariant: free block {} not in its pool",
                    fmt::ptr(b->ptr));
        EMBER_CHECK(b->next == nullptr || b->next->allocated, "allocator invariant: free neighbours {} not merged",
                    fmt::ptr(b->ptr));
      }
    }
    EMBER_CHECK(covered == segment, "allocator invariant: segment {} covers {} of {} bytes", fmt::ptr(head->ptr),
                covered, segment);
    reserved += segment;
  }
  const MemoryStats& s = stats_;
  EMBER_CHECK(free_blocks == s.cached_blocks && static_cast<size_t>(free_blocks) == small_pool_.size() + large_pool_.size(),
              "allocator invariant: {} free blocks, stats say {}, pools hold {}", free_blocks, s.cached_blocks,
              small_pool_.size() + large_pool_.size());
  EMBER_CHECK(used_blocks == s.active_blocks && static_cast<size_t>(used_blocks) == active_.size(),
              "allocator invariant: {} used blocks, stats say {}", used_blocks, s.active_blocks);
  EMBER_CHECK(reserved == s.reserved_bytes && allocated == s.allocated_bytes && requested == s.requested_bytes,
              "allocator invariant: reserved/allocated/requested {}/{}/{} vs stats {}/{}/{}", reserved, allocated,
              requested, s.reserved_bytes, s.allocated_bytes, s.requested_bytes);
  EMBER_CHECK(static_cast<int64_t>(segments_.size()) == s.segments, "allocator invariant: segment count");
  EMBER_CHECK(s.peak_allocated_bytes >= s.allocated_bytes && s.peak_reserved_bytes >= s.reserved_bytes &&
                  s.reserved_bytes >= s.allocated_bytes,
              "allocator invariant: peaks below current, or allocated above reserved");
}

}  // namespace ember::cuda
