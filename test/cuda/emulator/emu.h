// Host emulation of the CUDA execution model for testing kernels without a GPU (run.sh explains).
// A launch runs its blocks one after another; each block's threads are std::threads started
// together, __syncthreads is a std::barrier over the block, warp collectives (shuffles, wmma
// loads/stores, __syncwarp) a barrier over the warp's lanes. A thread that returns drops out of
// both barriers (as an exited thread does on the GPU); a shuffle that reads an exited or missing
// lane is reported as a fault (emu::faults), as are device-side exceptions. Atomics act through
// std::atomic_ref. CUDA runtime calls the kernels' launchers make (cudaMemcpyAsync,
// cudaMemsetAsync, ...) act synchronously on host memory.
#pragma once
#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <functional>
#include <semaphore>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
using std::min;
using std::max;
using std::isnan;  // device code has these unqualified
using std::isinf;
using std::isfinite;

namespace emu {
struct Dim { unsigned x = 0, y = 0, z = 0; };
inline thread_local Dim thread_idx, block_idx;
inline thread_local int linear_tid = 0;  // x + y * bx + z * bx * by: the lane order of warps
inline Dim block_dim, grid_dim;
inline int block_threads = 0;
inline std::unique_ptr<std::barrier<>> block_barrier;
inline std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
inline std::unique_ptr<std::atomic<bool>[]> exited;
inline double shfl_buffer[1024];
inline size_t optin_limit = 232448;
inline size_t last_smem = 0;
inline int64_t launches = 0;
inline std::atomic<int> faults{0};
inline std::mutex fault_mutex;

// Shared memory: the registered __shared__ statics (rewrite.py) and the dynamic arena's used bytes
// are filled with 0xff before every block.
inline std::mutex shared_mutex;
inline std::vector<std::pair<void*, size_t>> shared_arrays;
inline bool register_shared(void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(shared_mutex);
  std::memset(p, 0xff, bytes);  // the first block of the first launch too
  shared_arrays.emplace_back(p, bytes);
  return true;
}
void poison_dynamic_shared(size_t bytes);  // defined after the arena

inline void fault(const std::string& what) {
  std::lock_guard<std::mutex> lock(fault_mutex);
  if (faults++ < 20) std::printf("EMU FAULT (block %u,%u,%u thread %u,%u,%u): %s\n", block_idx.x, block_idx.y, block_idx.z,
                                 thread_idx.x, thread_idx.y, thread_idx.z, what.c_str());
}

// Worker threads kept across blocks and launches (starting 256 threads per block was most of the time).
class Pool {
 public:
  ~Pool() {
    stop_ = true;
    for (auto& w : workers_) w->go.release();
    for (auto& w : workers_) w->thread.join();
  }
  // Runs task(0) ... task(n - 1) on n distinct threads at once; returns when all have returned.
  template <class F> void run(int n, const F& task) {
    while (static_cast<int>(workers_.size()) < n) {
      auto w = std::make_unique<Worker>();
      Worker* raw = w.get();
      const int id = static_cast<int>(workers_.size());
      raw->thread = std::thread([this, raw, id] {
        for (;;) {
          raw->go.acquire();
          if (stop_) return;
          (*task_)(id);
          if (remaining_.fetch_sub(1) == 1) remaining_.notify_all();
        }
      });
      workers_.push_back(std::move(w));
    }
    const std::function<void(int)> f = task;
    task_ = &f;
    remaining_ = n;
    for (int i = 0; i < n; ++i) workers_[i]->go.release();
    for (int r = remaining_.load(); r != 0; r = remaining_.load()) remaining_.wait(r);
  }

