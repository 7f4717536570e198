// cuda/pool.h: Tensors and window tables -> the launchers of cuda/pool.cu. Each axis's
// PoolWindows (and, for the adjoint, which windows read each input position) is packed on the
// host and copied to the device per call: a few hundred bytes.
#include "cuda/pool.h"

#include <limits>

#include "cuda/index.h"
#include "cuda/pool_launch.h"
#include "cuda/runtime.h"
#include "cuda/sort_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"
#include "engine/factories.h"

namespace ember::cuda {

namespace {

// An axis's tables on the device (kept alive until the launch is queued; the caching allocator
// hands their blocks to later work on the same stream only).
struct DeviceAxis {
  Tensor ints, scales;
  AxisWindows view;
};

DeviceAxis upload_axis(const PoolWindows& w, Device device, bool with_readers) {
  const int64_t outputs = w.output_size(), inputs = w.input_size;
  std::vector<int64_t> ints(w.start.begin(), w.start.end());
  ints.insert(ints.end(), w.end.begin(), w.end.end());
  if (with_readers) {
    // Counting sort of the windows by the input positions they read (ascending within each).
    std::vector<int64_t> offsets(static_cast<size_t>(inputs) + 1, 0);
    for (int64_t o = 0; o < outputs; ++o)
      for (int64_t p = w.start[o]; p < w.end[o]; p += w.step) ++offsets[p + 1];
    for (int64_t p = 0; p < inputs; ++p) offsets[p + 1] += offsets[p];
    std::vector<int64_t> readers(static_cast<size_t>(offsets.back()));
    std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
    for (int64_t o = 0; o < outputs; ++o)
      for (int64_t p = w.start[o]; p < w.end[o]; p += w.step) readers[next[p]++] = o;
    ints.insert(ints.end(), offsets.begin(), offsets.end());
    ints.insert(ints.end(), readers.begin(), readers.end());
  }
  DeviceAxis axis;
  axis.ints = from_vector(ints, {static_cast<int64_t>(ints.size())}).to(device);
  axis.scales = from_vector(w.scale, {outputs}).to(device);
  const int64_t* base = axis.ints.data_ptr<int64_t>();
  axis.view.start = base;
  axis.view.end = base + outputs;
  axis.view.scale = axis.scales.data_ptr<double>();
  axis.view.step = w.step;
  axis.view.input_size = inputs;
  axis.view.output_size = outputs;
  if (with_readers) {
    axis.view.reader_offsets = base + 2 * outputs;
    axis.view.readers = base + 2 * outputs + inputs + 1;
  }
  return axis;
}

int64_t planes_of(const Tensor& x, const PoolWindows& rows, const PoolWindows& cols) {
  const int64_t plane = rows.input_size * cols.input_size;
  return plane > 0 ? x.numel() / plane : 0;
}

}  // namespace

void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, const PoolWindows& rows,
                const PoolWindows& cols) {
  DeviceGuard guard(common_cuda_device("max_pool2d", {&out, &indices, &x}));
  const DeviceAxis r = upload_axis(rows, x.device(), false), c = upload_axis(cols, x.device(), false);
  cuda::max_pool2d(out.raw_data(), indices.data_ptr<int64_t>(), x.raw_data(), scalar_type(x.dtype()),
                   planes_of(x, rows, cols), r.view, c.view, stream_of(x));
}

void avg_pool2d(const Tensor& out, const Tensor& x, const PoolWindows& rows, const PoolWindows& cols) {
  DeviceGuard guard(common_cuda_device("avg_pool2d", {&out, &x}));
  const DeviceAxis r = upload_axis(rows, x.device(), false), c = upload_axis(cols, x.device(), false);
  cuda::avg_pool2d(out.raw_data(), x.raw_data(), scalar_type(x.dtype()), planes_of(x, rows, cols), r.view, c.view,
                   stream_of(x));
}

void avg_pool2d_adjoint(const Tensor& grad_input, const Tensor& grad, const PoolWindows& rows,
                        const PoolWindows& cols) {
  DeviceGuard guard(common_cuda_device("avg_pool2d_backward", {&grad_input, &grad}));
  const DeviceAxis r = upload_axis(rows, grad.device(), true), c = upload_axis(cols, grad.device(), true);
  cuda::avg_pool2d_adjoint(grad_input.raw_data(), grad.raw_data(), scalar_type(grad.dtype()),
                           planes_of(grad_input, rows, cols), r.view, c.view, stream_of(grad));
}

bool plane_scatter_add(const Tensor& out, const Tensor& src, const Tensor& indices) {
  // src, indices: (B, Q) -> out: (B, P)
  const char* op = "max_pool_scatter";
  DeviceGuard guard(common_cuda_device(op, {&out, &src, &indices}));
  const int64_t B = src.size(0), Q = src.size(1), P = out.size(1);
  if (cuda::first_outside(indices, 0, P)) return false;
  EMBER_CHECK(B * Q < std::numeric_limits<int>::max() && P <= std::numeric_limits<uint32_t>::max(),
              "{}: CUDA kernel takes fewer than 2^31 indices and planes below 2^32 elements, got {} and {}", op,
              indices.describe(), out.describe());
  const Stream stream = stream_of(out);
  const int64_t items = B * Q;
  // Workspace: keys in/out (uint32), positions in/out (int64), plane offsets (int), CUB's storage.
  const auto round_up = [](int64_t bytes) { return (bytes + 255) / 256 * 256; };
  const int64_t key_bytes = round_up(items * 4), position_bytes = round_up(items * 8), offset_bytes = round_up((B + 1) * 4);
  const auto cub_bytes = static_cast<int64_t>(segmented_sort_bytes(4, items, B));
  const Tensor workspace =
      make_tensor({2 * key_bytes + 2 * position_bytes + offset_bytes + cub_bytes}, DType::u8, out.device());
  char* p = static_cast<char*>(workspace.raw_data());
  auto* keys_in = reinterpret_cast<uint32_t*>(p);
  auto* keys_out = reinterpret_cast<uint32_t*>(p + key_bytes);
  auto* positions_in = reinterpret_cast<int64_t*>(p + 2 * key_bytes);
  auto* positions_out = reinterpret_cast<int64_t*>(p + 2 * key_bytes + position_bytes);
  int* offsets = reinterpret_cast<int*>(p + 2 * key_bytes + 2 * position_bytes);
  void* temp = p + 2 * key_bytes + 2 * position_bytes + offset_bytes;
  if (items > 0) {
    plane_scatter_keys(keys_in, positions_in, offsets, indices.data_ptr<int64_t>(), B, Q, stream);
    segmented_stable_sort(4, keys_in, keys_out, positions_in, positions_out, items, B, offsets, temp,
                          static_cast<size_t>(cub_bytes), stream);
  }
  plane_sum_runs(out.raw_data(), src.raw_data(), scalar_type(out.dtype()), keys_out, positions_out, B, P, Q, stream);
  return true;
}

bool plane_gather(const Tensor& out, const Tensor& x, const Tensor& indices) {
  // x: (B, P), indices: (B, Q) -> out: (B, Q)
  DeviceGuard guard(common_cuda_device("max_pool_gather", {&out, &x, &indices}));
  const int64_t B = out.size(0), Q = out.size(1), P = x.size(1);
  if (cuda::first_outside(indices, 0, P)) return false;
  cuda::plane_gather(out.raw_data(), x.raw_data(), scalar_type(x.dtype()), indices.data_ptr<int64_t>(), B, P, Q,
                     stream_of(out));
  return true;
}

}  // namespace ember::cuda
