// Host emulation of the CUDA execution model (test/cuda/emulator/run.sh explains).
// Host emulation of the CUDA execution model for testing kernels without a GPU.
#pragma once
#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <barrier>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>
#include <memory>
#include <cmath>
#include <algorithm>
using std::min;
#include <cstdio>

namespace emu {
struct Dim { unsigned x = 0, y = 0, z = 0; };
inline thread_local Dim thread_idx, block_idx;
inline Dim block_dim, grid_dim;
inline std::unique_ptr<std::barrier<>> block_barrier;
inline std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
inline double shfl_buffer[1024];
inline size_t optin_limit = 232448;
inline size_t last_smem = 0;

template <class K> auto launch(K kernel, unsigned grid, int block, size_t smem, cudaStream_t) {
  return [=](auto... args) {
    if (smem > optin_limit) throw std::runtime_error("smem above limit");
    last_smem = smem;
    block_dim = {static_cast<unsigned>(block), 1, 1};
    grid_dim = {grid, 1, 1};
    for (unsigned b = 0; b < grid; ++b) {
      block_barrier = std::make_unique<std::barrier<>>(block);
      warp_barriers.clear();
      for (int w = 0; w < (block + 31) / 32; ++w) warp_barriers.push_back(std::make_unique<std::barrier<>>(32));
      std::vector<std::thread> threads;
      for (int t = 0; t < block; ++t) {
        threads.emplace_back([=] {
          thread_idx = {static_cast<unsigned>(t), 0, 0};
          block_idx = {b, 0, 0};
          kernel(args...);
        });
      }
      for (auto& th : threads) th.join();
    }
  };
}
}  // namespace emu

#define threadIdx ::emu::thread_idx
#define blockIdx ::emu::block_idx
#define blockDim ::emu::block_dim
#define gridDim ::emu::grid_dim

inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }
template <class T> T __shfl_xor_sync(unsigned, T value, int offset, int = 32) {
  static_assert(sizeof(T) <= sizeof(double));
  const int t = threadIdx.x;
  std::memcpy(&emu::shfl_buffer[t], &value, sizeof(T));
  emu::warp_barriers[t / 32]->arrive_and_wait();
  T other;
  std::memcpy(&other, &emu::shfl_buffer[t ^ offset], sizeof(T));
  emu::warp_barriers[t / 32]->arrive_and_wait();
  return other;
}

inline void __syncwarp() { emu::warp_barriers[threadIdx.x / 32]->arrive_and_wait(); }

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
  if (threadIdx.x % 32 == 0)
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

#define cudaGetDevice(p) (*(p) = 0, cudaSuccess)
#define cudaDeviceGetAttribute(p, attr, dev) (*(p) = static_cast<int>(::emu::optin_limit), cudaSuccess)
#define cudaFuncSetAttribute(...) cudaSuccess
#define cudaMemsetAsync(p, v, n, s) (std::memset(p, v, n), cudaSuccess)

namespace ember::cuda {
alignas(128) unsigned char tile_arena[1 << 20];
namespace detail {
void check_launch(const char*, const char*, int) {}
[[noreturn]] void kernel_error(const char* op, const char* what) { throw std::runtime_error(std::string(op) + ": " + what); }
[[noreturn]] void throw_cuda_error(cudaError_t, const char* call, const char*, int) { throw std::runtime_error(call); }
}  // namespace detail
}  // namespace ember::cuda

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
