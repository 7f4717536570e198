// cuda/conv.h over cuDNN's convolution API (legacy descriptors, still in cuDNN 9). Per call:
// descriptors for the geometry cuDNN sees (cuda/conv_plan.h, Note [Explicit output sizes on
// cuDNN]), the algorithm from cuDNN's heuristics (cudnnGet*Algorithm_v7: no benchmarking, so the
// choice is the same on every run) cached per shape, a workspace from the caching allocator
// (cuda/workspace.h). A bias is written into the output first and the convolution accumulated
// onto it (beta = 1), so no kernel of our own is needed. No kernels here.
#include "cuda/conv.h"

#include <climits>

#include "autograd/grad_mode.h"
#include "cuda/conv_plan.h"
#include "cuda/cudnn.h"
#include "cuda/math_mode.h"
#include "cuda/tensor_args.h"
#include "cuda/workspace.h"
#include "engine/copy.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

// The largest workspace an algorithm may ask for; hungrier candidates are skipped.
constexpr size_t kMaxConvWorkspaceBytes = size_t{1} << 30;

cudnnDataType_t cudnn_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return CUDNN_DATA_FLOAT;
    case DType::f64: return CUDNN_DATA_DOUBLE;
    case DType::bf16: return CUDNN_DATA_BFLOAT16;
    case DType::f16: return CUDNN_DATA_HALF;
    default: break;
  }
  EMBER_FAIL("conv2d: no CUDA kernel for dtype {} (cuDNN runs float32, float64, bfloat16 and float16)",
             dtype_name(dtype));
}

// Note [TF32 off by default] (cuda/math_mode.h): float32 is restricted to FMA kernels unless TF32
// is allowed; 16-bit types may use the tensor cores (float32 accumulation: the compute type).
cudnnMathType_t math_type(DType dtype) {
  if (dtype == DType::f32) return allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  if (dtype == DType::f64) return CUDNN_DEFAULT_MATH;
  return CUDNN_TENSOR_OP_MATH;
}

int to_int(int64_t value) {
  EMBER_CHECK(value <= INT_MAX, "conv2d: size {} exceeds cuDNN's int range", value);
  return static_cast<int>(value);
}

template <class H, auto Create, auto Destroy>
class CudnnObject {
 public:
  CudnnObject() { EMBER_CUDNN_CHECK(Create(&handle_)); }
  ~CudnnObject() { Destroy(handle_); }
  CudnnObject(const CudnnObject&) = delete;
  CudnnObject& operator=(const CudnnObject&) = delete;
  H get() const { return handle_; }

 private:
  H handle_ = nullptr;
};
using TensorDescriptor =
    CudnnObject<cudnnTensorDescriptor_t, &cudnnCreateTensorDescriptor, &cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    CudnnObject<cudnnFilterDescriptor_t, &cudnnCreateFilterDescriptor, &cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    CudnnObject<cudnnConvolutionDescriptor_t, &cudnnCreateConvolutionDescriptor, &cudnnDestroyConvolutionDescriptor>;

ConvAxis axis_h(const cpu::Conv2dGeometry& g) {
  const cpu::PatchGeometry& p = g.patch;
  return {p.in_h, p.out_h, p.kernel_h, p.stride_h, p.pad_h, p.dilation_h};
}
ConvAxis axis_w(const cpu::Conv2dGeometry& g) {
  const cpu::PatchGeometry& p = g.patch;
  return {p.in_w, p.out_w, p.kernel_w, p.stride_w, p.pad_w, p.dilation_w};
}