 private:
  struct Worker {
    std::binary_semaphore go{0};
    std::thread thread;
  };
  std::vector<std::unique_ptr<Worker>> workers_;
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<int> remaining_{0};
  std::atomic<bool> stop_{false};
};
inline Pool pool;

template <class K> auto launch(K kernel, dim3 grid, dim3 block, size_t smem = 0, cudaStream_t = nullptr) {
  return [=](auto... args) {
    const long threads = static_cast<long>(block.x) * block.y * block.z;
    if (threads < 1 || threads > 1024) throw std::runtime_error("launch: block of " + std::to_string(threads) + " threads");
    if (grid.x < 1 || grid.y < 1 || grid.z < 1 || grid.y > 65535 || grid.z > 65535)
      throw std::runtime_error("launch: bad grid");
    if (smem > optin_limit) throw std::runtime_error("smem above limit");
    last_smem = smem;
    ++launches;
    block_dim = {block.x, block.y, block.z};
    grid_dim = {grid.x, grid.y, grid.z};
    block_threads = static_cast<int>(threads);
    for (unsigned bz = 0; bz < grid.z; ++bz)
      for (unsigned by = 0; by < grid.y; ++by)
        for (unsigned bx = 0; bx < grid.x; ++bx) {
          block_barrier = std::make_unique<std::barrier<>>(threads);
          warp_barriers.clear();
          for (long w = 0; w * 32 < threads; ++w)
            warp_barriers.push_back(std::make_unique<std::barrier<>>(std::min<long>(32, threads - w * 32)));
          exited = std::make_unique<std::atomic<bool>[]>(threads);
          for (auto [p, bytes] : shared_arrays) std::memset(p, 0xff, bytes);
          poison_dynamic_shared(smem);
          pool.run(static_cast<int>(threads), [&](int t) {
            linear_tid = t;
            thread_idx = {static_cast<unsigned>(t % block.x), static_cast<unsigned>(t / block.x % block.y),
                          static_cast<unsigned>(t / (block.x * block.y))};
            block_idx = {bx, by, bz};
            try {
              kernel(args...);
            } catch (const std::exception& e) {
              fault(std::string("exception in device code: ") + e.what());
            }
            exited[t] = true;
            warp_barriers[t / 32]->arrive_and_drop();
            block_barrier->arrive_and_drop();
          });
        }
  };
}

template <class T> T shuffle_from(T value, int source_lane, bool in_range) {
  static_assert(sizeof(T) <= sizeof(double));
  const int t = linear_tid, warp = t / 32;
  std::memcpy(&shfl_buffer[t], &value, sizeof(T));
  warp_barriers[warp]->arrive_and_wait();
  T other = value;
  const int source = warp * 32 + source_lane;
  if (in_range) {
    if (source >= block_threads || exited[source]) fault("shuffle reads lane " + std::to_string(source_lane) + ", which has exited or does not exist");
    else std::memcpy(&other, &shfl_buffer[source], sizeof(T));
  }
  warp_barriers[warp]->arrive_and_wait();
  return other;
}
inline void check_mask(unsigned mask) {
  if (mask != 0xffffffffu) fault("warp collective with a partial mask (the emulator supports full masks only)");
}
}  // namespace emu

#define threadIdx ::emu::thread_idx
#define blockIdx ::emu::block_idx
#define blockDim ::emu::block_dim
#define gridDim ::emu::grid_dim

inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  emu::check_mask(mask);
  emu::warp_barriers[emu::linear_tid / 32]->arrive_and_wait();
}
template <class T> T __shfl_xor_sync(unsigned mask, T value, int offset, int width = 32) {
  emu::check_mask(mask);
  const int lane = emu::linear_tid % 32;
  return emu::shuffle_from(value, (lane & ~(width - 1)) | ((lane % width) ^ offset), true);
}
template <class T> T __shfl_sync(unsigned mask, T value, int src, int width = 32) {
  emu::check_mask(mask);
  const int lane = emu::linear_tid % 32;
  return emu::shuffle_from(value, (lane & ~(width - 1)) + (src % width), true);
}
template <class T> T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  emu::check_mask(mask);
  const int lane = emu::linear_tid % 32, within = lane % width;
  return emu::shuffle_from(value, lane + static_cast<int>(delta), within + static_cast<int>(delta) < width);
}
template <class T> T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  emu::check_mask(mask);
  const int lane = emu::linear_tid % 32, within = lane % width;
  return emu::shuffle_from(value, lane - static_cast<int>(delta), within >= static_cast<int>(delta));
}
template <class T> T __ldg(const T* p) { return *p; }
template <class To, class From> To emu_bit_cast(From v) {
  static_assert(sizeof(To) == sizeof(From));
  To r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
inline float __int_as_float(int v) { return emu_bit_cast<float>(v); }
inline int __float_as_int(float v) { return emu_bit_cast<int>(v); }
inline float __uint_as_float(unsigned v) { return emu_bit_cast<float>(v); }
inline unsigned __float_as_uint(float v) { return emu_bit_cast<unsigned>(v); }
inline double __longlong_as_double(long long v) { return emu_bit_cast<double>(v); }
inline long long __double_as_longlong(double v) { return emu_bit_cast<long long>(v); }

// Device code's float overloads of the math functions (CUDA declares them for device code; on the
// host an unqualified sqrt(float) would otherwise be the double one and round differently).
#define EMU_FLOAT_OVERLOAD(f) \
  inline float f(float x) { return std::f(x); }
EMU_FLOAT_OVERLOAD(sqrt)
EMU_FLOAT_OVERLOAD(exp)
EMU_FLOAT_OVERLOAD(log)
EMU_FLOAT_OVERLOAD(log1p)
EMU_FLOAT_OVERLOAD(expm1)
EMU_FLOAT_OVERLOAD(fabs)
EMU_FLOAT_OVERLOAD(tanh)
EMU_FLOAT_OVERLOAD(erf)
EMU_FLOAT_OVERLOAD(sin)
EMU_FLOAT_OVERLOAD(cos)
EMU_FLOAT_OVERLOAD(floor)
EMU_FLOAT_OVERLOAD(ceil)
#undef EMU_FLOAT_OVERLOAD
// Device-only math functions the host library lacks.
inline double erfinv(double y) {  // Newton on erf from a rough start; exact enough for tests
  if (y <= -1) return y == -1 ? -INFINITY : NAN;
  if (y >= 1) return y == 1 ? INFINITY : NAN;
  double x = 0;
  for (int i = 0; i < 60; ++i) x -= (std::erf(x) - y) / (2 / std::sqrt(M_PI) * std::exp(-x * x));
  return x;
}
inline float erfinvf(float y) { return static_cast<float>(erfinv(y)); }
inline float fmax(float a, float b) { return std::fmax(a, b); }
inline float fmin(float a, float b) { return std::fmin(a, b); }
inline float pow(float a, float b) { return std::pow(a, b); }


// Atomics (device memory is host memory here).
template <class T> T atomicAdd(T* p, T v) { return std::atomic_ref<T>(*p).fetch_add(v); }
template <class T> T atomicSub(T* p, T v) { return std::atomic_ref<T>(*p).fetch_sub(v); }
template <class T> T atomicExch(T* p, T v) { return std::atomic_ref<T>(*p).exchange(v); }
template <class T> T atomicMin(T* p, T v) {
  std::atomic_ref<T> a(*p);
  T old = a.load();
  while (v < old && !a.compare_exchange_weak(old, v)) {}
  return old;
}
template <class T> T atomicMax(T* p, T v) {
  std::atomic_ref<T> a(*p);
  T old = a.load();
  while (v > old && !a.compare_exchange_weak(old, v)) {}
  return old;
}
template <class T> T atomicCAS(T* p, T compare, T v) {
  std::atomic_ref<T>(*p).compare_exchange_strong(compare, v);
  return compare;
}

// wmma: every lane holds the whole 16 x 16 matrix; loads and stores are warp-collective (barriers
// around them), and the documented alignment rules are asserted.
namespace nvcuda::wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
template <class Use, int M, int N, int K, class T, class Layout = void> struct fragment { float v[16][16]; };
template <class F> void fill_fragment(F& f, float x) { for (auto& row : f.v) for (auto& e : row) e = x; }
inline void check_alignment(const void* p, unsigned ldm, size_t element) {
  if (reinterpret_cast<uintptr_t>(p) % 32 != 0) throw std::runtime_error("wmma: pointer not 32-byte aligned");
  if ((ldm * element) % 16 != 0) throw std::runtime_error("wmma: ldm not a multiple of 16 bytes");
}
template <class Use, class T, class Layout>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, Layout>& f, const T* p, unsigned ldm) {
  check_alignment(p, ldm, sizeof(T));
  __syncwarp();
  for (int x = 0; x < 16; ++x)
    for (int y = 0; y < 16; ++y)
      f.v[x][y] = static_cast<float>(std::is_same_v<Layout, row_major> ? p[x * ldm + y] : p[y * ldm + x]);
  __syncwarp();
}
inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float>& f, const float* p, unsigned ldm, layout_t layout) {
  check_alignment(p, ldm, sizeof(float));
  __syncwarp();
  for (int x = 0; x < 16; ++x)
    for (int y = 0; y < 16; ++y) f.v[x][y] = layout == mem_row_major ? p[x * ldm + y] : p[y * ldm + x];
  __syncwarp();
}
inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ldm, layout_t layout) {
  check_alignment(p, ldm, sizeof(float));
  __syncwarp();
  if (emu::linear_tid % 32 == 0)
    for (int x = 0; x < 16; ++x)
      for (int y = 0; y < 16; ++y) (layout == mem_row_major ? p[x * ldm + y] : p[y * ldm + x]) = f.v[x][y];
  __syncwarp();
}
template <class FA, class FB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const FA& a, const FB& b,
              const fragment<accumulator, 16, 16, 16, float>& c) {
  float result[16][16];
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      float sum = c.v[i][j];
      for (int k = 0; k < 16; ++k) sum += a.v[i][k] * b.v[k][j];
      result[i][j] = sum;
    }
  std::memcpy(d.v, result, sizeof(result));
}
}  // namespace nvcuda::wmma

