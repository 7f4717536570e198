// The parts of the CUDA runtime layer (cuda/runtime.h) that need no CUDA: the sync_debug switch,
// property formatting, and the memory_stats/empty_cache shortcuts. Twins: runtime_cuda.cpp (the
// CUDA runtime API calls) and runtime_nocuda.cpp (their -Dcuda=disabled twins, which raise "built without CUDA").
#include "cuda/runtime.h"

#include <fmt/format.h>

#include <atomic>
#include <cctype>
#include <cstdlib>

namespace ember::cuda {

namespace {
// -1 until first read: then the environment's value, or whatever set_sync_debug said.
std::atomic<int> sync_debug_state{-1};
}  // namespace

bool parse_sync_debug(const char* value) {
  if (value == nullptr) return false;
  std::string lower;
  for (const char* c = value; *c != '\0'; ++c) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
  return lower == "1" || lower == "true" || lower == "on" || lower == "yes";
}

bool sync_debug() {
  int state = sync_debug_state.load(std::memory_order_relaxed);
  if (state < 0) {
    const int from_env = parse_sync_debug(std::getenv("EMBER_CUDA_SYNC_DEBUG")) ? 1 : 0;
    // Another thread may have called set_sync_debug meanwhile: its value wins.
    sync_debug_state.compare_exchange_strong(state, from_env);
    state = sync_debug_state.load(std::memory_order_relaxed);
  }
  return state == 1;
}

void set_sync_debug(bool on) { sync_debug_state.store(on ? 1 : 0, std::memory_order_relaxed); }

std::string DeviceProperties::str() const {
  return fmt::format("cuda:{} {}, sm_{}{}, {} SMs, {:.2f} GiB", index, name, major, minor, multiprocessor_count,
                     static_cast<double>(total_memory) / (1 << 30));
}

MemoryStats memory_stats(int device) { return device_allocator(device).memory_stats(); }

void empty_cache(int device) { device_allocator(device).empty_cache(); }

}  // namespace ember::cuda
