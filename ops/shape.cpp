// Shape ops that copy or split: API, checks, dispatch and backward side by side.
// Kernels: ops/cpu/shape.cpp. Formulas: autograd/derivatives/shape.md.
//
// Pad, flip, roll and repeat are all gathers through per-dim index maps (Note [Index maps],
// ops/cpu/shape.h), so one kernel serves them. Their backwards are the cheapest differentiable
// inverse: flip -> flip, roll -> roll back, constant pad -> pad with negated pads (a slice),
// repeat -> sum over the tiles, and reflect/replicate/circular pad -> their adjoint `pad_backward`,
// which accumulates the border positions back into the input and is itself differentiable.
#include "ops/shape.h"

#include <algorithm>
#include <memory>
#include <numeric>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "cuda/shape.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/shape.h"
#include "ops/flops.h"
#include "ops/reduce.h"
#include "ops/view.h"

namespace ember {

namespace {

using MapsPtr = std::shared_ptr<const cpu::IndexMaps>;

// Note [CUDA dispatch]: every op here runs on the CPU or on one GPU (cuda/shape.h).
void check_input(const char* op, const Tensor& x) { check_defined(op, x, "input"); }

// The device of the first defined gradient (a backward gets at least one).
Device device_of_grads(const BackwardContext& ctx, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (ctx.grad(i).defined()) return ctx.grad(i).device();
  return Device::cpu();
}

std::vector<int64_t> identity_map(int64_t n) {
  std::vector<int64_t> map(static_cast<size_t>(n));
  std::iota(map.begin(), map.end(), int64_t{0});
  return map;
}

cpu::IndexMaps identity_maps(const Shape& sizes) {
  cpu::IndexMaps maps;
  for (int64_t n : sizes) maps.push_back(identity_map(n));
  return maps;
}

// The gather of Note [Index maps] into a new tensor, without autograd.
Tensor gather_through_maps(const Tensor& x, const cpu::IndexMaps& maps, double fill) {
  Shape out_shape;
  for (const auto& map : maps) out_shape.push_back(static_cast<int64_t>(map.size()));
  Tensor out = empty(out_shape, TensorOptions(x.dtype()).device(x.device()));
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("gather_by_maps", cuda::gather_by_maps(out, x, maps, fill)); else cpu::gather_by_maps(out, x, maps, fill);
  return out;
}

Tensor maps_adjoint(const std::string& op, const Tensor& grad, const MapsPtr& maps, const Shape& input_shape);

// A gather through `maps` whose backward is the generic adjoint (reflect/replicate/circular pad).
Tensor maps_gather(const std::string& op, const Tensor& x, const MapsPtr& maps) {
  Tensor out = gather_through_maps(x, *maps, 0.0);
  record_backward(op, {x}, {out}, {}, [op, maps](BackwardContext& ctx) -> TensorList {
    return {maps_adjoint(op, ctx.grad(0), maps, ctx.input_shape(0))};
  });
  return out;
}

// grad_input[maps(i)] += grad[i]: the adjoint of maps_gather, named "<op>_backward". Its own
// backward is the gather again (the adjoint of the adjoint), so double backward works.
Tensor maps_adjoint(const std::string& op, const Tensor& grad, const MapsPtr& maps, const Shape& input_shape) {
  EMBER_PROFILE_OP(op + "_backward", {grad}, flops::movement({grad}, flops::numel_of_shape(input_shape)));
  Tensor out = zeros(input_shape, TensorOptions(grad.dtype()).device(grad.device()));
  if (grad.device().is_cuda()) EMBER_CUDA_KERNEL(op.c_str(), cuda::scatter_add_by_maps(out, grad.detach(), *maps)); else cpu::scatter_add_by_maps(out, grad.detach(), *maps);
  record_backward(op + "_backward", {grad}, {out}, {}, [op, maps](BackwardContext& ctx) -> TensorList {
    return {maps_gather(op, ctx.grad(0), maps)};
  });
  return out;
}

std::vector<int64_t> negated(std::vector<int64_t> values) {
  for (auto& v : values) v = -v;
  return values;
}

// Pieces of x along `dim` as views sharing its storage; one node joins their grads with cat.
TensorList split_views(const char* op, const Tensor& x, const std::vector<int64_t>& lengths, int64_t dim) {
  TensorList pieces;
  int64_t start = 0;
  for (int64_t length : lengths) {
    Shape sizes = x.sizes();
    sizes[dim] = length;
    pieces.push_back(make_view(x, sizes, x.strides(), x.offset() + start * x.stride(dim)));
    start += length;
  }
  record_backward(op, {x}, pieces, {}, [lengths, dim](BackwardContext& ctx) -> TensorList {
    TensorList grads;
    const Device device = device_of_grads(ctx, lengths.size());
    for (size_t i = 0; i < lengths.size(); ++i) {
      Tensor g = ctx.grad(i);
      if (!g.defined()) {
        Shape sizes = ctx.input_shape(0);
        sizes[dim] = lengths[i];
        g = zeros(sizes, TensorOptions(ctx.input_dtype(0)).device(device));
      }
      grads.push_back(g);
    }
    return {cat(grads, dim)};
  });
  return pieces;
}

Tensor triangle(const char* op, const Tensor& x, int64_t diagonal, bool lower) {
  EMBER_PROFILE_OP(op, {x}, flops::movement({x}, flops::numel(x)));
  check_input(op, x);
  EMBER_CHECK(x.dim() >= 2, "{}: expects a tensor with at least 2 dims, got {}", op, x.describe());
  Tensor out = empty(x.sizes(), TensorOptions(x.dtype()).device(x.device()));
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::triangle(out, x.detach().contiguous(), diagonal, lower)); else cpu::triangle(out, x.detach().contiguous(), diagonal, lower);
  record_backward(op, {x}, {out}, {}, [diagonal, lower](BackwardContext& ctx) -> TensorList {
    return {lower ? tril(ctx.grad(0), diagonal) : triu(ctx.grad(0), diagonal)};
  });
  return out;
}

}  // namespace

