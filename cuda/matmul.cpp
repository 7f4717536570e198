// cuda/matmul.h over cuBLAS (cublasGemmEx, cublasGemmStridedBatchedEx) and cuBLASLt (the bias
// epilogue of linear). Row-major strided operands reach the column-major libraries as
// cuda/gemm_plan.h plans them (Note [Row-major GEMM on column-major BLAS]). No kernels here.
#include "cuda/matmul.h"

#include <climits>
#include <cstdint>

#include "cuda/blas.h"
#include "cuda/gemm_plan.h"
#include "cuda/math_mode.h"
#include "cuda/tensor_args.h"
#include "cuda/workspace.h"
#include "engine/copy.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

// Storage type, compute type and scalar type of a GEMM on `dtype`. bfloat16/float16 accumulate
// in float32 (CUBLAS_COMPUTE_32F); float32 uses TF32 only when allowed (Note [TF32 off by default]).
struct GemmTypes {
  cudaDataType_t data;
  cublasComputeType_t compute;
  bool double_scalars;  // alpha/beta are double (float64 compute), else float
};

GemmTypes gemm_types(DType dtype) {
  switch (dtype) {
    case DType::f32: return {CUDA_R_32F, allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, false};
    case DType::f64: return {CUDA_R_64F, CUBLAS_COMPUTE_64F, true};
    case DType::bf16: return {CUDA_R_16BF, CUBLAS_COMPUTE_32F, false};
    case DType::f16: return {CUDA_R_16F, CUBLAS_COMPUTE_32F, false};
    default: break;
  }
  EMBER_FAIL("matmul: no CUDA kernel for dtype {} (cuBLAS runs float32, float64, bfloat16 and float16)",
             dtype_name(dtype));
}

// alpha = 1 and beta, as host values of the compute type's scalar type.
struct Scalars {
  Scalars(bool is_double, double beta) : is_double(is_double), f_beta(static_cast<float>(beta)), d_beta(beta) {}
  const void* alpha() const { return is_double ? static_cast<const void*>(&d_alpha) : &f_alpha; }
  const void* beta() const { return is_double ? static_cast<const void*>(&d_beta) : &f_beta; }
  bool is_double;
  float f_alpha = 1.0f, f_beta;
  double d_alpha = 1.0, d_beta;
};

cublasOperation_t to_cublas(GemmTranspose op) { return op == GemmTranspose::none ? CUBLAS_OP_N : CUBLAS_OP_T; }

int to_int(int64_t value, const char* what) {
  EMBER_CHECK(value <= INT_MAX, "matmul: {} = {} exceeds cuBLAS's int range", what, value);
  return static_cast<int>(value);
}

// A dense copy of a (B, rows, cols) operand whose matrices no strided layout fits (no autograd).
Tensor packed(const Tensor& t) {
  Tensor out = make_tensor(t.sizes(), t.dtype(), t.device());
  copy_data(out, t);
  return out;
}

// The operands after packing whichever the planner cannot pass, and the plan for them.
struct PreparedGemm {
  Tensor a, b;  // a: (B, M, K), b: (B, K, N)
  GemmPlan plan;
};

PreparedGemm prepare(const Tensor& a, const Tensor& b) {
  const int64_t M = a.size(1), K = a.size(2), N = b.size(2);
  auto plan_for = [&](const Tensor& x, const Tensor& y) {
    return plan_row_major_gemm(M, N, K, x.stride(1), x.stride(2), y.stride(1), y.stride(2));
  };
  PreparedGemm p{a, b, plan_for(a, b)};
  if (!p.plan.lib_a.needs_copy && !p.plan.lib_b.needs_copy) return p;
  if (p.plan.lib_b.needs_copy) p.a = packed(a);
  if (p.plan.lib_a.needs_copy) p.b = packed(b);
  p.plan = plan_for(p.a, p.b);
  return p;
}