// The convolution as cuDNN sees it: dense NCHW x (N, C_in, library_in_h, library_in_w),
// w (C_out, C_in / groups, kh, kw), y (N, C_out, out_h, out_w), and the algorithm-cache key.
class ConvDescriptors {
 public:
  ConvDescriptors(const cpu::Conv2dGeometry& g, const ConvAxisPlan& ph, const ConvAxisPlan& pw, DType dtype,
                  ConvDirection direction, int device)
      : dtype(dtype), math(math_type(dtype)) {
    const cpu::PatchGeometry& p = g.patch;
    const cudnnDataType_t type = cudnn_type(dtype);
    const int n = to_int(g.batch);
    EMBER_CHECK(g.batch * g.in_channels * ph.library_in * pw.library_in <= INT_MAX &&
                    g.batch * g.out_channels * p.out_h * p.out_w <= INT_MAX,
                "conv2d: tensors of 2^31 elements or more are not supported by cuDNN here (batch {}, channels {} -> {})",
                g.batch, g.in_channels, g.out_channels);
    EMBER_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x.get(), CUDNN_TENSOR_NCHW, type, n, to_int(g.in_channels),
                                                 to_int(ph.library_in), to_int(pw.library_in)));
    EMBER_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y.get(), CUDNN_TENSOR_NCHW, type, n, to_int(g.out_channels),
                                                 to_int(p.out_h), to_int(p.out_w)));
    EMBER_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w.get(), type, CUDNN_TENSOR_NCHW, to_int(g.out_channels),
                                                 to_int(p.channels), to_int(p.kernel_h), to_int(p.kernel_w)));
    EMBER_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv.get(), to_int(ph.library_pad), to_int(pw.library_pad), to_int(p.stride_h), to_int(p.stride_w),
        to_int(p.dilation_h), to_int(p.dilation_w), CUDNN_CROSS_CORRELATION,
        dtype == DType::f64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT));
    EMBER_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv.get(), to_int(g.groups)));
    EMBER_CUDNN_CHECK(cudnnSetConvolutionMathType(conv.get(), math));
    key = ConvKey{direction, device, static_cast<int>(dtype), allow_tf32(), g.batch, g.in_channels,
                  g.out_channels, g.groups, ph.library_in, pw.library_in, p.out_h, p.out_w, p.kernel_h, p.kernel_w,
                  ph.library_pad, pw.library_pad, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w};
  }

  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;
  DType dtype;
  cudnnMathType_t math;  // the math type the dtype allows (Note [TF32 off by default])
  ConvKey key;
};

// alpha = 1 and beta, as host values of cuDNN's scaling type (double for float64, else float).
struct ConvScalars {
  ConvScalars(DType dtype, double beta) : is_double(dtype == DType::f64), f_beta(static_cast<float>(beta)), d_beta(beta) {}
  const void* alpha() const { return is_double ? static_cast<const void*>(&d_alpha) : &f_alpha; }
  const void* beta() const { return is_double ? static_cast<const void*>(&d_beta) : &f_beta; }
  bool is_double;
  float f_alpha = 1.0f, f_beta;
  double d_alpha = 1.0, d_beta;
};

struct ConvAlgo {
  int algo = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace_bytes = 0;
};

ConvAlgoCache<ConvAlgo>& algo_cache() {
  static ConvAlgoCache<ConvAlgo> cache;
  return cache;
}

// The first of cuDNN's ranked candidates that ran (status SUCCESS), keeps float32 off TF32
// unless allowed, and needs at most kMaxConvWorkspaceBytes; else algorithm 0, which every
// direction supports for every geometry. `query(count, &returned, perfs)` runs the heuristics,
// `workspace_size(algo, &bytes)` asks for an algorithm's workspace under the current math type.
template <class Perf, int Count, class Query, class WorkspaceSize>
ConvAlgo choose_algo(const ConvDescriptors& d, Query query, WorkspaceSize workspace_size) {
  Perf perfs[Count];
  int returned = 0;
  EMBER_CUDNN_CHECK(query(Count, &returned, perfs));
  for (int i = 0; i < returned; ++i) {
    const Perf& perf = perfs[i];
    if (perf.status != CUDNN_STATUS_SUCCESS) continue;
    if (d.dtype == DType::f32 && !allow_tf32() && perf.mathType != CUDNN_FMA_MATH) continue;
    if (cudnnSetConvolutionMathType(d.conv.get(), perf.mathType) != CUDNN_STATUS_SUCCESS) continue;
    size_t bytes = 0;
    if (workspace_size(static_cast<int>(perf.algo), &bytes) != CUDNN_STATUS_SUCCESS) continue;
    if (bytes > kMaxConvWorkspaceBytes) continue;
    return {static_cast<int>(perf.algo), perf.mathType, bytes};
  }
  EMBER_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv.get(), d.math));
  size_t bytes = 0;
  EMBER_CUDNN_CHECK(workspace_size(0, &bytes));
  return {0, d.math, bytes};
}

// The cached algorithm for d (chosen on first use), with d's math type set to match it.
ConvAlgo algorithm_for(const ConvDescriptors& d, const std::function<ConvAlgo()>& choose) {
  const ConvAlgo algo = algo_cache().get_or_choose(d.key, choose);
  EMBER_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv.get(), algo.math));
  return algo;
}

