// The EMA kernel's Vandermonde sums on the GPU (launchers in cuda/damped_ema_launch.h). CPU twin:
// vandermonde_loops in ops/damped_ema.cpp, which walks j with repeated multiplication in double;
// here every (d, j) is independent, so q^j comes from pow in double (error ~1 ulp instead of
// ~j ulps: the two agree to ~j·1e-16 relative, far inside the tests' float64 tolerance).
//   forward:  one thread per (d, j), a loop over n;
//   backward: one block per (d, n), its 256 threads stride over j and block_sum the two float64
//             sums (fixed order for a fixed L: the same bits on every run).
#include "cuda/damped_ema_launch.h"
#include "cuda/kernel_util.cuh"

namespace ember::cuda {

namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void forward_kernel(int64_t D, int64_t N, int64_t L, const T* weight, const T* decay, T* out) {
  const int64_t total = D * L;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t d = i / L, j = i % L;
    double acc = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      acc += static_cast<double>(weight[d * N + n]) * pow(static_cast<double>(decay[d * N + n]), static_cast<double>(j));
    }
    out[i] = static_cast<T>(acc);
  }
}

template <class T>
__global__ void backward_kernel(int64_t D, int64_t N, int64_t L, const T* weight, const T* decay, const T* grad,
                                T* grad_weight, T* grad_decay) {
  __shared__ double scratch[32];
  for (int64_t pair = blockIdx.x; pair < D * N; pair += gridDim.x) {
    const int64_t d = pair / N;
    const double q = static_cast<double>(decay[pair]);
    double sum_w = 0.0, sum_q = 0.0;
    for (int64_t j = threadIdx.x; j < L; j += blockDim.x) {
      const double g = static_cast<double>(grad[d * L + j]);
      sum_w += g * pow(q, static_cast<double>(j));
      if (j > 0) sum_q += g * static_cast<double>(j) * pow(q, static_cast<double>(j - 1));
    }
    sum_w = block_sum(sum_w, scratch);
    sum_q = block_sum(sum_q, scratch);
    if (threadIdx.x == 0) {
      grad_weight[pair] = static_cast<T>(sum_w);
      grad_decay[pair] = static_cast<T>(static_cast<double>(weight[pair]) * sum_q);
    }
    __syncthreads();  // scratch is reused by the next pair
  }
}

template <class F> void dispatch_real(ScalarType type, const char* op, F&& f) {
  if (type == ScalarType::f32) return f.template operator()<float>();
  if (type == ScalarType::f64) return f.template operator()<double>();
  detail::kernel_error(op, "expected float32 or float64");
}

}  // namespace

void ema_vandermonde_forward(ScalarType type, int64_t D, int64_t N, int64_t L, const void* weight, const void* decay,
                             void* out, Stream stream) {
  if (D * L == 0) return;
  dispatch_real(type, "damped_ema_kernel", [&]<class T>() {
    forward_kernel<T><<<grid_for(D * L), kThreads, 0, raw_stream(stream)>>>(
        D, N, L, static_cast<const T*>(weight), static_cast<const T*>(decay), static_cast<T*>(out));
  });
  EMBER_CUDA_LAUNCH_CHECK("damped_ema_kernel");
}

void ema_vandermonde_backward(ScalarType type, int64_t D, int64_t N, int64_t L, const void* weight, const void* decay,
                              const void* grad, void* grad_weight, void* grad_decay, Stream stream) {
  if (D * N == 0) return;
  const int64_t pairs = D * N;
  const unsigned blocks = static_cast<unsigned>(pairs < (int64_t{1} << 20) ? pairs : (int64_t{1} << 20));
  dispatch_real(type, "damped_ema_kernel backward", [&]<class T>() {
    backward_kernel<T><<<blocks, kThreads, 0, raw_stream(stream)>>>(
        D, N, L, static_cast<const T*>(weight), static_cast<const T*>(decay), static_cast<const T*>(grad),
        static_cast<T*>(grad_weight), static_cast<T*>(grad_decay));
  });
  EMBER_CUDA_LAUNCH_CHECK("damped_ema_kernel backward");
}

}  // namespace ember::cuda