// ---------------------------------------------------------------- cat / stack
Tensor cat(const TensorList& tensors, int64_t dim_in) {
  EMBER_PROFILE_OP("cat", {tensors.empty() ? Tensor() : tensors[0]}, flops::concatenation(tensors));
  EMBER_CHECK(!tensors.empty(), "cat: expects a non-empty list of tensors");
  for (const Tensor& t : tensors) check_input("cat", t);
  const Tensor& first = tensors[0];
  for (const Tensor& t : tensors) check_same_device("cat", {&first, &t});
  EMBER_CHECK(first.dim() > 0, "cat: zero-dimensional tensor {} cannot be concatenated", first.describe());
  const int64_t dim = wrap_dim(dim_in, first.dim(), "cat");
  DType dtype = first.dtype();
  Shape out_shape = first.sizes();
  out_shape[dim] = 0;
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    EMBER_CHECK(t.dim() == first.dim(), "cat: tensor {} is {} but tensor 0 is {}; all need the same number of dims",
                i, t.describe(), first.describe());
    for (int64_t d = 0; d < t.dim(); ++d) {
      EMBER_CHECK(d == dim || t.size(d) == first.size(d),
                  "cat: sizes must match except in dim {}; tensor {} is {} but tensor 0 is {}", dim, i, t.describe(),
                  first.describe());
    }
    dtype = promote_types(dtype, t.dtype());
    lengths.push_back(t.size(dim));
    out_shape[dim] += t.size(dim);
  }
  Tensor out = empty(out_shape, TensorOptions(dtype).device(first.device()));
  {
    NoGradGuard no_grad;
    int64_t offset = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (lengths[i] > 0) {
        const Tensor part = out.narrow(dim, offset, lengths[i]);
        if (first.device().is_cuda()) EMBER_CUDA_KERNEL("cat", cuda::copy_into(part, tensors[i].detach())); else cpu::copy_into(part, tensors[i].detach());
      }
      offset += lengths[i];
    }
  }
  record_backward("cat", tensors, {out}, {}, [dim, lengths](BackwardContext& ctx) -> TensorList {
    TensorList grads(lengths.size());
    int64_t offset = 0;
    for (size_t i = 0; i < lengths.size(); ++i) {
      if (ctx.needs_grad(i)) grads[i] = ctx.grad(0).narrow(dim, offset, lengths[i]);
      offset += lengths[i];
    }
    return grads;
  });
  return out;
}

Tensor stack(const TensorList& tensors, int64_t dim_in) {
  EMBER_PROFILE_OP("stack", {tensors.empty() ? Tensor() : tensors[0]}, flops::concatenation(tensors));
  EMBER_CHECK(!tensors.empty(), "stack: expects a non-empty list of tensors");
  for (const Tensor& t : tensors) check_input("stack", t);
  const int64_t dim = wrap_dim(dim_in, tensors[0].dim() + 1, "stack");
  TensorList parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    EMBER_CHECK(tensors[i].sizes() == tensors[0].sizes(),
                "stack: expects tensors of equal size, but got {} at entry 0 and {} at entry {}",
                tensors[0].describe(), tensors[i].describe(), i);
    parts.push_back(tensors[i].unsqueeze(dim));
  }
  return cat(parts, dim);
}

