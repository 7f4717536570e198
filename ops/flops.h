// The work each op family declares to the profiler (engine/profiler.h): floating-point operations
// (a multiply-add counts 2, exp/log/sqrt count 1) and bytes moved (every input read once plus
// every output written once). Op front ends pass one of these to EMBER_PROFILE_OP; they are
// evaluated only while a profiler records (Note [Profiler zero cost]), after nothing but the
// caller's own arguments, so they must not throw on bad input: sizes that do not fit give 0.
//
// The formulas, per family (N batch, numel = elements of the output unless said):
//   matmul, mm, bmm, linear, einsum's product: 2·B·M·N·K
//   conv2d / conv_transpose2d / weight gradient: 2·N·C_out·H_out·W_out·(C_in/groups)·kh·kw
//   elementwise, unary, activations, compare, where: per_element · numel (1 unless stated)
//   reductions (sum, mean, max, ...): numel of the input; var/std/norm: 3 per input element
//   softmax / log_softmax: 5 per element (max, subtract, exp, sum, divide or log)
//   batch/layer/group norm: 8 per element (mean 1, variance 3, normalise and affine 4); rms 6
//   losses: cross_entropy 6 per logit (log_softmax 5 + pick 1), others 3 per element
//   attention: 2·L·S·E (Q·Kᵀ) + 5·L·S (softmax) + 2·L·S·Ev (P·V) per batch·head; its fused
//     backward 2.5x that (recomputed scores and four products, as FlashAttention counts it)
//   fused backward kernels: norms 10 per element, softmax 4, activations 2, cross_entropy 4
//   sort/topk: 0 (comparisons are not FLOPs); cumsum/cumprod: 1 per element
//   pooling: one per input element read (kh·kw per output when windows tile the input)
//   shape, index, embedding, copy ops: 0 FLOPs, bytes only
// Tests: test/profiler/test_profiler.cpp checks the totals of a small network against hand counts.
#pragma once
#include <algorithm>
#include <initializer_list>

#include "engine/profiler.h"
#include "engine/tensor.h"

