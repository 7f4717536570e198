// Mixed precision on CUDA (engine/autocast.h, optim/grad_scaler.h): inside an AutocastGuard the
// lower-precision ops return the autocast dtype and the float32 ops float32, gradients reach the
// float32 parameters in float32, and a float16 training loop with a GradScaler learns like the
// float32 one. The CPU-side behaviour is in test/optim/test_grad_scaler.cpp.
#include <catch2/catch.hpp>

#include "ember.h"
#include "helpers.h"
#include "optim/grad_scaler.h"
#include "optim/sgd.h"
#include "test/cuda/device_test.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

DEVICE_TEST_CASE("cuda autocast: op lists pick the dtype; gradients reach float32 parameters") {
  Generator gen(3);
  const Tensor x = randn({8, 16}, gen).cuda();
  const Tensor w = randn({4, 16}, gen).cuda().requires_grad_(true);
  const Tensor b = randn({4}, gen).cuda().requires_grad_(true);
  for (DType half : {DType::bf16, DType::f16}) {
    INFO(dtype_name(half));
    AutocastGuard autocast(true, half);
    const Tensor y = linear(x, w, b);
    CHECK(y.dtype() == half);
    CHECK(matmul(x, w.t()).dtype() == half);
    const Tensor p = softmax(y, -1);
    CHECK(p.dtype() == DType::f32);
    CHECK(layer_norm(y, {4}, Tensor(), Tensor()).dtype() == DType::f32);
    const Tensor loss = cross_entropy(y, from_vector<int64_t>({0, 1, 2, 3, 0, 1, 2, 3}, {8}).cuda());
    CHECK(loss.dtype() == DType::f32);
    const TensorList grads = autograd::grad({loss}, {w, b});
    CHECK(grads[0].dtype() == DType::f32);
    CHECK(grads[1].dtype() == DType::f32);
    // The same loss in float32 without autocast: close to the 16-bit one.
    AutocastGuard off(false);
    const Tensor reference = cross_entropy(linear(x, w, b), from_vector<int64_t>({0, 1, 2, 3, 0, 1, 2, 3}, {8}).cuda());
    CHECK(loss.item<double>() == Approx(reference.item<double>()).epsilon(half == DType::bf16 ? 3e-2 : 5e-3));
  }
}

DEVICE_TEST_CASE("cuda autocast: a float16 loop with GradScaler learns like float32") {
  Generator gen(5);
  const Tensor x = randn({64, 10}, gen).cuda();
  const Tensor true_w = randn({1, 10}, gen).cuda();
  const Tensor y = matmul(x, true_w.t());
  auto train = [&](bool mixed) {
    Generator init(9);
    Tensor w = mul(randn({1, 10}, init), 0.1).cuda().requires_grad_(true);
    optim::SGD sgd({{{w}, {}, ""}}, {{"lr", 0.05}});
    optim::GradScaler scaler({1024.0, 2.0, 0.5, 10, /*enabled=*/mixed});
    double last = 0;
    for (int step = 0; step < 60; ++step) {
      sgd.zero_grad();
      Tensor loss;
      {
        AutocastGuard autocast(mixed, DType::f16);
        loss = mse_loss(linear(x, w, Tensor()), y, "mean");
      }
      scaler.scale(loss).backward();
      scaler.step(sgd);
      scaler.update();
      last = loss.item<double>();
    }
    CHECK(w.dtype() == DType::f32);
    return last;
  };
  const double fp32 = train(false), fp16 = train(true);
  CHECK(fp16 < 1e-2);
  CHECK(fp16 == Approx(fp32).margin(5e-3));
}