// bias (C) viewed as a (N, C, H, W) tensor like t (stride 0 except along channels).
Tensor channel_view(const Tensor& bias, const Tensor& t) {
  return make_view(bias, t.sizes(), {0, bias.stride(0), 0, 0}, bias.offset());
}

// The (N, C, copied_h, copied_w) window of a cuDNN-side buffer that holds the real input.
Tensor buffer_window(const Tensor& buffer, const ConvAxisPlan& ph, const ConvAxisPlan& pw) {
  return buffer.narrow(2, ph.offset, ph.copied).narrow(3, pw.offset, pw.copied);
}
Tensor input_window(const Tensor& x, const ConvAxisPlan& ph, const ConvAxisPlan& pw) {
  return x.narrow(2, 0, ph.copied).narrow(3, 0, pw.copied);
}
bool window_empty(const ConvAxisPlan& ph, const ConvAxisPlan& pw) { return ph.copied == 0 || pw.copied == 0; }

// x itself when cuDNN's padding fits both axes, else x copied into the zeroed buffer of Note
// [Explicit output sizes on cuDNN].
Tensor library_input(const Tensor& x, const ConvAxisPlan& ph, const ConvAxisPlan& pw) {
  if (ph.direct && pw.direct) return x;
  Tensor buffer = make_tensor({x.size(0), x.size(1), ph.library_in, pw.library_in}, x.dtype(), x.device());
  fill_data(buffer, 0.0);
  if (!window_empty(ph, pw)) copy_data(buffer_window(buffer, ph, pw), input_window(x, ph, pw));
  return buffer;
}

}  // namespace

void conv2d_forward(const Tensor& y, const Tensor& x, const Tensor& w, const Tensor& bias,
                    const cpu::Conv2dGeometry& g) {
  const int device = common_cuda_device("conv2d", {&y, &x, &w, &bias});
  DeviceGuard guard(device);
  NoGradGuard no_grad;  // the views below are bookkeeping, not graph
  if (y.numel() == 0) return;
  if (bias.defined()) copy_data(y, channel_view(bias, y));
  if (x.numel() == 0 || w.numel() == 0) {  // nothing to sum: y = bias or 0
    if (!bias.defined()) fill_data(y, 0.0);
    return;
  }
  const ConvAxisPlan ph = plan_conv_axis(axis_h(g)), pw = plan_conv_axis(axis_w(g));
  const Tensor input = library_input(x, ph, pw);
  const ConvDescriptors d(g, ph, pw, x.dtype(), ConvDirection::forward, device);
  const Stream stream = stream_of(y);
  cudnnHandle_t handle = cudnn_handle(stream);
  const ConvAlgo algo = algorithm_for(d, [&] {
    return choose_algo<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT>(
        d,
        [&](int count, int* returned, cudnnConvolutionFwdAlgoPerf_t* perfs) {
          return cudnnGetConvolutionForwardAlgorithm_v7(handle, d.x.get(), d.w.get(), d.conv.get(), d.y.get(), count,
                                                        returned, perfs);
        },
        [&](int a, size_t* bytes) {
          return cudnnGetConvolutionForwardWorkspaceSize(handle, d.x.get(), d.w.get(), d.conv.get(), d.y.get(),
                                                         static_cast<cudnnConvolutionFwdAlgo_t>(a), bytes);
        });
  });
  Workspace workspace(stream, algo.workspace_bytes);
  const ConvScalars scalars(x.dtype(), bias.defined() ? 1.0 : 0.0);
  EMBER_CUDNN_CHECK(cudnnConvolutionForward(handle, scalars.alpha(), d.x.get(), input.raw_data(), d.w.get(),
                                            w.raw_data(), d.conv.get(),
                                            static_cast<cudnnConvolutionFwdAlgo_t>(algo.algo), workspace.get(),
                                            workspace.bytes(), scalars.beta(), d.y.get(), y.raw_data()));
}