namespace ember::flops {

using profiler::OpCost;

inline double numel(const Tensor& t) { return t.defined() ? static_cast<double>(t.numel()) : 0.0; }
inline double bytes_of(const Tensor& t) {
  return t.defined() ? static_cast<double>(t.numel()) * static_cast<double>(t.element_size()) : 0.0;
}
inline double bytes_of(std::initializer_list<Tensor> tensors) {
  double b = 0;
  for (const Tensor& t : tensors) b += bytes_of(t);
  return b;
}
// Bytes of `numel` elements of the widest input dtype (what the output is promoted to).
inline double output_bytes(std::initializer_list<Tensor> like, double numel) {
  size_t item = 0;
  for (const Tensor& t : like)
    if (t.defined()) item = std::max(item, t.element_size());
  return numel * static_cast<double>(item);
}

// The broadcast numel of the inputs (0 if they do not broadcast: the op will throw anyway).
inline double broadcast_numel(std::initializer_list<Tensor> inputs) {
  Shape shape;
  for (const Tensor& t : inputs) {
    if (!t.defined()) continue;
    const size_t dims = static_cast<size_t>(t.dim());
    if (dims > shape.size()) shape.insert(shape.begin(), dims - shape.size(), 1);
    for (size_t d = 0; d < dims; ++d) {
      int64_t& s = shape[shape.size() - dims + d];
      const int64_t v = t.sizes()[d];
      if (s == 1) s = v;
      else if (v != 1 && v != s) return 0;
    }
  }
  double n = 1;
  for (int64_t s : shape) n *= static_cast<double>(s);
  return n;
}

// Elementwise ops: `per_element` flops per output element; the output has the broadcast shape.
inline OpCost elementwise(std::initializer_list<Tensor> inputs, double per_element = 1) {
  const double numel = broadcast_numel(inputs);
  return {per_element * numel, bytes_of(inputs) + output_bytes(inputs, numel)};
}

// Ops that read inputs and write `output_numel` elements with `per_element` flops per input
// element (reductions, norms, softmax, losses): `per_element` · numel(x).
inline OpCost per_input_element(const Tensor& x, double per_element, double output_numel,
                                std::initializer_list<Tensor> others = {}) {
  const double numel = x.defined() ? static_cast<double>(x.numel()) : 0.0;
  return {per_element * numel, bytes_of(x) + bytes_of(others) + output_bytes({x}, output_numel)};
}
// A reduction's output numel: numel of x over the product of the reduced dims (all when empty).
inline double reduced_numel(const Tensor& x, const std::vector<int64_t>& dims) {
  if (!x.defined() || dims.empty()) return 1;
  double n = static_cast<double>(x.numel());
  for (int64_t d : dims) {
    const int64_t dim = d < 0 ? d + x.dim() : d;
    if (dim >= 0 && dim < x.dim() && x.size(dim) > 0) n /= static_cast<double>(x.size(dim));
  }
  return n;
}
inline OpCost reduction(const Tensor& x, const std::vector<int64_t>& dims = {}, double per_element = 1) {
  return per_input_element(x, per_element, reduced_numel(x, dims));
}
// Same-shape ops (norms, softmax, activations): reads x and `others`, writes one x-sized output.
inline OpCost same_shape(const Tensor& x, double per_element, std::initializer_list<Tensor> others = {}) {
  return per_input_element(x, per_element, x.defined() ? static_cast<double>(x.numel()) : 0.0, others);
}

// Data movement only (copies, shape and index ops): reads inputs, writes `output_numel` elements.
inline OpCost movement(std::initializer_list<Tensor> inputs, double output_numel) {
  return {0, bytes_of(inputs) + output_bytes(inputs, output_numel)};
}

// embedding: gathers one row of `weight` (V, D) per index and writes it.
inline OpCost embedding(const Tensor& indices, const Tensor& weight) {
  const double row = weight.defined() && weight.dim() == 2 ? static_cast<double>(weight.size(1)) : 0.0;
  return movement({indices}, numel(indices) * 2 * row);
}

// cat / stack: every input read once and written once into the output.
inline OpCost concatenation(const TensorList& tensors) {
  double b = 0;
  for (const Tensor& t : tensors) b += bytes_of(t);
  return {0, 2 * b};
}
inline double numel_of_shape(const Shape& shape) {
  double n = 1;
  for (int64_t s : shape) n *= static_cast<double>(s);
  return n;
}

// A fused backward kernel: `flops_factor` times the forward's flops, and its bytes plus the
// incoming gradient and the outgoing one (about twice the forward's traffic).
inline OpCost backward(OpCost forward, double flops_factor) { return {forward.flops * flops_factor, 2 * forward.bytes}; }

// (B, M, K) · (B, K, N): 2·B·M·N·K flops.
inline OpCost matmul(double batch, double m, double n, double k, size_t item) {
  return {2 * batch * m * n * k, (batch * (m * k + k * n + m * n)) * static_cast<double>(item)};
}
// torch.matmul's broadcasting: B from the larger operand's batch dims, 1-D operands as vectors.
inline OpCost matmul(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || a.dim() == 0 || b.dim() == 0) return {};
  const double k = static_cast<double>(a.size(-1));
  const double m = a.dim() >= 2 ? static_cast<double>(a.size(-2)) : 1;
  const double n = b.dim() >= 2 ? static_cast<double>(b.size(-1)) : 1;
  // Empty operands do no work (and must not divide by zero).
  if (m * k == 0 || k * n == 0) return {};
  const double batch_a = a.dim() > 2 ? static_cast<double>(a.numel()) / (m * k) : 1;
  const double batch_b = b.dim() > 2 ? static_cast<double>(b.numel()) / (k * n) : 1;
  return matmul(std::max(batch_a, batch_b), m, n, k, a.element_size());
}
// linear: x (..., in) · weight (out, in)ᵀ + bias.
inline OpCost linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (!x.defined() || !weight.defined() || x.dim() == 0 || weight.dim() != 2) return {};
  const double rows = static_cast<double>(x.numel()) / static_cast<double>(std::max<int64_t>(x.size(-1), 1));
  OpCost c = matmul(1, rows, static_cast<double>(weight.size(0)), static_cast<double>(weight.size(1)),
                    x.element_size());
  c.bytes += bytes_of(bias);
  return c;
}

// conv2d's geometry: N·C_out·H_out·W_out outputs, each a (C_in/groups)·kh·kw dot product. The
// transposed convolution and the weight gradient do the same multiply-adds in another order.
inline OpCost conv2d(double batch, double out_channels, double out_h, double out_w, double in_channels_per_group,
                     double kernel_h, double kernel_w, double bytes) {
  return {2 * batch * out_channels * out_h * out_w * in_channels_per_group * kernel_h * kernel_w, bytes};
}

// Attention: q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev).
inline OpCost attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  if (!q.defined() || !k.defined() || !v.defined() || q.dim() < 2 || k.dim() < 2 || v.dim() < 2) return {};
  const double L = static_cast<double>(q.size(-2)), E = static_cast<double>(q.size(-1));
  const double S = static_cast<double>(k.size(-2)), Ev = static_cast<double>(v.size(-1));
  const double batch = static_cast<double>(q.numel()) / std::max(L * E, 1.0);
  return {batch * (2 * L * S * E + 5 * L * S + 2 * L * S * Ev),
          bytes_of({q, k, v, mask}) + output_bytes({q}, batch * L * Ev)};
}

}  // namespace ember::flops