// ---------------------------------------------------------------- split / chunk / unbind
TensorList split(const Tensor& x, int64_t split_size, int64_t dim_in) {
  check_input("split", x);
  EMBER_CHECK(x.dim() > 0, "split: cannot split a 0-d tensor");
  const int64_t dim = wrap_dim(dim_in, x.dim(), "split");
  const int64_t n = x.size(dim);
  EMBER_CHECK(split_size > 0 || (split_size == 0 && n == 0),
              "split: split_size must be positive, got {} for dim {} of {}", split_size, dim, x.describe());
  std::vector<int64_t> lengths;
  if (n == 0) lengths.push_back(0);
  for (int64_t start = 0; start < n; start += split_size) lengths.push_back(std::min(split_size, n - start));
  return split_views("split", x, lengths, dim);
}

TensorList split(const Tensor& x, const std::vector<int64_t>& split_sizes, int64_t dim_in) {
  check_input("split", x);
  EMBER_CHECK(x.dim() > 0, "split: cannot split a 0-d tensor");
  const int64_t dim = wrap_dim(dim_in, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : split_sizes) {
    EMBER_CHECK(s >= 0, "split: split sizes must be non-negative, got {}", shape_str(split_sizes));
    total += s;
  }
  EMBER_CHECK(total == x.size(dim), "split: split sizes {} sum to {} but dim {} of {} has size {}",
              shape_str(split_sizes), total, dim, x.describe(), x.size(dim));
  return split_views("split", x, split_sizes, dim);
}

TensorList chunk(const Tensor& x, int64_t chunks, int64_t dim_in) {
  check_input("chunk", x);
  EMBER_CHECK(chunks > 0, "chunk: number of chunks must be positive, got {}", chunks);
  EMBER_CHECK(x.dim() > 0, "chunk: cannot chunk a 0-d tensor");
  const int64_t dim = wrap_dim(dim_in, x.dim(), "chunk");
  const int64_t n = x.size(dim);
  return split(x, (n + chunks - 1) / chunks, dim);
}

TensorList unbind(const Tensor& x, int64_t dim_in) {
  check_input("unbind", x);
  EMBER_CHECK(x.dim() > 0, "unbind: cannot unbind a 0-d tensor");
  const int64_t dim = wrap_dim(dim_in, x.dim(), "unbind");
  const int64_t n = x.size(dim);
  if (n == 0) return {};
  Shape sizes = x.sizes(), strides = x.strides();
  sizes.erase(sizes.begin() + dim);
  strides.erase(strides.begin() + dim);
  TensorList slices;
  for (int64_t i = 0; i < n; ++i) slices.push_back(make_view(x, sizes, strides, x.offset() + i * x.stride(dim)));
  record_backward("unbind", {x}, slices, {}, [n, dim](BackwardContext& ctx) -> TensorList {
    TensorList grads;
    const Device device = device_of_grads(ctx, static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      Tensor g = ctx.grad(i);
      if (!g.defined()) {
        Shape slice_shape = ctx.input_shape(0);
        slice_shape.erase(slice_shape.begin() + dim);
        g = zeros(slice_shape, TensorOptions(ctx.input_dtype(0)).device(device));
      }
      grads.push_back(g);
    }
    return {stack(grads, dim)};
  });
  return slices;
}

