// CPU kernels for ops/elementwise.cpp. Inputs arrive already promoted to the output dtype and
// broadcastable to the output's shape; kernels only compute.
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

void add(const Tensor& out, const Tensor& a, const Tensor& b, double alpha);  // out = a + alpha*b
void mul(const Tensor& out, const Tensor& a, const Tensor& b);
void div(const Tensor& out, const Tensor& a, const Tensor& b);
void neg(const Tensor& out, const Tensor& a);

}  // namespace ember::cpu
