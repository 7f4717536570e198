// cuda/index.h: Tensors -> the indexed gather/scatter launchers of cuda/index.cu.
// index_select and index_add are the gather / scatter-add of a 1-d index expanded along `dim`.
#include "cuda/index.h"

#include "cuda/index_launch.h"
#include "cuda/runtime.h"
#include "cuda/tensor_args.h"
#include "engine/copy.h"
#include "engine/factories.h"
#include "ops/cpu/index.h"

namespace ember::cuda {

namespace {

// A 1-d index of length sizes[dim] seen with `sizes`: stride 0 everywhere but along dim.
StridedLayout expanded_index(const Tensor& index, const Shape& sizes, int64_t dim) {
  StridedLayout layout = layout_of(index);
  layout.ndim = static_cast<int>(sizes.size());
  layout.numel = numel_of(sizes);
  for (int d = 0; d < layout.ndim; ++d) {
    layout.sizes[d] = sizes[d];
    layout.strides[d] = d == dim ? index.stride(0) : 0;
  }
  layout.contiguous = false;
  return layout;
}

IndexedOperands operands(const Tensor& index, const StridedLayout& index_layout, const Tensor& value,
                         const Tensor& target, int64_t dim, const char* op) {
  IndexedOperands ops;
  ops.index = index.data_ptr<int64_t>();
  ops.index_layout = index_layout;
  if (value.defined()) {
    ops.value = value.raw_data();
    ops.value_layout = layout_of(value, op);
  }
  ops.target = target.raw_data();
  ops.target_layout = layout_of(target, op);
  ops.dim = static_cast<int>(dim);
  return ops;
}

}  // namespace

std::optional<int64_t> first_outside(const Tensor& index, int64_t low, int64_t high) {
  const int device = common_cuda_device("index range check", {&index});
  DeviceGuard guard(device);
  const int64_t n = index.numel();
  if (n == 0) return std::nullopt;
  Tensor first = full({1}, static_cast<double>(n), TensorOptions(DType::i64).device(index.device()));
  first_outside_position(index.data_ptr<int64_t>(), n, low, high, first.data_ptr<int64_t>(), stream_of(index));
  const auto position = static_cast<int64_t>(read_element(first, 0));  // synchronizes
  if (position >= n) return std::nullopt;
  return static_cast<int64_t>(read_element(index, position));
}

int64_t max_value(const Tensor& index) { return cpu::max_value(index.cpu()); }

Tensor true_positions(const Tensor& mask) { return cpu::true_positions(mask.cpu()).to(mask.device()); }

void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  DeviceGuard guard(common_cuda_device("gather", {&out, &x, &index}));
  indexed_gather(operands(index, layout_of(index, "gather"), out, x, dim, "gather"), scalar_type(out.dtype()),
                 stream_of(out));
}

void scatter(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate) {
  DeviceGuard guard(common_cuda_device("scatter", {&out, &index, &src}));
  indexed_scatter(operands(index, layout_of(index, "scatter"), src, out, dim, "scatter"), scalar_type(out.dtype()),
                  accumulate ? ScatterMode::add : ScatterMode::assign, 1.0, 0.0, stream_of(out));
}

void scatter_fill(const Tensor& out, int64_t dim, const Tensor& index, double value) {
  DeviceGuard guard(common_cuda_device("scatter", {&out, &index}));
  indexed_scatter(operands(index, layout_of(index, "scatter"), Tensor(), out, dim, "scatter"),
                  scalar_type(out.dtype()), ScatterMode::fill, 1.0, value, stream_of(out));
}

void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  DeviceGuard guard(common_cuda_device("index_select", {&out, &x, &index}));
  indexed_gather(operands(index, expanded_index(index, out.sizes(), dim), out, x, dim, "index_select"),
                 scalar_type(out.dtype()), stream_of(out));
}

void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, double alpha) {
  DeviceGuard guard(common_cuda_device("index_add", {&out, &index, &src}));
  indexed_scatter(operands(index, expanded_index(index, src.sizes(), dim), src, out, dim, "index_add"),
                  scalar_type(out.dtype()), ScatterMode::add, alpha, 0.0, stream_of(out));
}

void one_hot(const Tensor& out, const Tensor& indices) {
  DeviceGuard guard(common_cuda_device("one_hot", {&out, &indices}));
  cuda::one_hot(out.data_ptr<int64_t>(), indices.data_ptr<int64_t>(), indices.numel(), out.size(out.dim() - 1),
                stream_of(out));
}

}  // namespace ember::cuda
