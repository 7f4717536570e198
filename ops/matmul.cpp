// Matrix products: API, argument checks, dispatch and backward, side by side.
// Every product lowers to one differentiable core, `batched_product` ((B, M, K) · (B, K, N) plus
// an optional broadcast addend), whose backward is itself written with bmm, so double backward
// works. Kernels: ops/cpu/matmul.cpp (OpenBLAS), cuda/matmul.cpp (cuBLAS/cuBLASLt).
// Formulas: autograd/derivatives/matmul.md.
#include "ops/matmul.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "autograd/function.h"
#include "cuda/matmul.h"
#include "engine/autocast.h"
#include "engine/copy.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/matmul.h"
#include "ops/elementwise.h"
#include "ops/elementwise_util.h"
#include "ops/flops.h"
#include "ops/reduce.h"

namespace ember {

namespace {

void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a, "self");
  check_defined(op, b, "other");
  check_same_device(op, {&a, &b});
  EMBER_CHECK(a.dtype() == b.dtype(), "{}: expected both operands to have the same dtype, got {} and {}", op,
              a.describe(), b.describe());
  EMBER_CHECK(a.dtype() != DType::bool_, "{}: bool tensors are not supported ({})", op, a.describe());
}

// out = a · b (+ addend broadcast to the output). a: (B, M, K), b: (B, K, N), already checked.
Tensor batched_product(const Tensor& a, const Tensor& b, const Tensor& addend) {
  const Shape out_shape{a.size(0), a.size(1), b.size(2)};
  Tensor out = make_tensor(out_shape, a.dtype(), a.device());
  // linear's bias (N) goes to cuBLASLt's bias epilogue on CUDA; any other addend is written
  // into out first and the product accumulated onto it.
  const bool bias_row = a.device().is_cuda() && addend.defined() && addend.dim() == 1;
  if (addend.defined() && !bias_row) copy_data(out, addend.expand(out_shape));
  if (!a.device().is_cuda()) {
    cpu::bmm(out, a, b, /*accumulate=*/addend.defined());
  } else if (bias_row) {
    EMBER_CUDA_KERNEL("linear", cuda::bmm_bias(out, a, b, addend));
  } else {
    EMBER_CUDA_KERNEL("matmul", cuda::bmm(out, a, b, /*accumulate=*/addend.defined()));
  }
  record_backward("bmm", {a, b, addend}, {out}, {a, b}, [](BackwardContext& ctx) -> TensorList {
    // d(a·b)/da = g·bᵀ, d(a·b)/db = aᵀ·g; transposed views reach BLAS without a copy.
    const Tensor& g = ctx.grad(0);
    Tensor grad_a = ctx.needs_grad(0) ? bmm(g, ctx.saved(1).transpose(1, 2)) : Tensor();
    // When b is a transposed view (linear's Wᵀ), its gradient is produced in b's memory order,
    // (gᵀ·a)ᵀ, so it reaches W as a contiguous tensor that AccumulateGrad keeps without a copy.
    const Tensor& b = ctx.saved(1);
    const bool b_transposed = b.size(1) > 1 && b.size(2) > 1 && b.stride(1) == 1;
    Tensor grad_b = !ctx.needs_grad(1) ? Tensor()
                    : b_transposed     ? bmm(g.transpose(1, 2), ctx.saved(0)).transpose(1, 2)
                                       : bmm(ctx.saved(0).transpose(1, 2), g);
    Tensor grad_addend = ctx.needs_grad(2) ? sum_to(g, ctx.input_shape(2)) : Tensor();
    return {grad_a, grad_b, grad_addend};
  });
  return out;
}

