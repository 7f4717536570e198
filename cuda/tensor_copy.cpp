// cuda/tensor_copy.h. A copy across the PCIe bus moves one contiguous block of the source's dtype;
// strides and dtype conversion are then done on the GPU (cuda/copy.cu) or by the CPU copy
// (engine/copy.cpp), whichever side is not contiguous.
#include "cuda/tensor_copy.h"

#include "cuda/copy.h"
#include "cuda/tensor_args.h"
#include "engine/copy.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

size_t bytes_of(const Tensor& t) { return static_cast<size_t>(t.numel()) * t.element_size(); }

// A contiguous tensor with t's dtype and values on `device` (t itself when it already is one).
Tensor dense_on(const Tensor& t, Device device) {
  if (t.device() == device && t.is_contiguous()) return t;
  Tensor out = make_tensor(t.sizes(), t.dtype(), device);
  copy_tensor(out, t);
  return out;
}

void copy_on_device(const Tensor& dst, const Tensor& src) {
  DeviceGuard guard(dst.device().index);
  copy_strided(dst.raw_data(), scalar_type(dst.dtype()), layout_of(dst, "copy"), src.raw_data(),
               scalar_type(src.dtype()), layout_of(src, "copy"), stream_of(dst));
}

}  // namespace

void copy_tensor(const Tensor& dst, const Tensor& src) {
  EMBER_CHECK(dst.sizes() == src.sizes(), "copy: destination shape {} differs from source shape {}",
              shape_str(dst.sizes()), shape_str(src.sizes()));
  if (dst.numel() == 0) return;
  const Device from = src.device(), to = dst.device();
  if (from.is_cpu() && to.is_cpu()) return copy_data(dst, src);
  if (from.is_cuda() && to.is_cuda()) {
    if (from == to) return copy_on_device(dst, src);
    // Between two GPUs: through the host (rare here; peer copies can come with multi-GPU work).
    return copy_tensor(dst, dense_on(src, Device::cpu()));
  }
  if (to.is_cuda()) {  // host -> device: one dense block of src's dtype, then strides/dtype on the GPU
    const Tensor host = dense_on(src, Device::cpu());
    const bool direct = dst.is_contiguous() && dst.dtype() == src.dtype();
    const Tensor staged = direct ? dst : make_tensor(src.sizes(), src.dtype(), to);
    copy_to_device(staged.raw_data(), host.raw_data(), bytes_of(host), stream_of(staged));
    if (!direct) copy_on_device(dst, staged);
    return;
  }
  // device -> host: one dense block of src's dtype, then strides/dtype on the CPU
  const Tensor device_dense = dense_on(src, from);
  const bool direct = dst.is_contiguous() && dst.dtype() == src.dtype();
  const Tensor host = direct ? dst : make_tensor(src.sizes(), src.dtype(), Device::cpu());
  copy_to_host(host.raw_data(), device_dense.raw_data(), bytes_of(device_dense), stream_of(device_dense));
  if (!direct) copy_data(dst, host);
}

void fill_tensor(const Tensor& dst, double value) {
  DeviceGuard guard(dst.device().index);
  fill_strided(dst.raw_data(), scalar_type(dst.dtype()), layout_of(dst, "fill"), value, stream_of(dst));
}

double read_tensor_element(const Tensor& t, int64_t linear_index) {
  EMBER_CHECK(linear_index >= 0 && linear_index < t.numel(), "read_element: index {} out of range for {}",
              linear_index, t.describe());
  const StridedLayout layout = layout_of(t, "read_element");
  Tensor one = make_tensor({}, t.dtype(), Device::cpu());
  const char* element = static_cast<const char*>(t.raw_data()) + layout.offset_of(linear_index) * t.element_size();
  copy_to_host(one.raw_data(), element, t.element_size(), stream_of(t));
  return read_element(one, 0);
}

}  // namespace ember::cuda
