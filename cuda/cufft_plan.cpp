// cuda/cufft_plan.h: the cuFFT plan cache (Note [cuFFT plans]) and cuFFT's checked-call error.
// Plain C++ against <cufft.h> (host API only, no nvcc).
#include "cuda/cufft_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "cuda/check.h"
#include "engine/error.h"

namespace ember::cuda {

namespace detail {

namespace {
const char* cufft_error_name(cufftResult result) {
  switch (result) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA: return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE: return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE: return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED: return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED: return "CUFFT_NOT_SUPPORTED";
    default: return "unknown cufftResult";
  }
}
}  // namespace

void throw_cufft_error(cufftResult result, const char* call, const char* file, int line) {
  ::ember::detail::throw_error(file, line,
                               fmt::format("cufft: {} failed: {} ({})", call, cufft_error_name(result),
                                           static_cast<int>(result)));
}

}  // namespace detail

namespace {

constexpr size_t kMaxPlans = 64;

struct PlanKey {
  int64_t n = 0, batch = 0;
  ScalarType type = ScalarType::f32;
  FftDirection direction = FftDirection::forward;
  int device = 0;
  auto tie() const { return std::tie(n, batch, type, direction, device); }
  bool operator<(const PlanKey& other) const { return tie() < other.tie(); }
};

cufftType cufft_type_of(ScalarType type, FftDirection direction) {
  const bool forward = direction == FftDirection::forward;
  if (type == ScalarType::f32) return forward ? CUFFT_R2C : CUFFT_C2R;
  if (type == ScalarType::f64) return forward ? CUFFT_D2Z : CUFFT_Z2D;
  detail::kernel_error("fft", "cuFFT transforms take float32 or float64");
}

class PlanCache {
 public:
  ~PlanCache() = default;  // plans die with the process (destroying them at exit may outlive the driver)

  // Queues one batched transform (the caller holds no lock).
  void run(const PlanKey& key, void* in, void* out, Stream stream) {
    std::lock_guard<std::mutex> lock(mutex_);
    const cufftHandle plan = plan_for(key);
    EMBER_CUFFT_CHECK(cufftSetStream(plan, static_cast<cudaStream_t>(stream.handle)));
    const bool forward = key.direction == FftDirection::forward;
    if (key.type == ScalarType::f32) {
      if (forward) {
        EMBER_CUFFT_CHECK(cufftExecR2C(plan, static_cast<cufftReal*>(in), static_cast<cufftComplex*>(out)));
      } else {
        EMBER_CUFFT_CHECK(cufftExecC2R(plan, static_cast<cufftComplex*>(in), static_cast<cufftReal*>(out)));
      }
    } else {
      if (forward) {
        EMBER_CUFFT_CHECK(
            cufftExecD2Z(plan, static_cast<cufftDoubleReal*>(in), static_cast<cufftDoubleComplex*>(out)));
      } else {
        EMBER_CUFFT_CHECK(
            cufftExecZ2D(plan, static_cast<cufftDoubleComplex*>(in), static_cast<cufftDoubleReal*>(out)));
      }
    }
  }

  int64_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int64_t>(plans_.size());
  }

 private:
  cufftHandle plan_for(const PlanKey& key) {
    if (auto it = plans_.find(key); it != plans_.end()) return it->second;
    if (plans_.size() >= kMaxPlans) clear();
    DeviceGuard guard(key.device);  // a plan belongs to the device current when it is made
    int n = static_cast<int>(key.n);
    cufftHandle plan = 0;
    // Basic layout (null embeds): rows of n reals and n/2 + 1 complex values, back to back.
    EMBER_CUFFT_CHECK(cufftPlanMany(&plan, 1, &n, nullptr, 1, 0, nullptr, 1, 0, cufft_type_of(key.type, key.direction),
                                    static_cast<int>(key.batch)));
    plans_.emplace(key, plan);
    return plan;
  }

  // Note [cuFFT plans]: wait for every device that holds a plan, then destroy them all.
  void clear() {
    std::set<int> devices;
    for (const auto& [key, plan] : plans_) devices.insert(key.device);
    for (int device : devices) synchronize_device(device);
    for (const auto& [key, plan] : plans_) {
      DeviceGuard guard(key.device);
      EMBER_CUFFT_CHECK(cufftDestroy(plan));
    }
    plans_.clear();
  }

  std::mutex mutex_;
  std::map<PlanKey, cufftHandle> plans_;
};

PlanCache& plan_cache() {
  static PlanCache* cache = new PlanCache();  // never destroyed: see ~PlanCache
  return *cache;
}

size_t element_size(ScalarType type) { return type == ScalarType::f64 ? 8 : 4; }

}  // namespace

void run_real_fft(FftDirection direction, ScalarType type, int64_t n, int64_t rows, void* in, void* out,
                  Stream stream) {
  EMBER_CHECK(n >= 1 && n <= int64_t{1} << 30, "fft: transform size {} is out of range [1, 2^30]", n);
  if (rows == 0) return;
  const size_t width = element_size(type);
  if (n == 1) {
    // The size-1 transform is the identity on the real part: two strided copies, no plan (cuFFT's
    // documentation does not promise size-1 plans).
    const auto raw = static_cast<cudaStream_t>(stream.handle);
    const auto height = static_cast<size_t>(rows);
    if (direction == FftDirection::forward) {
      EMBER_CUDA_CHECK(cudaMemsetAsync(out, 0, 2 * width * height, raw));
      EMBER_CUDA_CHECK(cudaMemcpy2DAsync(out, 2 * width, in, width, width, height, cudaMemcpyDeviceToDevice, raw));
    } else {
      EMBER_CUDA_CHECK(cudaMemcpy2DAsync(out, width, in, 2 * width, width, height, cudaMemcpyDeviceToDevice, raw));
    }
    return;
  }
  const int64_t bins = n / 2 + 1;
  // One plan addresses at most INT_MAX elements (cuFFT's int sizes): larger row counts run in batches.
  const int64_t max_batch = std::max<int64_t>(1, INT_MAX / (2 * bins));
  const int64_t in_row = direction == FftDirection::forward ? n : 2 * bins;  // elements per row
  const int64_t out_row = direction == FftDirection::forward ? 2 * bins : n;
  for (int64_t r0 = 0; r0 < rows; r0 += max_batch) {
    const int64_t batch = std::min(max_batch, rows - r0);
    PlanKey key{n, batch, type, direction, stream.device};
    plan_cache().run(key, static_cast<char*>(in) + static_cast<size_t>(r0 * in_row) * width,
                     static_cast<char*>(out) + static_cast<size_t>(r0 * out_row) * width, stream);
  }
}

int64_t cached_fft_plan_count() { return plan_cache().size(); }

}  // namespace ember::cuda