void check_inner(const char* op, const Tensor& a, const Tensor& b, int64_t ka, int64_t kb) {
  EMBER_CHECK(ka == kb, "{}: shapes {} and {} cannot be multiplied ({} vs {})", op, a.describe(), b.describe(), ka,
              kb);
}

}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): 16-bit CUDA math, float32 accumulation.
  if (autocast_wants_lower({&a, &b})) return mm(autocast_lower(a), autocast_lower(b));
  EMBER_PROFILE_OP("mm", {a, b}, flops::matmul(a, b));
  check_operands("mm", a, b);
  EMBER_CHECK(a.dim() == 2 && b.dim() == 2, "mm: expected 2-D matrices, got {} and {}", a.describe(), b.describe());
  check_inner("mm", a, b, a.size(1), b.size(0));
  return batched_product(a.unsqueeze(0), b.unsqueeze(0), Tensor()).squeeze(0);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): 16-bit CUDA math, float32 accumulation.
  if (autocast_wants_lower({&a, &b})) return bmm(autocast_lower(a), autocast_lower(b));
  EMBER_PROFILE_OP("bmm", {a, b}, flops::matmul(a, b));
  check_operands("bmm", a, b);
  EMBER_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: expected 3-D tensors, got {} and {}", a.describe(), b.describe());
  EMBER_CHECK(a.size(0) == b.size(0), "bmm: batch sizes differ: {} and {}", a.describe(), b.describe());
  check_inner("bmm", a, b, a.size(2), b.size(1));
  return batched_product(a, b, Tensor());
}

Tensor dot(const Tensor& a, const Tensor& b) {
  EMBER_PROFILE_OP("dot", {a, b}, flops::matmul(a, b));
  check_operands("dot", a, b);
  EMBER_CHECK(a.dim() == 1 && b.dim() == 1, "dot: expected 1-D tensors, got {} and {}", a.describe(), b.describe());
  EMBER_CHECK(a.size(0) == b.size(0), "dot: sizes differ: {} and {}", a.describe(), b.describe());
  return mm(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
}

Tensor outer(const Tensor& a, const Tensor& b) {
  EMBER_PROFILE_OP("outer", {a, b}, {flops::numel(a) * flops::numel(b), flops::bytes_of({a, b}) + flops::output_bytes({a}, flops::numel(a) * flops::numel(b))});
  check_operands("outer", a, b);
  EMBER_CHECK(a.dim() == 1 && b.dim() == 1, "outer: expected 1-D tensors, got {} and {}", a.describe(),
              b.describe());
  return mm(a.unsqueeze(1), b.unsqueeze(0));
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): 16-bit CUDA math, float32 accumulation.
  if (autocast_wants_lower({&a, &b})) return matmul(autocast_lower(a), autocast_lower(b));
  EMBER_PROFILE_OP("matmul", {a, b}, flops::matmul(a, b));
  check_operands("matmul", a, b);
  EMBER_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both arguments need at least 1 dimension, got {} and {}",
              a.describe(), b.describe());
  const int64_t ka = a.size(-1);
  const int64_t kb = b.dim() == 1 ? b.size(0) : b.size(-2);
  check_inner("matmul", a, b, ka, kb);
  if (a.dim() == 1 && b.dim() == 1) return dot(a, b);
  if (a.dim() == 1 && b.dim() == 2) return mm(a.unsqueeze(0), b).squeeze(0);
  if (b.dim() <= 2) {
    // (..., M, K) · (K, N): fold the batch into the rows, one large GEMM.
    Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
    Shape out_shape(a.sizes().begin(), a.sizes().end() - 1);
    if (b.dim() == 2) out_shape.push_back(b.size(1));
    const int64_t rows = numel_of(Shape(a.sizes().begin(), a.sizes().end() - 1));
    return mm(a.reshape({rows, ka}), b2).reshape(out_shape);
  }
  // Batched with broadcasting: (..., M, K) · (..., K, N); a 1-D operand gets a size-1 dim.
  Tensor a3 = a.dim() == 1 ? a.unsqueeze(0) : a;
  Tensor b3 = b.dim() == 1 ? b.unsqueeze(1) : b;
  const Shape batch = broadcast_shapes(Shape(a3.sizes().begin(), a3.sizes().end() - 2),
                                       Shape(b3.sizes().begin(), b3.sizes().end() - 2), "matmul");
  const int64_t M = a3.size(-2), N = b3.size(-1), batch_numel = numel_of(batch);
  Shape a_shape = batch, b_shape = batch;
  a_shape.insert(a_shape.end(), {M, ka});
  b_shape.insert(b_shape.end(), {ka, N});
  // reshape keeps broadcast batches as stride-0 views whenever the batch dims merge.
  Tensor out = bmm(a3.expand(a_shape).reshape({batch_numel, M, ka}), b3.expand(b_shape).reshape({batch_numel, ka, N}));
  Shape out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(M);
  if (b.dim() > 1) out_shape.push_back(N);
  return out.reshape(out_shape);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  // Autocast (engine/autocast.h, Note [Autocast lists]): 16-bit CUDA math, float32 accumulation.
  if (autocast_wants_lower({&x, &weight, &bias})) return linear(autocast_lower(x), autocast_lower(weight), autocast_lower(bias));
  EMBER_PROFILE_OP("linear", {x, weight, bias}, flops::linear(x, weight, bias));
  check_operands("linear", x, weight);
  EMBER_CHECK(weight.dim() == 2, "linear: weight must be 2-D (out, in), got {}", weight.describe());
  EMBER_CHECK(x.dim() >= 1, "linear: input must have at least 1 dimension, got {}", x.describe());
  EMBER_CHECK(x.size(-1) == weight.size(1), "linear: input {} does not match weight {} (in_features {})",
              x.describe(), weight.describe(), weight.size(1));
  if (bias.defined()) {
    check_operands("linear", x, bias);
    EMBER_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear: bias {} does not match weight {}",
                bias.describe(), weight.describe());
  }
  const int64_t in = weight.size(1), out_features = weight.size(0);
  Shape out_shape(x.sizes().begin(), x.sizes().end() - 1);
  out_shape.push_back(out_features);
  // x·Wᵀ with Wᵀ a transposed view (BLAS reads it as is); the bias is fused as the GEMM addend.
  const int64_t rows = numel_of(Shape(x.sizes().begin(), x.sizes().end() - 1));
  Tensor out = batched_product(x.reshape({1, rows, in}), weight.t().unsqueeze(0), bias);
  return out.reshape(out_shape);
}

