// CUDA twins of the batched ops/cpu/fold.h kernels (same names and signatures, namespace
// ember::cuda): unfold/fold for tensors on a GPU. Launchers: cuda/fold_launch.h, kernels:
// cuda/fold.cu. Plain C++ (Note [CUDA kernel boundary] in cuda/layout.h).
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/fold.h"  // PatchGeometry

namespace ember::cuda {

using cpu::PatchGeometry;

void unfold_images(const Tensor& cols, const Tensor& x, const PatchGeometry& g);
void fold_images(const Tensor& out, const Tensor& cols, const PatchGeometry& g);

}  // namespace ember::cuda