// out = a·b (+ out when accumulate): one cublasGemmEx, or one strided-batched call for B > 1
// (a batch stride of 0 re-reads a broadcast operand).
void run_cublas(const Tensor& out, const PreparedGemm& p, bool accumulate) {
  const GemmTypes types = gemm_types(out.dtype());
  const Scalars scalars(types.double_scalars, accumulate ? 1.0 : 0.0);
  const GemmPlan& plan = p.plan;
  const int m = to_int(plan.m, "N"), n = to_int(plan.n, "M"), k = to_int(plan.k, "K");
  const int lda = to_int(plan.lib_a.ld, "ld"), ldb = to_int(plan.lib_b.ld, "ld"), ldc = to_int(plan.ldc, "ld");
  const int64_t batch = out.size(0);
  const Stream stream = stream_of(out);
  Workspace workspace(stream, kBlasWorkspaceBytes);
  cublasHandle_t handle = cublas_handle(stream, workspace.get(), workspace.bytes());
  // The library's A is our b and its B our a (Note [Row-major GEMM on column-major BLAS]).
  if (batch == 1) {
    EMBER_CUBLAS_CHECK(cublasGemmEx(handle, to_cublas(plan.lib_a.op), to_cublas(plan.lib_b.op), m, n, k,
                                    scalars.alpha(), p.b.raw_data(), types.data, lda, p.a.raw_data(), types.data, ldb,
                                    scalars.beta(), out.raw_data(), types.data, ldc, types.compute,
                                    CUBLAS_GEMM_DEFAULT));
  } else {
    EMBER_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        handle, to_cublas(plan.lib_a.op), to_cublas(plan.lib_b.op), m, n, k, scalars.alpha(), p.b.raw_data(),
        types.data, lda, p.b.stride(0), p.a.raw_data(), types.data, ldb, p.a.stride(0), scalars.beta(),
        out.raw_data(), types.data, ldc, plan.m * plan.n, to_int(batch, "batch"), types.compute,
        CUBLAS_GEMM_DEFAULT));
  }
}

// RAII for the cuBLASLt descriptors.
template <class H, auto Destroy>
class LtObject {
 public:
  LtObject() = default;
  ~LtObject() {
    if (handle_ != nullptr) Destroy(handle_);
  }
  LtObject(const LtObject&) = delete;
  LtObject& operator=(const LtObject&) = delete;
  H* out() { return &handle_; }
  H get() const { return handle_; }

 private:
  H handle_ = nullptr;
};
using LtMatmulDesc = LtObject<cublasLtMatmulDesc_t, &cublasLtMatmulDescDestroy>;
using LtLayout = LtObject<cublasLtMatrixLayout_t, &cublasLtMatrixLayoutDestroy>;
using LtPreference = LtObject<cublasLtMatmulPreference_t, &cublasLtMatmulPreferenceDestroy>;

template <class V>
void set_desc(const LtMatmulDesc& desc, cublasLtMatmulDescAttributes_t attribute, const V& value) {
  EMBER_CUBLASLT_CHECK(cublasLtMatmulDescSetAttribute(desc.get(), attribute, &value, sizeof(value)));
}
template <class V>
void set_preference(const LtPreference& pref, cublasLtMatmulPreferenceAttributes_t attribute, const V& value) {
  EMBER_CUBLASLT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.get(), attribute, &value, sizeof(value)));
}

// The largest power of two (<= 256) dividing the address: cuBLASLt's heuristics otherwise
// assume 256-byte aligned matrices and may pick kernels that a view's offset breaks.
uint32_t alignment_of(const void* ptr) {
  const auto address = reinterpret_cast<uintptr_t>(ptr);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

// A stored column-major matrix: op(stored) is (rows_after_op, cols_after_op).
void create_layout(LtLayout& layout, cudaDataType_t type, GemmTranspose op, int64_t rows_after_op,
                   int64_t cols_after_op, int64_t ld) {
  const bool n = op == GemmTranspose::none;
  EMBER_CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(layout.out(), type, static_cast<uint64_t>(n ? rows_after_op : cols_after_op),
                                                  static_cast<uint64_t>(n ? cols_after_op : rows_after_op), ld));
}