// ---------------------------------------------------------------- einsum
namespace {

// The diagonal of dims (i, j), i < j, as dim i; dim j is removed. Written as mul-by-eye + sum so
// it is differentiable with existing ops.
Tensor take_diagonal(const Tensor& t, int64_t i, int64_t j) {
  const int64_t n = t.size(i);
  Shape eye_shape(static_cast<size_t>(t.dim()), 1);
  eye_shape[i] = n;
  eye_shape[j] = n;
  return sum(mul(t, eye(n, n, TensorOptions(t.dtype()).device(t.device())).reshape(eye_shape)), {j});
}

struct Labeled {
  Tensor t;
  std::string labels;
};

// Takes diagonals of repeated letters, then sums out letters that neither the output nor the
// other operand needs.
Labeled reduce_operand(Labeled x, const std::string& keep) {
  for (size_t i = 0; i < x.labels.size(); ++i) {
    for (size_t j = x.labels.size(); j-- > i + 1;) {
      if (x.labels[j] == x.labels[i]) {
        x.t = take_diagonal(x.t, static_cast<int64_t>(i), static_cast<int64_t>(j));
        x.labels.erase(j, 1);
      }
    }
  }
  std::vector<int64_t> dims;
  std::string kept;
  for (size_t d = 0; d < x.labels.size(); ++d) {
    if (keep.find(x.labels[d]) == std::string::npos) {
      dims.push_back(static_cast<int64_t>(d));
    } else {
      kept.push_back(x.labels[d]);
    }
  }
  if (!dims.empty()) x.t = sum(x.t, dims);
  x.labels = kept;
  return x;
}

// Permutes `x` so that its labels read `order` (same letters).
Tensor permute_to(const Labeled& x, const std::string& order) {
  std::vector<int64_t> perm;
  for (char c : order) perm.push_back(static_cast<int64_t>(x.labels.find(c)));
  return x.t.permute(perm);
}

}  // namespace

