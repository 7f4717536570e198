// Elementwise arithmetic with broadcasting and PyTorch's type promotion.
// Twins: ops/cpu/elementwise.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {

// PyTorch's result type: dimensioned tensors outrank 0-d ones within a category
// (bool < integer < floating); a 0-d tensor of a higher category promotes.
DType result_type(const Tensor& a, const Tensor& b);

Tensor add(const Tensor& a, const Tensor& b, double alpha = 1.0);  // a + alpha * b
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, const Tensor& b, double alpha = 1.0);  // a - alpha * b
Tensor sub(const Tensor& a, double b);
Tensor rsub(const Tensor& a, double b);  // b - a
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: integers give float32
Tensor div(const Tensor& a, double b);
Tensor rdiv(const Tensor& a, double b);  // b / a
Tensor neg(const Tensor& a);

// ---- powers, min/max, interpolation, fused multiply-add, modulo (same broadcasting and promotion) ----
// pow: integer ** integer stays integer (negative scalar exponents of integers are an error);
// d/d exponent = out * log(base), taken as 0 where base == 0 and exponent >= 0 (PyTorch's rule).
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor pow(const Tensor& base, double exponent);
Tensor pow(double base, const Tensor& exponent);
// NaN propagates; on ties the gradient is split evenly between the inputs (as PyTorch).
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, double b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, double b);
// start + weight * (end - start), floating only.
Tensor lerp(const Tensor& start, const Tensor& end, double weight);
Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight);
Tensor addcmul(const Tensor& x, const Tensor& a, const Tensor& b, double value = 1.0);  // x + value * a * b
Tensor addcdiv(const Tensor& x, const Tensor& a, const Tensor& b, double value = 1.0);  // x + value * a / b
// fmod: C's fmod (sign of the dividend); remainder: Python's % (sign of the divisor). Integer
// division by zero is an error. Gradients: 1 for a, -trunc(a/b) (fmod) or -floor(a/b) (remainder) for b.
Tensor fmod(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, double b);
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, double b);

// PyTorch's result type over several tensors (0-d tensors promote only across categories).
DType result_type(const TensorList& tensors);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
inline Tensor operator-(double a, const Tensor& b) { return rsub(b, a); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator/(const Tensor& a, double b) { return div(a, b); }
inline Tensor operator/(double a, const Tensor& b) { return rdiv(b, a); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator%(const Tensor& a, const Tensor& b) { return remainder(a, b); }
inline Tensor operator%(const Tensor& a, double b) { return remainder(a, b); }

}  // namespace ember
