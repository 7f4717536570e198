// Shape ops that copy: cat, stack, pad, flip, roll, repeat/tile, tril/triu; and the view-returning
// split, chunk, unbind, movedim. Twins: ops/cpu/shape.cpp (kernels), autograd/derivatives/shape.md
// (formulas). The single-output views (reshape, permute, slice, ...) are in ops/view.h.
#pragma once
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace ember {

// Joins tensors along an existing dim; dtypes promote as in PyTorch (result_type over all).
Tensor cat(const TensorList& tensors, int64_t dim = 0);
// Joins equal-shaped tensors along a new dim.
Tensor stack(const TensorList& tensors, int64_t dim = 0);

// Views of consecutive pieces along `dim` sharing x's storage; one backward node joins them.
TensorList split(const Tensor& x, int64_t split_size, int64_t dim = 0);  // last piece may be shorter
TensorList split(const Tensor& x, const std::vector<int64_t>& split_sizes, int64_t dim = 0);
TensorList chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);  // pieces of ceil(size / chunks)
TensorList unbind(const Tensor& x, int64_t dim = 0);                 // removes `dim`

// torch.nn.functional.pad: pads = (last_left, last_right, second_last_left, ...). mode is
// "constant" (negative pads crop), "reflect" (pad < size), "replicate" or "circular" (pad <= size).
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode = "constant",
           double value = 0.0);

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);
// Rolls each dim dims[i] by shifts[i]; with no dims, rolls the flattened tensor by shifts[0].
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims = {});
Tensor roll(const Tensor& x, int64_t shift, int64_t dim);
// Tiles x repeats[d] times along each dim (torch.Tensor.repeat: repeats.size() >= x.dim()).
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);
// torch.tile: like repeat, but fewer reps than dims are padded with leading 1s.
Tensor tile(const Tensor& x, const std::vector<int64_t>& reps);

// Keeps elements on and below (tril) / on and above (triu) the `diagonal`-th diagonal of the last
// two dims; zeros elsewhere. diagonal > 0 is above the main diagonal.
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);

// Moves dims source[i] to position destination[i]; the others keep their order. A view.
Tensor movedim(const Tensor& x, const std::vector<int64_t>& source, const std::vector<int64_t>& destination);
Tensor movedim(const Tensor& x, int64_t source, int64_t destination);

}  // namespace ember
