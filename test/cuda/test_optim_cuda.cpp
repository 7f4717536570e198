// Fused CUDA optimizer steps (cuda/optim.{h,cpp,cu}): SGD (momentum, dampening, Nesterov, weight
// decay, maximize), Adam, AdamW (AMSGrad) and Lion on CUDA follow their CPU trajectories step by
// step, parameters and state slots alike, over many parameters of awkward sizes (more than one
// multi-tensor batch of 16). Everywhere: an optimizer without a CUDA step refuses a CUDA parameter
// (checked on a GPU), and the CPU path is unchanged (test/optim).
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "ember.h"
#include "helpers.h"
#include "optim/optimizer.h"
#include "test/cuda/device_test.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

// 19 parameters (one more than a batch of 16 plus a few), sizes 1 ... 5000.
std::vector<Tensor> make_params(DType dtype, Device device) {
  Generator gen(7);
  std::vector<Tensor> params;
  for (int64_t k = 0; k < 19; ++k) {
    const int64_t n = k == 0 ? 1 : (k * 263) % 5000 + 1;
    params.push_back(randn({n}, gen, dtype).to(device).requires_grad_(true));
  }
  return params;
}

void check_same_trajectory(const std::string& name, const std::map<std::string, double>& options, DType dtype) {
  INFO(name << " " << dtype_name(dtype));
  std::vector<Tensor> host = make_params(dtype, Device::cpu()), device = make_params(dtype, Device::cuda());
  auto host_opt = optim::make_optimizer(name, {{host, {}, ""}}, options);
  auto device_opt = optim::make_optimizer(name, {{device, {}, ""}}, options);
  Generator gen(11);
  for (int step = 0; step < 5; ++step) {
    for (size_t k = 0; k < host.size(); ++k) {
      const Tensor g = randn(host[k].sizes(), gen, dtype);
      host[k].set_grad(g);
      device[k].set_grad(g.cuda());
    }
    host_opt->step();
    device_opt->step();
  }
  const double rtol = dtype == DType::f64 ? 1e-12 : 1e-5, atol = dtype == DType::f64 ? 1e-13 : 1e-6;
  for (size_t k = 0; k < host.size(); ++k) {
    INFO("parameter " << k << " " << host[k].describe());
    CHECK(all_close(values(device[k].detach().cpu()), values(host[k].detach()), rtol, atol));
  }
  const auto host_state = host_opt->state_dict(), device_state = device_opt->state_dict();
  REQUIRE(host_state.tensors.size() == device_state.tensors.size());
  for (const auto& [key, t] : host_state.tensors) {
    INFO("state " << key);
    REQUIRE(device_state.tensors.count(key) == 1);
    CHECK(device_state.tensors.at(key).device().is_cuda());
    CHECK(all_close(values(device_state.tensors.at(key).cpu()), values(t), rtol, atol));
  }
}

}  // namespace

DEVICE_TEST_CASE("cuda optim: fused SGD follows the CPU (plain, momentum, dampening, Nesterov, maximize)") {
  for (DType dtype : {DType::f32, DType::f64}) {
    check_same_trajectory("sgd", {{"lr", 0.1}}, dtype);
    check_same_trajectory("sgd", {{"lr", 0.1}, {"momentum", 0.9}, {"weight_decay", 1e-2}}, dtype);
    check_same_trajectory("sgd", {{"lr", 0.05}, {"momentum", 0.8}, {"dampening", 0.3}, {"maximize", 1}}, dtype);
    check_same_trajectory("sgd", {{"lr", 0.1}, {"momentum", 0.9}, {"nesterov", 1}, {"weight_decay", 5e-4}}, dtype);
  }
}

DEVICE_TEST_CASE("cuda optim: fused Adam, AdamW (AMSGrad) and Lion follow the CPU") {
  for (DType dtype : {DType::f32, DType::f64}) {
    check_same_trajectory("adam", {{"lr", 1e-2}, {"weight_decay", 1e-2}}, dtype);
    check_same_trajectory("adamw", {{"lr", 1e-2}, {"weight_decay", 0.05}}, dtype);
    check_same_trajectory("adamw", {{"lr", 1e-2}, {"amsgrad", 1}, {"maximize", 1}}, dtype);
    check_same_trajectory("lion", {{"lr", 1e-3}, {"weight_decay", 0.1}}, dtype);
  }
}

DEVICE_TEST_CASE("cuda optim: an optimizer without a CUDA step refuses CUDA parameters clearly") {
  Tensor w = ones({3}, Device::cuda()).requires_grad_(true);
  w.set_grad(ones({3}, Device::cuda()));
  auto opt = optim::make_optimizer("radam", {{{w}, {}, ""}}, {{"lr", 1e-3}});
  CHECK_THROWS_WITH(opt->step(), Catch::Contains("radam") && Catch::Contains("no CUDA step"));
  CHECK(values(w.detach().cpu()) == std::vector<double>(3, 1.0));  // untouched
}

DEVICE_TEST_CASE("cuda optim: state_dict round trip puts the slots back on the parameters' device") {
  std::vector<Tensor> params = make_params(DType::f32, Device::cuda());
  auto opt = optim::make_optimizer("adamw", {{params, {}, ""}}, {{"lr", 1e-3}});
  for (const Tensor& p : params) Tensor(p).set_grad(ones_like(p));
  opt->step();
  const auto saved = opt->state_dict();
  auto restored = optim::make_optimizer("adamw", {{params, {}, ""}}, {{"lr", 1e-3}});
  optim::OptimizerState from_disk = saved;
  for (auto& [key, t] : from_disk.tensors) t = t.cpu();  // as if read from a file
  restored->load_state_dict(from_disk);
  for (const auto& [key, t] : restored->state_dict().tensors) CHECK(t.device().is_cuda());
}
