// The backend-consistency check: an op run on CUDA must give what it gives on the CPU, forward
// and backward. Used by every test/cuda/test_consistency_*.cpp inside DEVICE_TEST_CASEs.
//
//   check_cuda_matches_cpu("gelu", {randn({7, 33}, gen)},
//                          [](const TensorList& in) { return TensorList{gelu(in[0])}; });
//
// runs f on the CPU inputs and on copies moved to cuda:0, compares every output, then pulls the
// same random output gradients back through both graphs (autograd::grad) and compares the
// gradient of every floating input. Tolerances per dtype (Note [CUDA tolerances]).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ember.h"
#include "helpers.h"

namespace ember::test {

// Note [CUDA tolerances]: float64 agrees to rounding (different summation orders only); float32
// to ~1e-5 relative (TF32 is off by default, cuda/GPU.md); bfloat16 and float16 inputs compute
// in float32 but round their outputs, so they agree to a couple of units in their last place.
struct Tolerance {
  double rtol = 0, atol = 0;
};
inline Tolerance tolerance_for(DType dtype) {
  switch (dtype) {
    case DType::f64: return {1e-10, 1e-12};
    case DType::f32: return {1e-4, 1e-5};
    case DType::bf16: return {2e-2, 2e-2};
    case DType::f16: return {4e-3, 4e-3};
    default: return {0, 0};  // integers and bool: exact
  }
}

using CudaCheckFn = std::function<TensorList(const TensorList&)>;

struct ConsistencyOptions {
  bool check_gradients = true;  // false for ops without a backward (argmax, comparisons, ...)
  Tolerance tolerance{};        // {0, 0}: tolerance_for(the first output's dtype)
  double grad_scale = 1.0;      // loosen gradient tolerances by this factor (long reductions)
};

inline void check_cuda_matches_cpu(const std::string& name, const TensorList& cpu_inputs, const CudaCheckFn& f,
                                   ConsistencyOptions options = {}) {
  INFO("op " << name);
  TensorList host, device;
  for (const Tensor& t : cpu_inputs) {
    if (!t.defined()) {
      host.emplace_back();
      device.emplace_back();
      continue;
    }
    const bool differentiable = options.check_gradients && is_floating(t.dtype());
    host.push_back(t.detach().clone().requires_grad_(differentiable));
    device.push_back(t.detach().cuda().requires_grad_(differentiable));
  }
  const TensorList host_out = f(host);
  const TensorList device_out = f(device);
  REQUIRE(host_out.size() == device_out.size());
  for (size_t i = 0; i < host_out.size(); ++i) {
    INFO("output " << i << ": cpu " << host_out[i].describe() << ", cuda " << device_out[i].describe());
    REQUIRE(device_out[i].device().is_cuda());
    REQUIRE(device_out[i].sizes() == host_out[i].sizes());
    REQUIRE(device_out[i].dtype() == host_out[i].dtype());
    const Tolerance tol = options.tolerance.rtol > 0 ? options.tolerance : tolerance_for(host_out[i].dtype());
    CHECK(all_close(values(device_out[i].cpu()), values(host_out[i]), tol.rtol, tol.atol));
  }
  if (!options.check_gradients) return;

  TensorList host_roots, device_roots, host_grads_out, device_grads_out, host_leaves, device_leaves;
  Generator gen(1234);
  for (size_t i = 0; i < host_out.size(); ++i) {
    if (!host_out[i].requires_grad()) continue;
    const Tensor g = randn(host_out[i].sizes(), gen, host_out[i].dtype());
    host_roots.push_back(host_out[i]);
    device_roots.push_back(device_out[i]);
    host_grads_out.push_back(g);
    device_grads_out.push_back(g.cuda());
  }
  for (size_t i = 0; i < host.size(); ++i) {
    if (host[i].defined() && host[i].requires_grad()) {
      host_leaves.push_back(host[i]);
      device_leaves.push_back(device[i]);
    }
  }
  if (host_roots.empty() || host_leaves.empty()) return;
  const TensorList host_grads = autograd::grad(host_roots, host_leaves, host_grads_out, false, false, true);
  const TensorList device_grads = autograd::grad(device_roots, device_leaves, device_grads_out, false, false, true);
  for (size_t i = 0; i < host_grads.size(); ++i) {
    INFO("gradient of input " << i);
    REQUIRE(host_grads[i].defined() == device_grads[i].defined());
    if (!host_grads[i].defined()) continue;
    REQUIRE(device_grads[i].device().is_cuda());
    Tolerance tol = options.tolerance.rtol > 0 ? options.tolerance : tolerance_for(host_grads[i].dtype());
    tol.rtol *= options.grad_scale;
    tol.atol *= options.grad_scale;
    CHECK(all_close(values(device_grads[i].cpu()), values(host_grads[i]), tol.rtol, tol.atol));
  }
}

}  // namespace ember::test