Tensor einsum(const std::string& equation_in, const std::vector<Tensor>& operands) {
  std::string equation;
  for (char c : equation_in)
    if (!std::isspace(static_cast<unsigned char>(c))) equation.push_back(c);
  EMBER_CHECK(equation.find('.') == std::string::npos, "einsum: ellipsis is not supported in '{}'", equation_in);
  const size_t arrow = equation.find("->");
  const std::string lhs = equation.substr(0, arrow);
  std::vector<std::string> terms(1);
  for (char c : lhs) {
    if (c == ',') {
      terms.emplace_back();
    } else {
      terms.back().push_back(c);
    }
  }
  EMBER_CHECK(operands.size() == 1 || operands.size() == 2, "einsum: supports one or two operands, got {}",
              operands.size());
  EMBER_CHECK(terms.size() == operands.size(), "einsum: '{}' names {} operands but {} were given", equation_in,
              terms.size(), operands.size());
  if (operands.size() == 2) check_same_device("einsum", {&operands[0], &operands[1]});
  std::map<char, int64_t> letter_size;
  std::map<char, int> letter_count;
  for (size_t k = 0; k < terms.size(); ++k) {
    check_defined("einsum", operands[k], "operand");
    EMBER_CHECK(static_cast<int64_t>(terms[k].size()) == operands[k].dim(),
                "einsum: subscripts '{}' do not match operand {} of shape {}", terms[k], k, operands[k].describe());
    for (size_t d = 0; d < terms[k].size(); ++d) {
      const char c = terms[k][d];
      EMBER_CHECK(std::isalpha(static_cast<unsigned char>(c)), "einsum: invalid subscript '{}' in '{}'", c,
                  equation_in);
      const int64_t size = operands[k].size(static_cast<int64_t>(d));
      auto [it, inserted] = letter_size.emplace(c, size);
      EMBER_CHECK(inserted || it->second == size, "einsum: subscript '{}' has sizes {} and {} in '{}'", c, it->second,
                  size, equation_in);
      ++letter_count[c];
    }
  }
  std::string output;
  if (arrow == std::string::npos) {
    for (auto [c, count] : letter_count)
      if (count == 1) output.push_back(c);
  } else {
    output = equation.substr(arrow + 2);
    for (size_t i = 0; i < output.size(); ++i) {
      EMBER_CHECK(letter_size.count(output[i]) == 1, "einsum: output subscript '{}' is not in the inputs of '{}'",
                  output[i], equation_in);
      EMBER_CHECK(output.find(output[i]) == i, "einsum: output subscript '{}' repeats in '{}'", output[i],
                  equation_in);
    }
  }
  if (operands.size() == 1) return permute_to(reduce_operand({operands[0], terms[0]}, output), output);

  Labeled a = reduce_operand({operands[0], terms[0]}, output + terms[1]);
  Labeled b = reduce_operand({operands[1], terms[1]}, output + terms[0]);
  // a's letters: batch (in b and output), contracted (in b only), a_only; likewise for b.
  std::string batch, contracted, a_only, b_only;
  for (char c : a.labels) {
    const bool in_b = b.labels.find(c) != std::string::npos;
    const bool in_out = output.find(c) != std::string::npos;
    (in_b ? (in_out ? batch : contracted) : a_only).push_back(c);
  }
  for (char c : b.labels)
    if (a.labels.find(c) == std::string::npos) b_only.push_back(c);
  auto numel_of_letters = [&](const std::string& letters) {
    int64_t n = 1;
    for (char c : letters) n *= letter_size[c];
    return n;
  };
  const int64_t B = numel_of_letters(batch), M = numel_of_letters(a_only), K = numel_of_letters(contracted),
                N = numel_of_letters(b_only);
  Tensor product = bmm(permute_to(a, batch + a_only + contracted).reshape({B, M, K}),
                       permute_to(b, batch + contracted + b_only).reshape({B, K, N}));
  Shape result_shape;
  for (char c : batch + a_only + b_only) result_shape.push_back(letter_size[c]);
  return permute_to({product.reshape(result_shape), batch + a_only + b_only}, output);
}

}  // namespace ember
