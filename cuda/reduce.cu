// CUDA reduction kernels (launcher declared in cuda/reduce_launch.h). Twins: ops/cpu/reduce.cpp
// (the same reducers on the CPU, with the same identities, NaN rules and tie-breaking),
// cuda/reduce.cpp (Tensor side), ops/reduce.cpp (API, backward).
//
// One walk serves every reduction, parameterised by a small reducer struct like the CPU's:
//   identity() / step(acc, value, reduced_index) / merge(acc, other) / write(k, acc).
// Long reductions (R >= kBlockMinR) take one block per output: each thread steps over the
// reduced indices r = tid, tid + blockDim, ..., then the block's accumulators are merged in a
// fixed shared-memory tree. Short ones take one thread per output, stepping r = 0..R-1 in order.
// Both are deterministic (no atomics, the same merge order on every run). Floating sums, norms,
// variances and log-sum-exp accumulate in double for every floating dtype, as the CPU does
// (a float32 sum of 1e6 ones is exact); integer and bool sums accumulate in int64.
#include "cuda/kernel_util.cuh"
#include "cuda/reduce_launch.h"

namespace ember::cuda {

namespace {

constexpr int kBlock = 256;               // threads per block, both walks
constexpr int64_t kBlockMinR = 128;       // shortest reduction that gets a block per output
constexpr int64_t kThreadWalkMaxK = 4096;  // above this many outputs, strided columns use threads

template <class T> inline constexpr bool is_float_v = std::is_floating_point_v<T> || is_half_v<T>;

__device__ __forceinline__ double infinity() { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ double quiet_nan() { return __longlong_as_double(0x7ff8000000000000LL); }

template <class T> __device__ __forceinline__ bool is_nan_value(T v) {
  if constexpr (is_float_v<T>) {
    const acc_t<T> f = convert<acc_t<T>>(v);
    return f != f;
  } else {
    return false;
  }
}

// ---------------------------------------------------------------- reducers
// sum / prod: floats in double, integers and bool in int64 (the output is int64 then).
template <class T, bool kProduct> struct SumReducer {
  using Acc = std::conditional_t<is_float_v<T>, double, int64_t>;
  using Out = std::conditional_t<is_float_v<T>, T, int64_t>;
  Out* out;
  __device__ Acc identity() const { return Acc(kProduct ? 1 : 0); }
  __device__ void merge(Acc& a, const Acc& b) const {
    if constexpr (kProduct) a *= b;
    else a += b;
  }
  __device__ void step(Acc& a, T v, int64_t) const { merge(a, convert<Acc>(v)); }
  __device__ void write(int64_t k, const Acc& a) const { out[k] = convert<Out>(a); }
};

// Value and index of the first extreme element; a NaN is the extreme (the first NaN wins).
// Serves max/min (values and indices), argmax/argmin (indices only) and amax/amin (values only).
template <class T, bool kIsMax> struct ExtremeReducer {
  struct Acc {
    T value;
    int64_t index;  // < 0: no element seen yet
  };
  T* values;         // may be null
  int64_t* indices;  // may be null
  __device__ static bool beats(T v, T current) {
    if (is_nan_value(current)) return false;
    if (is_nan_value(v)) return true;
    const acc_t<T> a = convert<acc_t<T>>(v), b = convert<acc_t<T>>(current);
    return kIsMax ? a > b : a < b;
  }
  __device__ Acc identity() const { return {T{}, -1}; }
  __device__ void step(Acc& a, T v, int64_t i) const {
    if (a.index < 0 || beats(v, a.value)) a = Acc{v, i};
  }
  __device__ void merge(Acc& a, const Acc& b) const {
    if (b.index < 0) return;
    if (a.index < 0 || beats(b.value, a.value) || (!beats(a.value, b.value) && b.index < a.index)) a = b;
  }
  __device__ void write(int64_t k, const Acc& a) const {
    if (values) values[k] = a.value;
    if (indices) indices[k] = a.index;
  }
};

// Welford's running mean and squared deviations, merged with Chan's formula (as on the CPU).
template <class T> struct WelfordReducer {
  struct Acc {
    double n, mean, m2;
  };
  T* var;
  T* mean;  // may be null
  double correction;
  __device__ Acc identity() const { return {0, 0, 0}; }
  __device__ void step(Acc& a, T value, int64_t) const {
    const double v = convert<double>(value);
    a.n += 1;
    const double delta = v - a.mean;
    a.mean += delta / a.n;
    a.m2 += delta * (v - a.mean);
  }
  __device__ void merge(Acc& a, const Acc& b) const {
    if (b.n == 0) return;
    if (a.n == 0) {
      a = b;
      return;
    }
    const double n = a.n + b.n;
    const double delta = b.mean - a.mean;
    a.mean += delta * b.n / n;
    a.m2 += b.m2 + delta * delta * a.n * b.n / n;
    a.n = n;
  }
  __device__ void write(int64_t k, const Acc& a) const {
    // PyTorch semantics: N - correction <= 0 divides by zero (inf, or NaN when m2 == 0).
    var[k] = convert<T>(a.m2 / fmax(0.0, a.n - correction));
    if (mean) mean[k] = convert<T>(a.n > 0 ? a.mean : quiet_nan());
  }
};

// Online log-sum-exp: running maximum and sum of exp(x - max), rescaled when the maximum grows.
template <class T> struct LogSumExpReducer {
  struct Acc {
    double max, sum;
  };
  T* out;
  __device__ static double rescaled(double s, double m, double new_max) {
    return m == new_max ? s : s * exp(m - new_max);
  }
  __device__ Acc identity() const { return {-infinity(), 0}; }
  __device__ void step(Acc& a, T value, int64_t) const {
    const double v = convert<double>(value);
    if (v == -infinity()) return;  // contributes exp(-inf) = 0
    if (v > a.max) {
      a.sum = rescaled(a.sum, a.max, v) + 1;
      a.max = v;
    } else {
      a.sum += rescaled(1, v, a.max);  // NaN (v or max) propagates through exp
    }
  }
  __device__ void merge(Acc& a, const Acc& b) const {
    if (b.sum == 0) return;
    if (a.sum == 0) {
      a = b;
      return;
    }
    const double m = (a.max != a.max || b.max != b.max) ? quiet_nan() : fmax(a.max, b.max);
    a.sum = rescaled(a.sum, a.max, m) + rescaled(b.sum, b.max, m);
    a.max = m;
  }
  __device__ void write(int64_t k, const Acc& a) const {
    out[k] = convert<T>(a.sum == 0 ? -infinity() : a.max + log(a.sum));
  }
};

// L1 (sum |x|), L2 (sqrt of sum x^2) and L-infinity (NaN-propagating max |x|, identity 0).
template <class T, ReduceKind kKind> struct NormReducer {
  using Acc = double;
  T* out;
  __device__ Acc identity() const { return 0.0; }
  __device__ void merge(Acc& a, const Acc& b) const {
    if constexpr (kKind == ReduceKind::norm_linf) a = (b > a || b != b) ? b : a;
    else a += b;
  }
  __device__ void step(Acc& a, T value, int64_t) const {
    const double v = convert<double>(value);
    merge(a, kKind == ReduceKind::norm_l2 ? v * v : fabs(v));
  }
  __device__ void write(int64_t k, const Acc& a) const {
    out[k] = convert<T>(kKind == ReduceKind::norm_l2 ? sqrt(a) : a);
  }
};

template <class T, bool kIsAll> struct AnyAllReducer {
  using Acc = bool;
  bool* out;
  __device__ Acc identity() const { return kIsAll; }
  __device__ void merge(Acc& a, const Acc& b) const { a = kIsAll ? (a && b) : (a || b); }
  __device__ void step(Acc& a, T v, int64_t) const { merge(a, convert<bool>(v)); }
  __device__ void write(int64_t k, const Acc& a) const { out[k] = a; }
};

template <class T> struct CountNonzeroReducer {
  using Acc = int64_t;
  int64_t* out;
  __device__ Acc identity() const { return 0; }
  __device__ void merge(Acc& a, const Acc& b) const { a += b; }
  __device__ void step(Acc& a, T v, int64_t) const { a += convert<bool>(v) ? 1 : 0; }
  __device__ void write(int64_t k, const Acc& a) const { out[k] = a; }
};

// ---------------------------------------------------------------- the two walks
__device__ __forceinline__ int64_t reduced_offset(const StridedLayout& reduced, int64_t r) {
  return reduced.ndim == 1 ? r * reduced.strides[0] : reduced.offset_of(r);
}

// One thread per output; reduced indices stepped in order.
template <class T, class Red>
__global__ void reduce_thread_per_output(const T* input, StridedLayout kept, StridedLayout reduced, Red red) {
  for (int64_t k = global_thread_index(); k < kept.numel; k += global_thread_count()) {
    const T* base = input + kept.offset_of(k);
    typename Red::Acc acc = red.identity();
    for (int64_t r = 0; r < reduced.numel; ++r) red.step(acc, base[reduced_offset(reduced, r)], r);
    red.write(k, acc);
  }
}

// One block (kBlock threads) per output; per-thread accumulators merged by a shared-memory tree.
template <class T, class Red>
__global__ void __launch_bounds__(kBlock) reduce_block_per_output(const T* input, StridedLayout kept,
                                                                  StridedLayout reduced, Red red) {
  using Acc = typename Red::Acc;
  __shared__ __align__(16) unsigned char raw[kBlock * sizeof(Acc)];
  Acc* scratch = reinterpret_cast<Acc*>(raw);
  const int tid = static_cast<int>(threadIdx.x);
  for (int64_t k = blockIdx.x; k < kept.numel; k += gridDim.x) {
    const T* base = input + kept.offset_of(k);
    Acc acc = red.identity();
    for (int64_t r = tid; r < reduced.numel; r += kBlock) red.step(acc, base[reduced_offset(reduced, r)], r);
    scratch[tid] = acc;
    __syncthreads();
    for (int width = kBlock / 2; width > 0; width /= 2) {
      if (tid < width) red.merge(scratch[tid], scratch[tid + width]);
      __syncthreads();
    }
    if (tid == 0) red.write(k, scratch[0]);
    __syncthreads();  // scratch is reused by the next output
  }
}

template <class T, class Red> void run(const ReduceArgs& a, const Red& red, cudaStream_t stream) {
  const int64_t K = a.kept.numel, R = a.reduced.numel;
  const T* input = static_cast<const T*>(a.input);
  const bool unit_stride = a.reduced.strides[a.reduced.ndim - 1] == 1;
  if (R >= kBlockMinR && (unit_stride || K <= kThreadWalkMaxK)) {
    const unsigned blocks = static_cast<unsigned>(K < 65536 ? K : 65536);
    reduce_block_per_output<T><<<blocks, kBlock, 0, stream>>>(input, a.kept, a.reduced, red);
  } else {
    reduce_thread_per_output<T><<<grid_for(K, kBlock), kBlock, 0, stream>>>(input, a.kept, a.reduced, red);
  }
}

const char* name_of(ReduceKind kind) {
  switch (kind) {
    case ReduceKind::sum: return "sum";
    case ReduceKind::prod: return "prod";
    case ReduceKind::max: return "max";
    case ReduceKind::min: return "min";
    case ReduceKind::var_mean: return "var";
    case ReduceKind::logsumexp: return "logsumexp";
    case ReduceKind::norm_l1:
    case ReduceKind::norm_l2:
    case ReduceKind::norm_linf: return "norm";
    case ReduceKind::any: return "any";
    case ReduceKind::all: return "all";
    case ReduceKind::count_nonzero: return "count_nonzero";
  }
  return "reduce";
}

}  // namespace

void reduce(ReduceKind kind, const ReduceArgs& a, Stream stream) {
  if (a.kept.numel == 0) return;
  const char* op = name_of(kind);
  const cudaStream_t s = raw_stream(stream);
  switch (kind) {
    case ReduceKind::sum:
    case ReduceKind::prod:
      dispatch_scalar_type(a.input_type, op, [&]<class T>() {
        using Out = typename SumReducer<T, false>::Out;
        if (kind == ReduceKind::sum) run<T>(a, SumReducer<T, false>{static_cast<Out*>(a.out)}, s);
        else run<T>(a, SumReducer<T, true>{static_cast<Out*>(a.out)}, s);
      });
      break;
    case ReduceKind::max:
    case ReduceKind::min:
      dispatch_scalar_type(a.input_type, op, [&]<class T>() {
        T* values = static_cast<T*>(a.out);
        int64_t* indices = static_cast<int64_t*>(a.out2);
        if (kind == ReduceKind::max) run<T>(a, ExtremeReducer<T, true>{values, indices}, s);
        else run<T>(a, ExtremeReducer<T, false>{values, indices}, s);
      });
      break;
    case ReduceKind::var_mean:
      dispatch_floating_type(a.input_type, op, [&]<class T>() {
        run<T>(a, WelfordReducer<T>{static_cast<T*>(a.out), static_cast<T*>(a.out2), a.correction}, s);
      });
      break;
    case ReduceKind::logsumexp:
      dispatch_floating_type(a.input_type, op, [&]<class T>() { run<T>(a, LogSumExpReducer<T>{static_cast<T*>(a.out)}, s); });
      break;
    case ReduceKind::norm_l1:
      dispatch_floating_type(a.input_type, op, [&]<class T>() {
        run<T>(a, NormReducer<T, ReduceKind::norm_l1>{static_cast<T*>(a.out)}, s);
      });
      break;
    case ReduceKind::norm_l2:
      dispatch_floating_type(a.input_type, op, [&]<class T>() {
        run<T>(a, NormReducer<T, ReduceKind::norm_l2>{static_cast<T*>(a.out)}, s);
      });
      break;
    case ReduceKind::norm_linf:
      dispatch_floating_type(a.input_type, op, [&]<class T>() {
        run<T>(a, NormReducer<T, ReduceKind::norm_linf>{static_cast<T*>(a.out)}, s);
      });
      break;
    case ReduceKind::any:
    case ReduceKind::all:
      dispatch_scalar_type(a.input_type, op, [&]<class T>() {
        bool* out = static_cast<bool*>(a.out);
        if (kind == ReduceKind::all) run<T>(a, AnyAllReducer<T, true>{out}, s);
        else run<T>(a, AnyAllReducer<T, false>{out}, s);
      });
      break;
    case ReduceKind::count_nonzero:
      dispatch_scalar_type(a.input_type, op, [&]<class T>() {
        run<T>(a, CountNonzeroReducer<T>{static_cast<int64_t*>(a.out)}, s);
      });
      break;
  }
  EMBER_CUDA_LAUNCH_CHECK(op);
}

}  // namespace ember::cuda
