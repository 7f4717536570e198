// cuda/runtime.h for a build without CUDA (-Dcuda=disabled, or no nvcc): no devices, and every
// call that would need one raises "built without CUDA". Twin of runtime_cuda.cpp.
#include "cuda/runtime.h"
#include "cuda/smoke_kernels.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {
[[noreturn]] void no_cuda(const char* op) {
  EMBER_FAIL("cuda::{}: Ember was built without CUDA (reconfigure with -Dcuda=auto on a machine with nvcc)", op);
}
}  // namespace

bool is_available() { return false; }
int device_count() { return 0; }
const char* unavailable_reason() {
  return "Ember was built without CUDA (reconfigure with -Dcuda=auto on a machine with nvcc)";
}
DeviceProperties device_properties(int) { no_cuda("device_properties"); }
int current_device() { no_cuda("current_device"); }
void set_device(int) { no_cuda("set_device"); }
Stream current_stream(int) { no_cuda("current_stream"); }
void set_current_stream(Stream) { no_cuda("set_current_stream"); }
Stream create_stream(int) { no_cuda("create_stream"); }
void destroy_stream(Stream) { no_cuda("destroy_stream"); }
void synchronize(Stream) { no_cuda("synchronize"); }
void synchronize_device(int) { no_cuda("synchronize_device"); }
void copy_to_host(void*, const void*, size_t, Stream) { no_cuda("copy_to_host"); }
void copy_to_device(void*, const void*, size_t, Stream) { no_cuda("copy_to_device"); }
CachingAllocator& device_allocator(int) { no_cuda("device_allocator"); }
DeviceGuard::DeviceGuard(int) { no_cuda("DeviceGuard"); }
DeviceGuard::~DeviceGuard() = default;
void fill_f32_async(float*, int64_t, float, Stream, int) { no_cuda("fill_f32_async"); }

}  // namespace ember::cuda