void conv2d_input_backward(const Tensor& dx, const Tensor& dy, const Tensor& w, const Tensor& bias,
                           const cpu::Conv2dGeometry& g) {
  const int device = common_cuda_device("conv2d_input_backward", {&dx, &dy, &w, &bias});
  DeviceGuard guard(device);
  NoGradGuard no_grad;
  if (dx.numel() == 0) return;
  const ConvAxisPlan ph = plan_conv_axis(axis_h(g)), pw = plan_conv_axis(axis_w(g));
  const bool direct = ph.direct && pw.direct;
  const bool empty_sum = dy.numel() == 0 || w.numel() == 0;
  // dx = bias (or 0) wherever cuDNN does not write it: everywhere for an empty sum, and the input
  // rows that no output reads when an axis is explicit.
  if (empty_sum || !direct) {
    if (bias.defined()) {
      copy_data(dx, channel_view(bias, dx));
    } else {
      fill_data(dx, 0.0);
    }
  }
  if (empty_sum) return;
  // cuDNN writes the input gradient of the geometry it sees: dx itself, or a buffer whose window
  // is then copied to dx. A bias is written there first and accumulated onto (beta = 1).
  const Tensor target = direct ? dx
                               : make_tensor({dx.size(0), dx.size(1), ph.library_in, pw.library_in}, dx.dtype(),
                                             dx.device());
  if (bias.defined()) copy_data(target, channel_view(bias, target));
  const ConvDescriptors d(g, ph, pw, dy.dtype(), ConvDirection::backward_data, device);
  const Stream stream = stream_of(dx);
  cudnnHandle_t handle = cudnn_handle(stream);
  const ConvAlgo algo = algorithm_for(d, [&] {
    return choose_algo<cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT>(
        d,
        [&](int count, int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perfs) {
          return cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d.w.get(), d.y.get(), d.conv.get(), d.x.get(),
                                                             count, returned, perfs);
        },
        [&](int a, size_t* bytes) {
          return cudnnGetConvolutionBackwardDataWorkspaceSize(handle, d.w.get(), d.y.get(), d.conv.get(), d.x.get(),
                                                              static_cast<cudnnConvolutionBwdDataAlgo_t>(a), bytes);
        });
  });
  Workspace workspace(stream, algo.workspace_bytes);
  const ConvScalars scalars(dy.dtype(), bias.defined() ? 1.0 : 0.0);
  EMBER_CUDNN_CHECK(cudnnConvolutionBackwardData(handle, scalars.alpha(), d.w.get(), w.raw_data(), d.y.get(),
                                                 dy.raw_data(), d.conv.get(),
                                                 static_cast<cudnnConvolutionBwdDataAlgo_t>(algo.algo),
                                                 workspace.get(), workspace.bytes(), scalars.beta(), d.x.get(),
                                                 target.raw_data()));
  if (!direct && !window_empty(ph, pw)) copy_data(input_window(dx, ph, pw), buffer_window(target, ph, pw));
}

void conv2d_weight_backward(const Tensor& dw, const Tensor& x, const Tensor& dy, const cpu::Conv2dGeometry& g) {
  const int device = common_cuda_device("conv2d_weight_backward", {&dw, &x, &dy});
  DeviceGuard guard(device);
  NoGradGuard no_grad;
  if (dw.numel() == 0) return;
  if (x.numel() == 0 || dy.numel() == 0) {  // an empty batch (or image): no contributions
    fill_data(dw, 0.0);
    return;
  }
  const ConvAxisPlan ph = plan_conv_axis(axis_h(g)), pw = plan_conv_axis(axis_w(g));
  const Tensor input = library_input(x, ph, pw);
  const ConvDescriptors d(g, ph, pw, x.dtype(), ConvDirection::backward_filter, device);
  const Stream stream = stream_of(dw);
  cudnnHandle_t handle = cudnn_handle(stream);
  const ConvAlgo algo = algorithm_for(d, [&] {
    return choose_algo<cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT>(
        d,
        [&](int count, int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perfs) {
          return cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, d.x.get(), d.y.get(), d.conv.get(), d.w.get(),
                                                               count, returned, perfs);
        },
        [&](int a, size_t* bytes) {
          return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, d.x.get(), d.y.get(), d.conv.get(), d.w.get(),
                                                                static_cast<cudnnConvolutionBwdFilterAlgo_t>(a), bytes);
        });
  });
  Workspace workspace(stream, algo.workspace_bytes);
  const ConvScalars scalars(x.dtype(), 0.0);
  EMBER_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, scalars.alpha(), d.x.get(), input.raw_data(), d.y.get(),
                                                   dy.raw_data(), d.conv.get(),
                                                   static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo.algo),
                                                   workspace.get(), workspace.bytes(), scalars.beta(), d.w.get(),
                                                   dw.raw_data()));
}

size_t conv_algorithm_cache_size() { return algo_cache().size(); }

}  // namespace ember::cuda
