// Launchers of cuda/interpolate.cu: separable interpolation (nearest, linear, cubic) and its
// adjoint over (P, H, W) planes through per-axis tap tables. Raw pointers and POD tables (Note
// [CUDA kernel boundary] in cuda/layout.h); Tensor level: cuda/interpolate.h.
#pragma once
#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// ops/cpu/interpolate.h's InterpTaps of one axis on the device, plus its transpose for the
// adjoint: the (output, weight) pairs reading input i are readers/reader_weights[reader_offsets[i]
// ... reader_offsets[i + 1]), by ascending output.
struct InterpTable {
  const int64_t* index = nullptr;  // (out, count)
  const double* weight = nullptr;  // (out, count)
  int64_t count = 1, in = 1, out = 1;
  const int64_t* reader_offsets = nullptr;
  const int64_t* readers = nullptr;
  const double* reader_weights = nullptr;
};

// out: (planes, OH, OW) from x: (planes, H, W), both contiguous. f32/f64.
void interpolate_fwd(void* out, const void* x, ScalarType type, int64_t planes, const InterpTable& h,
                     const InterpTable& w, Stream stream);
// grad_in: (planes, H, W) overwritten, from grad: (planes, OH, OW); one thread per input element.
void interpolate_adjoint(void* grad_in, const void* grad, ScalarType type, int64_t planes, const InterpTable& h,
                         const InterpTable& w, Stream stream);

}  // namespace ember::cuda