// CUB's device-wide sorts, as host stand-ins (rewrite.py drops the <cub/...> includes): the same
// contract (a size query with temp == nullptr, stable order of equal keys), run with std::stable_sort.
// What they check is the code around the sort (key making, offsets, workspace layout), not CUB.
namespace cub {
struct DeviceSegmentedSort {
  template <class K, class V>
  static cudaError_t StableSortPairs(void* temp, size_t& temp_bytes, const K* keys_in, K* keys_out, const V* values_in,
                                     V* values_out, int items, int segments, const int* begin, const int* end,
                                     cudaStream_t = nullptr) {
    if (temp == nullptr) {
      temp_bytes = 16;
      return cudaSuccess;
    }
    if (items < 0 || segments < 0) return cudaErrorInvalidValue;
    for (int s = 0; s < segments; ++s) {
      std::vector<int> order;
      for (int i = begin[s]; i < end[s]; ++i) order.push_back(i);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return keys_in[a] < keys_in[b]; });
      for (size_t j = 0; j < order.size(); ++j) keys_out[begin[s] + j] = keys_in[order[j]], values_out[begin[s] + j] = values_in[order[j]];
    }
    return cudaSuccess;
  }
};
struct DeviceRadixSort {
  template <class K, class V>
  static cudaError_t SortPairs(void* temp, size_t& temp_bytes, const K* keys_in, K* keys_out, const V* values_in,
                               V* values_out, int items, int begin_bit = 0, int end_bit = sizeof(K) * 8,
                               cudaStream_t = nullptr) {
    if (temp == nullptr) {
      temp_bytes = 16;
      return cudaSuccess;
    }
    const K mask = end_bit >= static_cast<int>(sizeof(K) * 8) ? ~K(0) : ((K(1) << end_bit) - 1);
    auto bits = [&](K k) { return (k & mask) >> begin_bit; };
    std::vector<int> order(items);
    for (int i = 0; i < items; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return bits(keys_in[a]) < bits(keys_in[b]); });
    for (int j = 0; j < items; ++j) keys_out[j] = keys_in[order[j]], values_out[j] = values_in[order[j]];
    return cudaSuccess;
  }
};
}  // namespace cub

// The runtime calls of the launchers, synchronous on host memory.
#define cudaGetDevice(p) (*(p) = 0, cudaSuccess)
#define cudaDeviceGetAttribute(p, attr, dev) (*(p) = static_cast<int>(::emu::optin_limit), cudaSuccess)
#define cudaFuncSetAttribute(...) cudaSuccess
#define cudaMemsetAsync(p, v, n, s) (std::memset(p, v, n), cudaSuccess)
#define cudaMemcpyAsync(d, s, n, kind, stream) (std::memmove(d, s, n), cudaSuccess)
#define cudaGetLastError() cudaSuccess
#define cudaStreamSynchronize(s) cudaSuccess
#define cudaDeviceSynchronize() cudaSuccess

namespace ember::cuda {
alignas(128) unsigned char tile_arena[1 << 20];  // the extern __shared__ array of cuda/smem_tiles.cuh
namespace detail {
void check_launch(const char*, const char*, int) {}
[[noreturn]] void kernel_error(const char* op, const char* what) { throw std::runtime_error(std::string(op) + ": " + what); }
[[noreturn]] void throw_cuda_error(cudaError_t, const char* call, const char*, int) { throw std::runtime_error(call); }
}  // namespace detail
}  // namespace ember::cuda
void emu::poison_dynamic_shared(size_t bytes) {
  std::memset(ember::cuda::tile_arena, 0xff, std::min(bytes, sizeof ember::cuda::tile_arena));
}

