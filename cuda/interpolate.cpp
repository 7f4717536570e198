// cuda/interpolate.h: the CPU's tap tables (cpu::make_taps) and their transposes, packed and
// copied to the device per call, then the launchers of cuda/interpolate.cu.
#include "cuda/interpolate.h"

#include "cuda/interpolate_launch.h"
#include "cuda/runtime.h"
#include "cuda/tensor_args.h"
#include "engine/factories.h"

namespace ember::cuda {

namespace {

// One axis's tables on the device; the tensors stay alive until the launch is queued.
struct DeviceTable {
  Tensor ints, weights;
  InterpTable view;
};

DeviceTable upload_table(const InterpPlan& plan, const cpu::InterpAxis& axis, Device device) {
  const cpu::InterpTaps taps = cpu::make_taps(plan.mode, plan.align_corners, axis);
  const int64_t taps_total = static_cast<int64_t>(taps.index.size());
  // Transpose: for each input index, the (output, weight) pairs that read it, by ascending output.
  std::vector<int64_t> offsets(static_cast<size_t>(axis.in) + 1, 0);
  for (int64_t i : taps.index) ++offsets[i + 1];
  for (int64_t i = 0; i < axis.in; ++i) offsets[i + 1] += offsets[i];
  std::vector<int64_t> readers(static_cast<size_t>(taps_total));
  std::vector<double> reader_weights(static_cast<size_t>(taps_total));
  std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
  for (int64_t t = 0; t < taps_total; ++t) {
    const int64_t slot = next[taps.index[t]]++;
    readers[slot] = t / taps.count;
    reader_weights[slot] = taps.weight[t];
  }
  std::vector<int64_t> ints(taps.index);
  ints.insert(ints.end(), offsets.begin(), offsets.end());
  ints.insert(ints.end(), readers.begin(), readers.end());
  std::vector<double> weights(taps.weight);
  weights.insert(weights.end(), reader_weights.begin(), reader_weights.end());
  DeviceTable table;
  table.ints = from_vector(ints, {static_cast<int64_t>(ints.size())}).to(device);
  table.weights = from_vector(weights, {static_cast<int64_t>(weights.size())}).to(device);
  const int64_t* i = table.ints.data_ptr<int64_t>();
  const double* w = table.weights.data_ptr<double>();
  table.view.index = i;
  table.view.weight = w;
  table.view.count = taps.count;
  table.view.in = axis.in;
  table.view.out = axis.out;
  table.view.reader_offsets = i + taps_total;
  table.view.readers = i + taps_total + axis.in + 1;
  table.view.reader_weights = w + taps_total;
  return table;
}

}  // namespace

void interpolate_fwd(const Tensor& out, const Tensor& x, const InterpPlan& plan) {
  DeviceGuard guard(common_cuda_device("interpolate", {&out, &x}));
  const DeviceTable h = upload_table(plan, plan.h, x.device()), w = upload_table(plan, plan.w, x.device());
  cuda::interpolate_fwd(out.raw_data(), x.raw_data(), scalar_type(x.dtype()), x.size(0), h.view, w.view,
                        stream_of(x));
}

void interpolate_adjoint(const Tensor& grad_in, const Tensor& grad, const InterpPlan& plan) {
  DeviceGuard guard(common_cuda_device("interpolate_backward", {&grad_in, &grad}));
  const DeviceTable h = upload_table(plan, plan.h, grad.device()), w = upload_table(plan, plan.w, grad.device());
  cuda::interpolate_adjoint(grad_in.raw_data(), grad.raw_data(), scalar_type(grad.dtype()), grad.size(0), h.view,
                            w.view, stream_of(grad));
}

}  // namespace ember::cuda
