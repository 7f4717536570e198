// Shared by the optimizer tests (test/optim/test_*.cpp): the PyTorch fixtures written by
// scripts/make_optim_fixtures.py (test/optim/fixtures/*.json; EMBER_SOURCE_DIR comes from
// test/meson.build), the fixtures' tiny problem, and the 20-step trajectory + state-dict round trip
// check every optimizer with a PyTorch twin runs; the scalar helpers of the hand-worked cases.
#pragma once
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helpers.h"
#include "optim/optimizer.h"

namespace ember::test {

// A float leaf of shape (1) for the hand-worked cases, and a single group holding it.
inline Tensor scalar_param(double value, DType dtype = DType::f64) {
  return from_vector(std::vector<double>{value}, {1}, TensorOptions(dtype).requires_grad(true));
}
inline std::vector<optim::ParamGroup> one_group(const Tensor& w) { return {optim::ParamGroup{{w}, {}, ""}}; }

// Steps with the given gradients (not depending on w); returns w after each step.
inline std::vector<double> steps_with_grads(optim::Optimizer& opt, Tensor& w, const std::vector<double>& grads) {
  std::vector<double> out;
  for (double g : grads) {
    w.set_grad(from_vector(std::vector<double>{g}, {1}, TensorOptions(w.dtype())));
    opt.step();
    out.push_back(w.item<double>());
  }
  return out;
}

inline nlohmann::json load_optim_fixture(const std::string& file) {
  const std::string path = std::string(EMBER_SOURCE_DIR) + "/test/optim/fixtures/" + file;
  std::ifstream in(path);
  INFO("fixture " << path << " (regenerate: /usr/bin/python3 scripts/make_optim_fixtures.py)");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// The fixtures' parameters (fresh leaves with the starting values) in `dtype`.
inline std::vector<Tensor> problem_params(const nlohmann::json& problem, DType dtype) {
  std::vector<Tensor> params;
  for (size_t i = 0; i < problem["shapes"].size(); ++i) {
    params.push_back(from_vector(problem["init"][i].get<std::vector<double>>(), problem["shapes"][i].get<Shape>(),
                                 TensorOptions(dtype).requires_grad(true)));
  }
  return params;
}

// loss = Σ 0.5·A·w² + c·w + 0.025·w⁴ over both parameters; backward() fills their .grad.
inline void problem_backward(const std::vector<Tensor>& params, const nlohmann::json& problem) {
  Tensor loss;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& w = params[i];
    const TensorOptions opts(w.dtype());
    const Tensor A = from_vector(problem["A"][i].get<std::vector<double>>(), w.sizes(), opts);
    const Tensor c = from_vector(problem["c"][i].get<std::vector<double>>(), w.sizes(), opts);
    const Tensor term = sum(0.5 * A * w * w + c * w + 0.025 * pow(w, 4.0));
    loss = loss.defined() ? loss + term : term;
  }
  loss.backward();
}

inline std::vector<double> flat_values(const std::vector<Tensor>& params) {
  std::vector<double> out;
  for (const Tensor& p : params) {
    const auto v = values(p);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// One group holding every parameter, or the case's "groups" (parameter indices + own options).
inline std::vector<optim::ParamGroup> fixture_groups(const nlohmann::json& fixture_case, const std::vector<Tensor>& params) {
  if (!fixture_case.contains("groups")) return {optim::ParamGroup{params, {}, "all"}};
  std::vector<optim::ParamGroup> groups;
  for (const auto& g : fixture_case["groups"]) {
    optim::ParamGroup group;
    for (const auto& index : g["params"]) group.params.push_back(params.at(index.get<size_t>()));
    group.options = g["options"].get<std::map<std::string, double>>();
    groups.push_back(group);
  }
  return groups;
}

// The state as a checkpoint would carry it: tensors through safetensors bytes, scalars through JSON text.
inline optim::OptimizerState through_checkpoint(const optim::OptimizerState& state) {
  const auto bytes = save_safetensors_to_bytes(state.tensors);
  return {load_safetensors_from_bytes(std::span<const uint8_t>(bytes)), nlohmann::json::parse(state.scalars.dump())};
}

// Runs the case's 20 steps in `dtype` and compares every step with PyTorch's trajectory. Halfway, a
// second optimizer on copies of the parameters is loaded from the first one's state_dict (through a
// checkpoint's formats); both continue and must agree bit for bit.
inline void check_fixture_case(const nlohmann::json& fixture, const nlohmann::json& fixture_case, DType dtype,
                               double rtol, double atol) {
  const nlohmann::json& problem = fixture["problem"];
  const auto options = fixture_case["options"].get<std::map<std::string, double>>();
  const auto name = fixture_case["optimizer"].get<std::string>();
  std::vector<Tensor> params = problem_params(problem, dtype);
  auto opt = optim::make_optimizer(name, fixture_groups(fixture_case, params), options);
  std::vector<Tensor> resumed_params;
  std::unique_ptr<optim::Optimizer> resumed;
  const auto& expected = fixture_case["trajectory"];
  for (size_t step = 0; step < expected.size(); ++step) {
    opt->zero_grad();
    problem_backward(params, problem);
    opt->step();
    INFO(fixture_case["name"].get<std::string>() << " (" << dtype_name(dtype) << "), step " << step + 1);
    REQUIRE(all_close(flat_values(params), expected[step].get<std::vector<double>>(), rtol, atol));
    if (resumed) {
      resumed->zero_grad();
      problem_backward(resumed_params, problem);
      resumed->step();
      REQUIRE(flat_values(resumed_params) == flat_values(params));  // bit for bit
    }
    if (step + 1 == expected.size() / 2) {
      for (const Tensor& p : params) resumed_params.push_back(p.detach().clone().requires_grad_(true));
      resumed = optim::make_optimizer(name, fixture_groups(fixture_case, resumed_params), options);
      resumed->load_state_dict(through_checkpoint(opt->state_dict()));
    }
  }
}

inline void check_fixture_file(const std::string& file) {
  const nlohmann::json fixture = load_optim_fixture(file);
  for (const auto& fixture_case : fixture["cases"]) {
    SECTION(fixture_case["name"].get<std::string>()) {
      check_fixture_case(fixture, fixture_case, DType::f64, 1e-10, 1e-12);
      check_fixture_case(fixture, fixture_case, DType::f32, 2e-4, 2e-5);
    }
  }
}

}  // namespace ember::test
