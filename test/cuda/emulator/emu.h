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

#define cudaGetDevice(p) (*(p) = 0, cudaSuccess)
#define cudaDeviceGetAttribute(p, attr, dev) (*(p) = static_cast<int>(::emu::optin_limit), cudaSuccess)
#define cudaFuncSetAttribute(...) cudaSuccess
#define cudaMemsetAsync(p, v, n, s) (std::memset(p, v, n), cudaSuccess)

namespace ember::cuda {
alignas(16) unsigned char tile_arena[1 << 18];
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
