// CPU kernels for ops/unary.cpp: one function per op, out already allocated in the result dtype.
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

void exp(const Tensor& out, const Tensor& x);
void sqrt(const Tensor& out, const Tensor& x);
void clamp(const Tensor& out, const Tensor& x, double min_value, double max_value);

}  // namespace ember::cpu
