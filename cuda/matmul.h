// CUDA matrix products through cuBLAS / cuBLASLt (no kernels of our own), with the signatures of
// ops/cpu/matmul.h so ops/matmul.cpp picks one with a visible switch. Plain C++ header.
// Implementation: cuda/matmul.cpp; layout planner: cuda/gemm_plan.h; TF32: cuda/math_mode.h.
#pragma once
#include "engine/tensor.h"

namespace ember::cuda {

// out[i] = a[i] · b[i] (+ out[i] when accumulate) for every batch i. a: (B, M, K), b: (B, K, N),
// any strides (0 along B for broadcast operands; transposed matrices are read in place, others
// packed first: cuda/gemm_plan.h); out: (B, M, N) contiguous. float32 (TF32 off unless
// cuda::set_allow_tf32), float64, and bfloat16/float16 with float32 accumulation.
void bmm(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate);

// out = a · b + bias with bias (N) added to every row: the linear layer. Uses the cuBLASLt bias
// epilogue (one pass over out) when the library has an algorithm for the case (B = 1, contiguous
// bias, not float64), else writes the bias into out and accumulates the GEMM onto it.
void bmm_bias(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& bias);

}  // namespace ember::cuda
