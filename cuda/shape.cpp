// cuda/shape.h: Tensors and index maps -> the launchers of cuda/shape.cu. The maps (and the
// adjoint's reader tables) are packed into one int64 buffer on the host and copied to the device.
#include "cuda/shape.h"

#include "cuda/runtime.h"
#include "cuda/shape_launch.h"
#include "cuda/tensor_args.h"
#include "cuda/tensor_copy.h"
#include "engine/error.h"
#include "engine/factories.h"

namespace ember::cuda {

namespace {

Tensor upload(const std::vector<int64_t>& values, Device device) {
  return from_vector(values, {static_cast<int64_t>(values.size())}).to(device);
}

void check_dims(const char* op, size_t ndim) {
  EMBER_CHECK(ndim <= static_cast<size_t>(StridedLayout::kMaxDims), "{}: CUDA kernels take at most {} dims, got {}",
              op, StridedLayout::kMaxDims, ndim);
}

}  // namespace

void copy_into(const Tensor& dst, const Tensor& src) { copy_tensor(dst, src); }

void gather_by_maps(const Tensor& out, const Tensor& x, const IndexMaps& maps, double fill) {
  if (out.numel() == 0) return;
  if (maps.empty()) return copy_tensor(out, x);  // 0-d
  check_dims("gather_by_maps", maps.size());
  DeviceGuard guard(common_cuda_device("gather_by_maps", {&out, &x}));
  MapsGather g;
  g.ndim = static_cast<int>(maps.size());
  g.numel = out.numel();
  std::vector<int64_t> packed;
  for (int d = 0; d < g.ndim; ++d) {
    g.sizes[d] = static_cast<int64_t>(maps[d].size());
    g.map_start[d] = static_cast<int64_t>(packed.size());
    g.x_strides[d] = x.stride(d);
    packed.insert(packed.end(), maps[d].begin(), maps[d].end());
  }
  const Tensor table = upload(packed, out.device());
  cuda::gather_by_maps(out.raw_data(), x.raw_data(), scalar_type(out.dtype()), g, table.data_ptr<int64_t>(), fill,
                       stream_of(out));
}

void scatter_add_by_maps(const Tensor& out, const Tensor& grad, const IndexMaps& maps) {
  if (out.numel() == 0 || grad.numel() == 0) return;
  if (maps.empty()) return copy_tensor(out, grad);
  check_dims("scatter_add_by_maps", maps.size());
  DeviceGuard guard(common_cuda_device("scatter_add_by_maps", {&out, &grad}));
  MapsAdjoint a;
  a.ndim = static_cast<int>(maps.size());
  a.numel = out.numel();
  std::vector<int64_t> packed;
  for (int d = 0; d < a.ndim; ++d) {
    const int64_t in_size = out.size(d);
    a.sizes[d] = in_size;
    a.grad_strides[d] = grad.stride(d);
    // Counting sort of the output indices by the input index they read: ascending within each.
    std::vector<int64_t> offsets(static_cast<size_t>(in_size) + 1, 0);
    for (int64_t source : maps[d])
      if (source >= 0) ++offsets[source + 1];
    for (int64_t j = 0; j < in_size; ++j) offsets[j + 1] += offsets[j];
    std::vector<int64_t> lists(static_cast<size_t>(offsets.back()));
    std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
    for (int64_t i = 0; i < static_cast<int64_t>(maps[d].size()); ++i)
      if (maps[d][i] >= 0) lists[next[maps[d][i]]++] = i;
    a.offset_start[d] = static_cast<int64_t>(packed.size());
    packed.insert(packed.end(), offsets.begin(), offsets.end());
    a.list_start[d] = static_cast<int64_t>(packed.size());
    packed.insert(packed.end(), lists.begin(), lists.end());
  }
  const Tensor table = upload(packed, out.device());
  cuda::scatter_add_by_maps(out.raw_data(), grad.raw_data(), scalar_type(out.dtype()), a, table.data_ptr<int64_t>(),
                            stream_of(out));
}

void triangle(const Tensor& out, const Tensor& x, int64_t diagonal, bool lower) {
  if (out.numel() == 0) return;
  DeviceGuard guard(common_cuda_device("triangle", {&out, &x}));
  cuda::triangle(out.raw_data(), x.raw_data(), scalar_type(out.dtype()), out.numel(), x.size(x.dim() - 2),
                 x.size(x.dim() - 1), diagonal, lower, stream_of(out));
}

}  // namespace ember::cuda