// ---------------------------------------------------------------- pad
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode, double value) {
  EMBER_PROFILE_OP("pad", {x}, flops::movement({x}, flops::numel(x)));
  check_input("pad", x);
  enum class Border { constant, reflect, replicate, circular };
  Border border = Border::constant;
  if (mode == "reflect") {
    border = Border::reflect;
  } else if (mode == "replicate") {
    border = Border::replicate;
  } else if (mode == "circular") {
    border = Border::circular;
  } else {
    EMBER_CHECK(mode == "constant", "pad: unknown mode '{}' (expected constant, reflect, replicate or circular)", mode);
  }
  const bool constant = border == Border::constant;
  EMBER_CHECK(constant || value == 0.0, "pad: mode '{}' takes no fill value, got {}", mode, value);
  EMBER_CHECK(pads.size() % 2 == 0, "pad: pads must come in (left, right) pairs, got {} values {}", pads.size(),
              shape_str(pads));
  const int64_t padded_dims = static_cast<int64_t>(pads.size()) / 2;
  EMBER_CHECK(padded_dims <= x.dim(), "pad: {} pairs of pads {} for input {} with only {} dims", padded_dims,
              shape_str(pads), x.describe(), x.dim());
  cpu::IndexMaps maps = identity_maps(x.sizes());
  for (int64_t pair = 0; pair < padded_dims; ++pair) {
    const int64_t d = x.dim() - 1 - pair;
    const int64_t left = pads[2 * pair], right = pads[2 * pair + 1];
    const int64_t n = x.size(d);
    const int64_t out_n = n + left + right;
    EMBER_CHECK(out_n >= 0, "pad: pads ({}, {}) on dim {} of {} give a negative size {}", left, right, d,
                x.describe(), out_n);
    if (border == Border::reflect) {
      EMBER_CHECK(left < n && right < n, "pad: reflect pads ({}, {}) must be smaller than dim {} of size {} in {}",
                  left, right, d, n, x.describe());
    } else if (border == Border::replicate) {
      EMBER_CHECK(n > 0 || out_n == 0, "pad: replicate padding of the empty dim {} in {}", d, x.describe());
    } else if (border == Border::circular) {
      EMBER_CHECK(left <= n && right <= n,
                  "pad: circular pads ({}, {}) must be at most dim {} of size {} in {}", left, right, d, n,
                  x.describe());
    }
    std::vector<int64_t>& map = maps[d];
    map.assign(static_cast<size_t>(out_n), -1);
    for (int64_t i = 0; i < out_n; ++i) {
      int64_t j = i - left;  // the input index before the border rule
      if (border == Border::reflect) {
        if (j < 0) j = -j;
        if (j >= n) j = 2 * (n - 1) - j;
      } else if (border == Border::replicate) {
        j = std::clamp<int64_t>(j, 0, n - 1);
      } else if (border == Border::circular) {
        j = ((j % n) + n) % n;
      }
      map[i] = (j >= 0 && j < n) ? j : -1;
    }
  }
  if (!constant) return maps_gather("pad", x, std::make_shared<const cpu::IndexMaps>(std::move(maps)));
  Tensor out = gather_through_maps(x, maps, value);
  // The adjoint of constant padding is cropping (and of cropping, zero padding): pad with -pads.
  record_backward("pad", {x}, {out}, {}, [inverse = negated(pads)](BackwardContext& ctx) -> TensorList {
    return {pad(ctx.grad(0), inverse, "constant", 0.0)};
  });
  return out;
}

// ---------------------------------------------------------------- flip / roll
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims_in) {
  EMBER_PROFILE_OP("flip", {x}, flops::movement({x}, flops::numel(x)));
  check_input("flip", x);
  cpu::IndexMaps maps = identity_maps(x.sizes());
  if (!dims_in.empty()) {
    for (int64_t d : wrap_dims(dims_in, x.dim(), "flip"))
      if (x.dim() > 0) std::reverse(maps[d].begin(), maps[d].end());
  }
  Tensor out = gather_through_maps(x, maps, 0.0);
  record_backward("flip", {x}, {out}, {}, [dims_in](BackwardContext& ctx) -> TensorList {
    return {flip(ctx.grad(0), dims_in)};
  });
  return out;
}

Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims) {
  EMBER_PROFILE_OP("roll", {x}, flops::movement({x}, flops::numel(x)));
  check_input("roll", x);
  if (dims.empty()) {
    EMBER_CHECK(shifts.size() == 1, "roll: without dims, exactly one shift is expected, got {}", shape_str(shifts));
    return roll(x.flatten(), shifts, std::vector<int64_t>{0}).reshape(x.sizes());
  }
  EMBER_CHECK(shifts.size() == dims.size(), "roll: {} shifts {} for {} dims {}", shifts.size(), shape_str(shifts),
              dims.size(), shape_str(dims));
  EMBER_CHECK(x.dim() > 0, "roll: cannot roll a 0-d tensor along dims {}", shape_str(dims));
  std::vector<int64_t> total_shift(static_cast<size_t>(x.dim()), 0);
  for (size_t i = 0; i < dims.size(); ++i) total_shift[wrap_dim(dims[i], x.dim(), "roll")] += shifts[i];
  cpu::IndexMaps maps = identity_maps(x.sizes());
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t n = x.size(d);
    if (n == 0) continue;
    const int64_t shift = ((total_shift[d] % n) + n) % n;
    for (int64_t i = 0; i < n; ++i) maps[d][i] = (i - shift + n) % n;  // out[i] = x[i - shift]
  }
  Tensor out = gather_through_maps(x, maps, 0.0);
  record_backward("roll", {x}, {out}, {}, [back = negated(shifts), dims](BackwardContext& ctx) -> TensorList {
    return {roll(ctx.grad(0), back, dims)};
  });
  return out;
}

