// CPU kernels for ops/elementwise.cpp. Inputs arrive already promoted to the output dtype and
// broadcastable to the output's shape; kernels only compute.
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

void add(const Tensor& out, const Tensor& a, const Tensor& b, double alpha);  // out = a + alpha*b
void mul(const Tensor& out, const Tensor& a, const Tensor& b);
void div(const Tensor& out, const Tensor& a, const Tensor& b);
void neg(const Tensor& out, const Tensor& a);
void pow(const Tensor& out, const Tensor& base, const Tensor& exponent);
void pow_scalar(const Tensor& out, const Tensor& base, double exponent);
void minimum(const Tensor& out, const Tensor& a, const Tensor& b);
void maximum(const Tensor& out, const Tensor& a, const Tensor& b);
void lerp(const Tensor& out, const Tensor& start, const Tensor& end, const Tensor& weight);  // floating
void lerp(const Tensor& out, const Tensor& start, const Tensor& end, double weight);
void addcmul(const Tensor& out, const Tensor& x, const Tensor& a, const Tensor& b, double value);
void addcdiv(const Tensor& out, const Tensor& x, const Tensor& a, const Tensor& b, double value);  // floating
void fmod(const Tensor& out, const Tensor& a, const Tensor& b);       // integer divisors are nonzero
void remainder(const Tensor& out, const Tensor& a, const Tensor& b);

}  // namespace ember::cpu
