// Reductions over any set of dims (empty list = all dims), with keepdim.
// Twins: ops/cpu/reduce.cpp (kernels, Note [Reduction layout] in ops/cpu/reduce.h),
// autograd/derivatives/reduce.md (formulas). Scans and sorting are in ops/sort.h.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace ember {

// What max/min over a dim, sort and topk return: `auto [values, indices] = max(x, 1);`.
// Indices are int64 and carry no gradient.
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};

// Sum: bool and integer inputs sum into int64; float32 accumulates in double.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Product (integers into int64). The backward handles zeros exactly (see reduce.cpp).
Tensor prod(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

// Variance with Bessel-style `correction` (1 = unbiased, like torch.var). When N - correction <= 0
// the result is inf, or NaN where every value is equal (PyTorch's semantics).
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1.0, bool keepdim = false);
// Standard deviation, sqrt(var). Call it `ember::std(x)`: after `using namespace ember` a bare
// `std(x)` is ambiguous with namespace std (torch::std has the same wrinkle).
Tensor std(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1.0, bool keepdim = false);
// (var, mean) in one pass.
std::pair<Tensor, Tensor> var_mean(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1.0,
                                   bool keepdim = false);

// Max/min over one dim: values and the index of the first extreme (NaN is the extreme).
// The gradient goes to that index only.
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
// Max/min over all elements (0-d); the gradient is split evenly among ties.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
// Max/min over dims; the gradient is split evenly among ties (as torch.amax).
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Index of the first max/min along `dim`, or in the flattened input when no dim is given
// (keepdim then keeps every dim as size 1). int64.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

// log(sum(exp(x))) computed stably (a running maximum; exp never overflows). Empty -> -inf.
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

// Vector norm over dims: p = 1, 2 or infinity (std::numeric_limits<double>::infinity()).
// The p = 2 gradient at x = 0 is 0 (not NaN); p = 1 uses sign(x) (0 at 0); p = inf splits the
// gradient evenly among the elements of largest magnitude.
Tensor norm(const Tensor& x, double p = 2.0, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// norm(x, "fro", dims): the Frobenius norm, i.e. p = 2 over dims.
Tensor norm(const Tensor& x, const std::string& p, const std::vector<int64_t>& dims = {}, bool keepdim = false);

// Logical reductions (any dtype; nonzero is true) into bool, and the count of nonzeros (int64).
Tensor all(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor any(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor count_nonzero(const Tensor& x, const std::vector<int64_t>& dims = {});

}  // namespace ember
