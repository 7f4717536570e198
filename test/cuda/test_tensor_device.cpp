// Tensors on a CUDA device: storage from the caching allocator, copies host <-> device and
// device <-> device with any strides and dtype conversion (cuda/tensor_copy.cpp, cuda/copy.cu),
// fill, item, printing, and the gradient of .to(device). Every value is checked against the same
// operation on the CPU. Cases that run everywhere check the errors a machine without a GPU gives.
#include <catch2/catch.hpp>

#include <string>

#include "ember.h"
#include "helpers.h"
#include "test/cuda/device_test.h"

using namespace ember;
using ember::test::values;

TEST_CASE("cuda tensors: without a device, making one is a clear error", "[cuda]") {
  if (cuda::device_count() > 0) return;  // the device cases below cover this machine
  const std::string why = EMBER_WITH_CUDA ? "no CUDA device is available" : "built without CUDA";
  const Tensor x = ones({2, 3});
  CHECK_THROWS_WITH(x.to(Device::cuda()), Catch::Contains(why));
  CHECK_THROWS_WITH(zeros({4}, Device::cuda()), Catch::Contains(why));
  CHECK_THROWS_WITH(x.cuda(), Catch::Contains(why));
  // The CPU tensor is untouched by the failed move.
  CHECK(values(x) == std::vector<double>(6, 1.0));
}

namespace {

// A (3, 5) tensor of `dtype` with distinct values (small integers fit every dtype exactly).
Tensor sample(DType dtype) { return (arange(0, 15, 1, DType::f64).reshape({3, 5}) - 7.0).to(dtype); }

const DType all_dtypes[] = {DType::f32, DType::f64, DType::i64, DType::i32, DType::bf16, DType::f16, DType::bool_};

}  // namespace

DEVICE_TEST_CASE("cuda tensors: host -> device -> host round trip for every dtype") {
  for (DType dtype : all_dtypes) {
    INFO(dtype_name(dtype));
    const Tensor host = sample(dtype);
    const Tensor device = host.to(Device::cuda());
    CHECK(device.device() == Device::cuda());
    CHECK(device.dtype() == dtype);
    CHECK(device.sizes() == host.sizes());
    CHECK(values(device.cpu()) == values(host));
    CHECK(values(device) == values(host));  // read_element straight from the device
  }
  const Tensor bytes = from_vector<uint8_t>({0, 1, 200, 255}, {4});
  CHECK(values(bytes.cuda().cpu()) == values(bytes));
}

DEVICE_TEST_CASE("cuda tensors: strided views copy correctly both ways and on the device") {
  const Tensor host = arange(0, 60, 1, DType::f32).reshape({3, 4, 5});
  const Tensor transposed = host.transpose(0, 2);      // (5, 4, 3), not contiguous
  const Tensor sliced = host.slice(1, 1, 4, 2);        // every other row
  for (const Tensor& view : {transposed, sliced}) {
    CHECK(values(view.cuda().cpu()) == values(view));  // non-contiguous source, host -> device
    const Tensor on_device = host.cuda();
    const Tensor device_view = view.data_ptr<float>() == transposed.data_ptr<float>() ? on_device.transpose(0, 2)
                                                                                      : on_device.slice(1, 1, 4, 2);
    CHECK_FALSE(device_view.is_contiguous());
    CHECK(values(device_view.cpu()) == values(view));        // non-contiguous device -> host
    CHECK(values(device_view.contiguous().cpu()) == values(view));  // strided copy kernel on the device
  }
}

DEVICE_TEST_CASE("cuda tensors: dtype conversion on the device matches the CPU") {
  for (DType from : all_dtypes) {
    for (DType to : all_dtypes) {
      INFO(dtype_name(from) << " -> " << dtype_name(to));
      const Tensor host = sample(from);
      CHECK(values(host.cuda().to(to).cpu()) == values(host.to(to)));
    }
  }
}

DEVICE_TEST_CASE("cuda tensors: factories, fill and item on the device") {
  const Tensor z = zeros({7, 3}, Device::cuda());
  CHECK(z.device().is_cuda());
  CHECK(values(z) == std::vector<double>(21, 0.0));
  const Tensor f = full({5}, 2.5, TensorOptions(Device::cuda()).dtype(DType::f64));
  CHECK(values(f) == std::vector<double>(5, 2.5));
  CHECK(f.slice(0, 2, 3).item<double>() == 2.5);
  CHECK(full({1}, 3, TensorOptions(Device::cuda()).dtype(DType::i64)).item<int64_t>() == 3);
  const Tensor half = full({3}, 1.0 / 3.0, TensorOptions(Device::cuda()).dtype(DType::bf16));
  CHECK(values(half) == values(full({3}, 1.0 / 3.0, DType::bf16)));
  CHECK(to_string(ones({2}, Device::cuda())).find("device=cuda:0") != std::string::npos);
}

DEVICE_TEST_CASE("cuda tensors: the gradient of .to(device) moves back") {
  const Tensor x = arange(0, 6, 1, DType::f64).reshape({2, 3}).requires_grad_(true);
  const Tensor round_trip = x.cuda().cpu();
  CHECK(round_trip.requires_grad());
  sum(mul(round_trip, round_trip)).backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().device().is_cpu());
  CHECK(values(x.grad()) == values(mul(x.detach(), 2.0)));
}

DEVICE_TEST_CASE("cuda tensors: storage comes from the device's caching allocator and returns to it") {
  cuda::synchronize_device();
  const size_t before = cuda::memory_stats().allocated_bytes;
  {
    const Tensor big = empty({1024, 1024}, Device::cuda());
    CHECK(cuda::memory_stats().allocated_bytes >= before + 4 * 1024 * 1024);
  }
  CHECK(cuda::memory_stats().allocated_bytes == before);
}
