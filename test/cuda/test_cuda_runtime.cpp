// The CUDA runtime layer (cuda/runtime.h, cuda/check.h). Cases that run everywhere: availability
// agrees with the build, sync_debug parsing, "built without CUDA" errors, and (in CUDA builds) a
// failing checked call's message. Cases that need a GPU are registered only when one is present:
// without one, each prints "SKIPPED (no CUDA device): <name>" and is neither run nor counted.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "cuda/runtime.h"
#include "cuda/smoke_kernels.h"
#include "ember_config.h"
#include "engine/error.h"
#if EMBER_WITH_CUDA
#include "cuda/check.h"
#endif

using namespace ember;

TEST_CASE("cuda runtime: availability agrees with the build and never throws", "[cuda]") {
  const int count = cuda::device_count();
  CHECK(count >= 0);
  CHECK(cuda::is_available() == (count > 0));
  CHECK(cuda::device_count() == count);  // asked again: same answer, no error
#if !EMBER_WITH_CUDA
  CHECK(count == 0);
#endif
  if (count == 0) {
    CHECK_THROWS_AS(cuda::device_properties(0), Error);
    CHECK_THROWS_AS(cuda::current_stream(), Error);
    CHECK_THROWS_AS(cuda::device_allocator(), Error);
  }
}

TEST_CASE("cuda runtime: without CUDA every device call says so", "[cuda]") {
#if EMBER_WITH_CUDA
  if (cuda::device_count() == 0) {
    CHECK_THROWS_WITH(cuda::device_properties(0), Catch::Contains("no CUDA device is available"));
    CHECK_THROWS_WITH(cuda::memory_stats(), Catch::Contains("no CUDA device is available"));
  }
#else
  CHECK_THROWS_WITH(cuda::device_properties(0), Catch::Contains("built without CUDA"));
  CHECK_THROWS_WITH(cuda::create_stream(), Catch::Contains("cuda::create_stream"));
  CHECK_THROWS_WITH(cuda::empty_cache(), Catch::Contains("built without CUDA"));
  CHECK_THROWS_WITH(cuda::fill_f32_async(nullptr, 1, 0.0f, cuda::Stream{}), Catch::Contains("built without CUDA"));
#endif
}

TEST_CASE("cuda runtime: sync_debug comes from EMBER_CUDA_SYNC_DEBUG and can be set", "[cuda]") {
  CHECK(cuda::parse_sync_debug("1"));
  CHECK(cuda::parse_sync_debug("TRUE"));
  CHECK(cuda::parse_sync_debug("on"));
  CHECK_FALSE(cuda::parse_sync_debug(nullptr));
  CHECK_FALSE(cuda::parse_sync_debug("0"));
  CHECK_FALSE(cuda::parse_sync_debug(""));
  const bool before = cuda::sync_debug();
  cuda::set_sync_debug(!before);
  CHECK(cuda::sync_debug() == !before);
  cuda::set_sync_debug(before);
  CHECK(cuda::sync_debug() == before);
}

#if EMBER_WITH_CUDA
TEST_CASE("cuda runtime: a failing checked call names the call, the error and file:line", "[cuda]") {
  // Fails on every machine: no driver here, an invalid ordinal on a GPU machine.
  std::string message;
  int line = 0;
  try {
    line = __LINE__ + 1;
    EMBER_CUDA_CHECK(cudaSetDevice(1 << 20));
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("cuda: cudaSetDevice(1 << 20) failed: ") != std::string::npos);
  CHECK(message.find("(cudaError") != std::string::npos);  // the error's name, e.g. cudaErrorInvalidDevice
  CHECK(message.find("test_cuda_runtime.cpp:" + std::to_string(line) + "]") != std::string::npos);
}
#endif

// ---- cases that need a GPU ----

