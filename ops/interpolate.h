// interpolate (nearest, bilinear, bicubic), pixel_shuffle / pixel_unshuffle.
// Twin: ops/cpu/interpolate.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {


}  // namespace ember