Tensor roll(const Tensor& x, int64_t shift, int64_t dim) {
  return roll(x, std::vector<int64_t>{shift}, std::vector<int64_t>{dim});
}

// ---------------------------------------------------------------- repeat / tile
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  EMBER_PROFILE_OP("repeat", {x}, {});
  check_input("repeat", x);
  const int64_t n = static_cast<int64_t>(repeats.size());
  EMBER_CHECK(n >= x.dim(), "repeat: {} repeats {} for input {}; need at least one per dim", n,
              shape_str(repeats), x.describe());
  for (int64_t r : repeats)
    EMBER_CHECK(r >= 0, "repeat: repeats must be non-negative, got {}", shape_str(repeats));
  Shape padded(static_cast<size_t>(n - x.dim()), 1);
  padded.insert(padded.end(), x.sizes().begin(), x.sizes().end());
  const Tensor base = x.reshape(padded);  // a view: new leading dims of size 1
  cpu::IndexMaps maps(static_cast<size_t>(n));
  for (int64_t d = 0; d < n; ++d) {
    maps[d].resize(static_cast<size_t>(padded[d] * repeats[d]));
    for (int64_t i = 0; i < static_cast<int64_t>(maps[d].size()); ++i) maps[d][i] = i % padded[d];
  }
  Tensor out = gather_through_maps(base, maps, 0.0);
  record_backward("repeat", {base}, {out}, {}, [repeats](BackwardContext& ctx) -> TensorList {
    // grad: (r0 * s0, r1 * s1, ...) -> (r0, s0, r1, s1, ...) summed over the tile dims r.
    const Shape& in_shape = ctx.input_shape(0);
    Shape interleaved;
    std::vector<int64_t> tile_dims;
    for (size_t d = 0; d < repeats.size(); ++d) {
      interleaved.push_back(repeats[d]);
      interleaved.push_back(in_shape[d]);
      tile_dims.push_back(static_cast<int64_t>(2 * d));
    }
    if (tile_dims.empty()) return {ctx.grad(0)};
    return {sum(ctx.grad(0).reshape(interleaved), tile_dims)};
  });
  return out;
}

Tensor tile(const Tensor& x, const std::vector<int64_t>& reps) {
  check_input("tile", x);
  std::vector<int64_t> repeats = reps;
  if (static_cast<int64_t>(repeats.size()) < x.dim()) repeats.insert(repeats.begin(), x.dim() - repeats.size(), 1);
  return repeat(x, repeats);
}

// ---------------------------------------------------------------- tril / triu
Tensor tril(const Tensor& x, int64_t diagonal) { return triangle("tril", x, diagonal, /*lower=*/true); }
Tensor triu(const Tensor& x, int64_t diagonal) { return triangle("triu", x, diagonal, /*lower=*/false); }

// ---------------------------------------------------------------- movedim
Tensor movedim(const Tensor& x, const std::vector<int64_t>& source, const std::vector<int64_t>& destination) {
  check_input("movedim", x);
  EMBER_CHECK(source.size() == destination.size(), "movedim: {} source dims {} but {} destination dims {}",
              source.size(), shape_str(source), destination.size(), shape_str(destination));
  const int64_t n = x.dim();
  if (n == 0) {
    for (size_t i = 0; i < source.size(); ++i) {
      wrap_dim(source[i], n, "movedim");
      wrap_dim(destination[i], n, "movedim");
    }
    return x;
  }
  std::vector<int64_t> perm(static_cast<size_t>(n), -1);
  std::vector<bool> source_used(static_cast<size_t>(n), false);
  for (size_t i = 0; i < source.size(); ++i) {
    const int64_t s = wrap_dim(source[i], n, "movedim");
    const int64_t d = wrap_dim(destination[i], n, "movedim");
    EMBER_CHECK(!source_used[s], "movedim: repeated dim in source {}", shape_str(source));
    EMBER_CHECK(perm[d] < 0, "movedim: repeated dim in destination {}", shape_str(destination));
    perm[d] = s;
    source_used[s] = true;
  }
  int64_t next_source = 0;
  for (int64_t position = 0; position < n; ++position) {
    if (perm[position] >= 0) continue;
    while (source_used[next_source]) ++next_source;
    perm[position] = next_source++;
  }
  return x.permute(perm);
}

Tensor movedim(const Tensor& x, int64_t source, int64_t destination) {
  return movedim(x, std::vector<int64_t>{source}, std::vector<int64_t>{destination});
}

}  // namespace ember
