// CUDA twins of ops/cpu/elementwise.h (same names and signatures, namespace ember::cuda): inputs
// arrive promoted to the output's dtype and broadcastable to its shape, on the output's CUDA
// device. Each function checks, unpacks (cuda/tensor_args.h) and calls a launcher of
// cuda/elementwise.cu (cuda/elementwise_launch.h). Also operand_of, shared by the other
// elementwise families (cuda/{unary,activation,compare}.cpp). Plain C++; CUDA builds only.
#pragma once
#include "cuda/elementwise_launch.h"
#include "engine/tensor.h"

namespace ember::cuda {

// t as an operand of a kernel writing a tensor of shape out_sizes: strides in out's shape, 0 on
// broadcast and missing leading dims. Errors (naming `op`) unless t broadcasts to out_sizes.
Operand operand_of(const Tensor& t, const Shape& out_sizes, const char* op);
// Errors naming `op` unless every tensor has `dtype` (the kernels reinterpret memory by it).
void check_dtype(const char* op, DType dtype, std::initializer_list<const Tensor*> tensors);

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

}  // namespace ember::cuda
