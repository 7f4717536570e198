// GradScaler (optim/grad_scaler.h) and the autocast state (engine/autocast.h) on the CPU: scaling
// and unscaling are exact for a power-of-two scale, an inf or NaN gradient skips the step and
// backs the scale off, clean steps grow it, the state round-trips, and a scaled SGD run follows
// the unscaled one bit for bit. Autocast leaves CPU tensors alone (it is a CUDA feature); its
// effect on CUDA tensors is checked in test/cuda/test_autocast.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "ember.h"
#include "helpers.h"
#include "optim/grad_scaler.h"
#include "optim/sgd.h"

using namespace ember;
using ember::test::values;

namespace {

// loss = sum((x·w - y)^2) for a fixed small problem.
Tensor regression_loss(const Tensor& w) {
  const Tensor x = from_vector<double>({1, 2, 3, -1, 0.5, 2}, {3, 2});
  const Tensor y = from_vector<double>({1, -2, 0.5}, {3, 1});
  const Tensor r = sub(matmul(x, w), y);
  return sum(mul(r, r));
}

}  // namespace

TEST_CASE("grad scaler: scale then unscale_ gives the true gradients exactly", "[optim][grad_scaler]") {
  Tensor w = from_vector<double>({0.3, -0.7}, {2, 1}).requires_grad_(true);
  regression_loss(w).backward();
  const std::vector<double> expected = values(w.grad());
  w.set_grad(Tensor());

  optim::GradScaler scaler({/*init_scale=*/1024.0});
  const Tensor scaled = scaler.scale(regression_loss(w));
  CHECK(scaled.item<double>() == Approx(1024.0 * regression_loss(w).item<double>()));
  scaled.backward();
  CHECK(values(w.grad())[0] == expected[0] * 1024.0);
  optim::SGD sgd({{{w}, {}, ""}}, {{"lr", 0.1}});
  scaler.unscale_(sgd);
  CHECK(values(w.grad()) == expected);  // a power-of-two scale divides exactly
  CHECK_THROWS_WITH(scaler.unscale_(sgd), Catch::Contains("already called"));
  CHECK(scaler.step(sgd));  // does not unscale again
  CHECK(values(w.detach())[0] == Approx(0.3 - 0.1 * expected[0]));
  scaler.update();
  CHECK(scaler.get_scale() == 1024.0);
  CHECK(scaler.growth_tracker() == 1);
}

TEST_CASE("grad scaler: an inf or NaN gradient skips the step and backs the scale off", "[optim][grad_scaler]") {
  for (double bad : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    Tensor w = from_vector<double>({1.0, 2.0, 3.0}, {3}).requires_grad_(true);
    Tensor v = from_vector<double>({5.0}, {1}).requires_grad_(true);
    optim::SGD sgd({{{w, v}, {}, ""}}, {{"lr", 0.5}});
    optim::GradScaler scaler({/*init_scale=*/256.0, /*growth_factor=*/2.0, /*backoff_factor=*/0.25, /*growth_interval=*/2});
    w.set_grad(from_vector<double>({1.0, bad, 1.0}, {3}));
    v.set_grad(from_vector<double>({1.0}, {1}));
    CHECK_FALSE(scaler.step(sgd));
    CHECK(values(w.detach()) == std::vector<double>{1.0, 2.0, 3.0});  // untouched, both parameters
    CHECK(values(v.detach()) == std::vector<double>{5.0});
    scaler.update();
    CHECK(scaler.get_scale() == 64.0);
    CHECK(scaler.growth_tracker() == 0);
  }
}

TEST_CASE("grad scaler: growth after growth_interval clean steps, never to inf", "[optim][grad_scaler]") {
  Tensor w = from_vector<double>({1.0}, {1}).requires_grad_(true);
  optim::SGD sgd({{{w}, {}, ""}}, {{"lr", 0.0}});
  optim::GradScaler scaler({/*init_scale=*/8.0, 2.0, 0.5, /*growth_interval=*/3});
  const double expected_scales[] = {8, 8, 16, 16, 16, 32};
  for (double expected : expected_scales) {
    w.set_grad(ones({1}, DType::f64));
    CHECK(scaler.step(sgd));
    scaler.update();
    CHECK(scaler.get_scale() == expected);
  }
  optim::GradScaler huge({std::numeric_limits<double>::max(), 2.0, 0.5, 1});
  w.set_grad(ones({1}, DType::f64));
  huge.step(sgd);
  huge.update();
  CHECK(huge.get_scale() == std::numeric_limits<double>::max());
}