namespace {

void device_properties_case() {
  const cuda::DeviceProperties p = cuda::device_properties(0);
  std::printf("cuda: %s\n", p.str().c_str());
  CHECK_FALSE(p.name.empty());
  CHECK(p.total_memory > (size_t{1} << 30));
  CHECK(p.multiprocessor_count > 0);
  CHECK(p.major >= 7);
  CHECK(p.warp_size == 32);
  CHECK(p.max_threads_per_block >= 1024);
  CHECK_THROWS_WITH(cuda::device_properties(cuda::device_count()), Catch::Contains("only"));
}

void streams_case() {
  cuda::set_device(0);
  CHECK(cuda::current_device() == 0);
  const cuda::Stream def = cuda::current_stream(0);
  CHECK(def.handle == nullptr);
  const cuda::Stream user = cuda::create_stream(0);
  CHECK(user.handle != nullptr);
  cuda::set_current_stream(user);
  CHECK(cuda::current_stream() == user);
  cuda::synchronize(user);
  cuda::set_current_stream(def);
  CHECK(cuda::current_stream(0) == def);
  cuda::destroy_stream(user);
  CHECK_THROWS_WITH(cuda::destroy_stream(def), Catch::Contains("default stream"));
}

// Allocator memory written by a kernel and read back: the real backend end to end.
void allocator_and_kernel_case() {
  const cuda::Stream stream = cuda::create_stream(0);
  cuda::CachingAllocator& allocator = cuda::device_allocator(0);
  const cuda::MemoryStats before = allocator.memory_stats();
  const int64_t n = 300000;
  auto* data = static_cast<float*>(allocator.allocate(n * sizeof(float), stream.id()));
  cuda::fill_f32_async(data, n, 2.5f, stream);
  std::vector<float> host(n, 0.0f);
  cuda::copy_to_host(host.data(), data, n * sizeof(float), stream);
  int64_t wrong = 0;
  for (float v : host) wrong += v != 2.5f;
  CHECK(wrong == 0);
  CHECK(allocator.memory_stats().allocated_bytes == before.allocated_bytes + cuda::round_block_size(n * sizeof(float)));
  allocator.deallocate(data);
  // Reused on the same stream without a new cudaMalloc.
  void* again = allocator.allocate(n * sizeof(float), stream.id());
  CHECK(again == data);
  allocator.deallocate(again);
  allocator.check_invariants();
  cuda::synchronize(stream);
  cuda::destroy_stream(stream);
  cuda::empty_cache(0);
  CHECK(cuda::memory_stats(0).reserved_bytes <= before.reserved_bytes);
}

void launch_check_case() {
  const cuda::Stream stream = cuda::current_stream(0);
  auto* data = static_cast<float*>(cuda::device_allocator(0).allocate(1024 * sizeof(float)));
  // 4096 threads per block is over every GPU's limit of 1024: cudaErrorInvalidConfiguration.
  CHECK_THROWS_WITH(cuda::fill_f32_async(data, 1024, 1.0f, stream, 4096),
                    Catch::Contains("launching fill_f32 failed") && Catch::Contains("smoke_kernels.cu:"));
  // The error was not sticky: the next launch works, under sync_debug too.
  const bool before = cuda::sync_debug();
  cuda::set_sync_debug(true);
  CHECK_NOTHROW(cuda::fill_f32_async(data, 1024, 1.0f, stream));
  cuda::set_sync_debug(before);
  cuda::device_allocator(0).deallocate(data);
}

void out_of_memory_case() {
  cuda::CachingAllocator& allocator = cuda::device_allocator(0);
  const size_t total = cuda::device_properties(0).total_memory;
  CHECK_THROWS_WITH(allocator.allocate(total + (size_t{1} << 30)),
                    Catch::Contains("out of memory on cuda:0") && Catch::Contains("reserved"));
  void* p = allocator.allocate(1 << 20);  // still usable
  CHECK(p != nullptr);
  allocator.deallocate(p);
  CHECK(allocator.memory_stats().num_ooms >= 1);
}

struct DeviceCase {
  const char* name;
  void (*run)();
};
const DeviceCase device_cases[] = {
    {"cuda runtime: device properties", device_properties_case},
    {"cuda runtime: current device, default and user streams", streams_case},
    {"cuda runtime: caching allocator over cudaMalloc, written by a kernel", allocator_and_kernel_case},
    {"cuda runtime: launch check reports a bad launch; sync_debug", launch_check_case},
    {"cuda runtime: real out-of-memory is reported and recovered from", out_of_memory_case},
};

// Registered at static initialisation, and only with a device, so a machine without one neither
// runs nor counts them as passed.
[[maybe_unused]] const bool device_cases_registered = [] {
  if (cuda::device_count() == 0) {
    const char* why = EMBER_WITH_CUDA ? "no CUDA device" : "built without CUDA";
    for (const DeviceCase& c : device_cases) std::printf("SKIPPED (%s): %s\n", why, c.name);
    return false;
  }
  for (const DeviceCase& c : device_cases) {
    Catch::AutoReg(Catch::makeTestInvoker(c.run), CATCH_INTERNAL_LINEINFO, Catch::StringRef(),
                   Catch::NameAndTags{c.name, "[cuda][device]"});
  }
  return true;
}();

}  // namespace