// out (1, M, N) = a·b + bias through cuBLASLt's bias epilogue. In the library's column-major
// problem the output is (N, M) and bias (N) runs along its rows, which is what the epilogue adds
// ("bias length = rows of D"). Returns false, having queued nothing, when cuBLASLt offers no
// algorithm for the case.
bool try_lt_bias(const Tensor& out, const PreparedGemm& p, const Tensor& bias) {
  const GemmTypes types = gemm_types(out.dtype());
  const GemmPlan& plan = p.plan;
  LtMatmulDesc desc;
  EMBER_CUBLASLT_CHECK(cublasLtMatmulDescCreate(desc.out(), types.compute, CUDA_R_32F));
  set_desc(desc, CUBLASLT_MATMUL_DESC_TRANSA, to_cublas(plan.lib_a.op));
  set_desc(desc, CUBLASLT_MATMUL_DESC_TRANSB, to_cublas(plan.lib_b.op));
  set_desc(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_BIAS);
  set_desc(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias.raw_data());
  LtLayout a_layout, b_layout, c_layout;
  create_layout(a_layout, types.data, plan.lib_a.op, plan.m, plan.k, plan.lib_a.ld);
  create_layout(b_layout, types.data, plan.lib_b.op, plan.k, plan.n, plan.lib_b.ld);
  create_layout(c_layout, types.data, GemmTranspose::none, plan.m, plan.n, plan.ldc);
  LtPreference preference;
  EMBER_CUBLASLT_CHECK(cublasLtMatmulPreferenceCreate(preference.out()));
  set_preference(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, static_cast<uint64_t>(kBlasWorkspaceBytes));
  set_preference(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignment_of(p.b.raw_data()));
  set_preference(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignment_of(p.a.raw_data()));
  set_preference(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignment_of(out.raw_data()));
  set_preference(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignment_of(out.raw_data()));

  const Stream stream = stream_of(out);
  cublasLtHandle_t handle = cublaslt_handle(stream.device);
  cublasLtMatmulHeuristicResult_t heuristic{};
  int returned = 0;
  const cublasStatus_t status =
      cublasLtMatmulAlgoGetHeuristic(handle, desc.get(), a_layout.get(), b_layout.get(), c_layout.get(),
                                     c_layout.get(), preference.get(), 1, &heuristic, &returned);
  if (status != CUBLAS_STATUS_SUCCESS || returned == 0) return false;
  const Scalars scalars(false, 0.0);
  Workspace workspace(stream, heuristic.workspaceSize);
  EMBER_CUBLASLT_CHECK(cublasLtMatmul(handle, desc.get(), scalars.alpha(), p.b.raw_data(), a_layout.get(),
                                      p.a.raw_data(), b_layout.get(), scalars.beta(), out.raw_data(), c_layout.get(),
                                      out.raw_data(), c_layout.get(), &heuristic.algo, workspace.get(),
                                      workspace.bytes(), static_cast<cudaStream_t>(stream.handle)));
  return true;
}

// Checks shared by both entry points; returns the device. out: (B, M, N) contiguous.
int check_gemm(const char* op, const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& bias) {
  const int device = common_cuda_device(op, {&out, &a, &b, &bias});
  EMBER_CHECK(out.is_contiguous() && a.dtype() == out.dtype() && b.dtype() == out.dtype(),
              "{}: CUDA GEMM needs a contiguous output and one dtype, got out {}, a {}, b {}", op, out.describe(),
              a.describe(), b.describe());
  return device;
}

}  // namespace

void bmm(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate) {
  DeviceGuard guard(check_gemm("matmul", out, a, b, Tensor()));
  if (out.numel() == 0) return;
  if (a.size(2) == 0) {  // empty sum: out = 0 (or unchanged)
    if (!accumulate) fill_data(out, 0.0);
    return;
  }
  run_cublas(out, prepare(a, b), accumulate);
}

void bmm_bias(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& bias) {
  DeviceGuard guard(check_gemm("linear", out, a, b, bias));
  EMBER_CHECK(bias.dim() == 1 && bias.size(0) == out.size(2) && bias.dtype() == out.dtype(),
              "linear: bias {} does not match the output {}", bias.describe(), out.describe());
  if (out.numel() == 0) return;
  const int64_t K = a.size(2);
  const PreparedGemm p = K > 0 ? prepare(a, b) : PreparedGemm{a, b, {}};
  const bool epilogue_case = out.size(0) == 1 && K > 0 && out.dtype() != DType::f64 && bias.is_contiguous();
  if (epilogue_case && try_lt_bias(out, p, bias)) return;
  // Otherwise: bias broadcast over (B, M) as a stride-0 view, then out += a·b.
  copy_data(out, make_view(bias, out.sizes(), {0, 0, bias.stride(0)}, bias.offset()));
  if (K > 0) run_cublas(out, p, /*accumulate=*/true);
}

}  // namespace ember::cuda