TEST_CASE("grad scaler: a scaled SGD run follows the unscaled one bit for bit", "[optim][grad_scaler]") {
  Tensor plain = from_vector<double>({0.3, -0.7}, {2, 1}).requires_grad_(true);
  Tensor scaled = plain.detach().clone().requires_grad_(true);
  optim::SGD plain_sgd({{{plain}, {}, ""}}, {{"lr", 0.01}, {"momentum", 0.9}});
  optim::SGD scaled_sgd({{{scaled}, {}, ""}}, {{"lr", 0.01}, {"momentum", 0.9}});
  optim::GradScaler scaler({/*init_scale=*/4096.0, 2.0, 0.5, /*growth_interval=*/2});
  for (int step = 0; step < 6; ++step) {
    plain_sgd.zero_grad();
    regression_loss(plain).backward();
    plain_sgd.step();
    scaled_sgd.zero_grad();
    scaler.scale(regression_loss(scaled)).backward();
    CHECK(scaler.step(scaled_sgd));
    scaler.update();
  }
  CHECK(values(scaled.detach()) == values(plain.detach()));
  CHECK(scaler.get_scale() == 4096.0 * 8);  // grew at steps 2, 4, 6
}

TEST_CASE("grad scaler: disabled passes through; state round trip; bad options", "[optim][grad_scaler]") {
  optim::GradScaler off({65536.0, 2.0, 0.5, 2000, /*enabled=*/false});
  const Tensor loss = full({}, 3.0, DType::f64);
  CHECK(off.scale(loss).item<double>() == 3.0);
  Tensor w = from_vector<double>({1.0}, {1}).requires_grad_(true);
  optim::SGD sgd({{{w}, {}, ""}}, {{"lr", 1.0}});
  w.set_grad(full({1}, std::numeric_limits<double>::infinity(), DType::f64));
  CHECK(off.step(sgd));  // no overflow check when disabled

  optim::GradScaler a({128.0, 2.0, 0.5, 5});
  w.set_grad(ones({1}, DType::f64));
  a.step(sgd);
  a.update();
  optim::GradScaler b;
  b.load_state_dict(a.state_dict());
  CHECK(b.get_scale() == 128.0);
  CHECK(b.growth_tracker() == 1);
  CHECK(b.state_dict() == a.state_dict());
  CHECK_THROWS_WITH(b.load_state_dict(nlohmann::json{{"scale", -1.0}, {"growth_tracker", 0}}),
                    Catch::Contains("not positive"));
  CHECK_THROWS_WITH(optim::GradScaler({0.0}), Catch::Contains("init_scale"));
  CHECK_THROWS_WITH(optim::GradScaler({1.0, 0.5}), Catch::Contains("growth_factor"));
  CHECK_THROWS_WITH(optim::GradScaler({1.0, 2.0, 1.0}), Catch::Contains("backoff_factor"));
  CHECK_THROWS_WITH(optim::GradScaler({1.0, 2.0, 0.5, 0}), Catch::Contains("growth_interval"));
}

TEST_CASE("autocast: the guard nests and restores; CPU tensors are never cast", "[optim][autocast]") {
  CHECK_FALSE(autocast_state().enabled);
  {
    AutocastGuard on;
    CHECK(autocast_state().enabled);
    CHECK(autocast_state().dtype == DType::bf16);
    {
      AutocastGuard half(true, DType::f16);
      CHECK(autocast_state().dtype == DType::f16);
      AutocastGuard off(false);
      CHECK_FALSE(autocast_state().enabled);
    }
    CHECK(autocast_state().dtype == DType::bf16);
    const Tensor x = ones({2, 3}), w = ones({4, 3});
    CHECK(linear(x, w, Tensor()).dtype() == DType::f32);  // CPU: untouched
    CHECK_FALSE(autocast_wants_lower({&x, &w}));
    CHECK(autocast_lower(x).dtype() == DType::f32);
    const Tensor h = ones({2}, DType::bf16);
    CHECK(autocast_fp32(h).dtype() == DType::bf16);
  }
  CHECK_FALSE(autocast_state().enabled);
  CHECK_THROWS_WITH(AutocastGuard(true, DType::f32), Catch::Contains("autocast") && Catch::Contains("float32"));
}
