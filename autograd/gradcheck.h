// gradcheck / gradgradcheck: compare the analytical Jacobian (from the backward graph) with
// central finite differences in float64, as torch.autograd.gradcheck does.
#pragma once
#include <functional>

#include "engine/tensor.h"

namespace ember {

struct GradcheckOptions {
  double eps = 1e-6;    // finite-difference step
  double atol = 1e-5;   // |analytical - numerical| <= atol + rtol * |numerical|
  double rtol = 1e-3;
  // At most this many input elements (memory locations) are perturbed and this many output
  // elements back-propagated per (input, output) pair; evenly spaced when capped.
  int64_t max_elements = 256;
};

using DifferentiableFunction = std::function<TensorList(const TensorList&)>;

// Checks d f(inputs) / d inputs for every floating output and every input that requires grad.
// Inputs may be non-contiguous or expanded views: elements sharing memory are checked together.
// Throws ember::Error describing the first mismatch; returns true otherwise.
bool gradcheck(const DifferentiableFunction& f, const TensorList& inputs, const GradcheckOptions& options = {});

// Checks second derivatives: gradcheck of (inputs, v) -> grad(f(inputs), inputs, v, create_graph).
bool gradgradcheck(const DifferentiableFunction& f, const TensorList& inputs, const GradcheckOptions& options = {});

}  // namespace ember