inline double max_rel_err(const std::vector<double>& a, const std::vector<double>& b, double atol) {
  // normwise: the largest error over the largest reference magnitude
  double worst = 0, scale = atol;
  for (size_t i = 0; i < a.size(); ++i) scale = std::max(scale, std::abs(b[i]));
  for (size_t i = 0; i < a.size(); ++i) {
    const double e = std::abs(a[i] - b[i]);
    if (!(e <= worst)) worst = e;  // NaN-propagating
  }
  return worst / scale;
}

// ---- helpers shared by the emu_<family>.cpp programs
namespace emu {
inline int failures = 0, cases = 0;
// A host array of any element type (std::vector<bool> has no data()).
template <class T> struct Array {
  std::unique_ptr<T[]> p;
  size_t n = 0;
  Array() = default;
  explicit Array(size_t size, T value = T()) : p(new T[size > 0 ? size : 1]), n(size) { std::fill(p.get(), p.get() + n, value); }
  Array(const Array& o) : Array(o.n) { std::copy(o.p.get(), o.p.get() + n, p.get()); }
  Array& operator=(const Array& o) { Array c(o); std::swap(p, c.p); n = o.n; return *this; }
  T& operator[](size_t i) { return p[i]; }
  const T& operator[](size_t i) const { return p[i]; }
  T* data() { return p.get(); }
  const T* data() const { return p.get(); }
  size_t size() const { return n; }
  T* begin() { return p.get(); }
  T* end() { return p.get() + n; }
  const T* begin() const { return p.get(); }
  const T* end() const { return p.get() + n; }
};
template <class T> double to_double(T x) {
  if constexpr (std::is_same_v<T, __nv_bfloat16> || std::is_same_v<T, __half>) return static_cast<double>(static_cast<float>(x));
  else return static_cast<double>(x);
}
template <class V> std::vector<double> doubles(const V& v) {
  std::vector<double> r;
  r.reserve(v.size());
  for (const auto& e : v) r.push_back(to_double(e));
  return r;
}
template <class T> const char* type_name() {
  if constexpr (std::is_same_v<T, float>) return "f32";
  else if constexpr (std::is_same_v<T, double>) return "f64";
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return "bf16";
  else if constexpr (std::is_same_v<T, __half>) return "f16";
  else if constexpr (std::is_same_v<T, int64_t>) return "i64";
  else if constexpr (std::is_same_v<T, int32_t>) return "i32";
  else if constexpr (std::is_same_v<T, uint8_t>) return "u8";
  else return "bool";
}
// Relative tolerance of a normwise comparison for results computed in T's accumulation type.
template <class T> double tolerance() {
  if constexpr (std::is_same_v<T, double>) return 1e-12;
  else if constexpr (std::is_same_v<T, float>) return 2e-5;
  else return 2e-2;
}
// Records one case: prints it (always for failures, else when verbose) and counts it.
inline bool verbose = std::getenv("EMU_VERBOSE") != nullptr;
inline void check(bool ok, const std::string& what) {
  ++cases;
  if (!ok) ++failures;
  if (!ok || verbose) std::printf("%s %s\n", ok ? "OK  " : "FAIL", what.c_str());
}
// Normwise error of `got` against `want` (see max_rel_err) below `tol`; NaN/inf must sit in the same places.
inline bool close(const std::vector<double>& got, const std::vector<double>& want, double tol, double atol, double* err = nullptr) {
  if (got.size() != want.size()) return false;
  std::vector<double> g, w;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i]) || std::isinf(want[i])) {
      const bool same = std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i];
      if (!same) { if (err) *err = INFINITY; return false; }
      continue;
    }
    g.push_back(got[i]);
    w.push_back(want[i]);
  }
  const double e = g.empty() ? 0.0 : max_rel_err(g, w, atol);
  if (err) *err = e;
  return e <= tol;
}
inline int finish(const char* program) {
  std::printf("%s: %d case(s), %d failure(s), %d fault(s), %lld launch(es)\n", program, cases, failures, faults.load(),
              static_cast<long long>(launches));
  return failures == 0 && faults == 0 ? 0 : 1;
}
}  // namespace emu
