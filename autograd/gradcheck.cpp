#include "autograd/gradcheck.h"

#include <cmath>
#include <map>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "engine/copy.h"
#include "engine/factories.h"
#include "engine/random.h"

namespace ember {

namespace {

// Storage offset (elements) of each logical element, row-major.
std::vector<int64_t> element_offsets(const Tensor& t) {
  std::vector<int64_t> offsets(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) {
    int64_t rem = i, off = t.offset();
    for (int64_t d = t.dim() - 1; d >= 0; --d) {
      off += (rem % t.size(d)) * t.stride(d);
      rem /= t.size(d);
    }
    offsets[i] = off;
  }
  return offsets;
}

std::vector<int64_t> pick(int64_t n, int64_t cap) {
  std::vector<int64_t> idx;
  if (n <= cap) {
    for (int64_t i = 0; i < n; ++i) idx.push_back(i);
  } else {
    for (int64_t k = 0; k < cap; ++k) idx.push_back(k * n / cap);
  }
  return idx;
}

std::vector<double> flat_values(const Tensor& t) {
  std::vector<double> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = read_element(t, i);
  return v;
}

}  // namespace

bool gradcheck(const DifferentiableFunction& f, const TensorList& inputs, const GradcheckOptions& options) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    if (!in.defined() || !in.requires_grad()) continue;
    EMBER_CHECK(in.dtype() == DType::f64, "gradcheck: input {} is {}; gradcheck needs float64 inputs", i,
                in.describe());
  }
  TensorList outputs = f(inputs);
  for (size_t j = 0; j < outputs.size(); ++j) {
    const Tensor& out = outputs[j];
    if (!out.defined() || !is_floating(out.dtype())) continue;
    const std::vector<int64_t> out_rows = pick(out.numel(), options.max_elements);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& in = inputs[i];
      if (!in.defined() || !in.requires_grad()) continue;
      // Group logical elements by memory location (an expanded input aliases many of them).
      const std::vector<int64_t> offsets = element_offsets(in);
      std::map<int64_t, std::vector<int64_t>> by_location;
      for (int64_t e = 0; e < static_cast<int64_t>(offsets.size()); ++e) by_location[offsets[e]].push_back(e);
      std::vector<int64_t> locations;
      for (auto& [loc, _] : by_location) locations.push_back(loc);
      const std::vector<int64_t> cols = pick(static_cast<int64_t>(locations.size()), options.max_elements);

      // Analytical rows: one vector-Jacobian product per selected output element.
      std::vector<std::vector<double>> analytical(out_rows.size());
      for (size_t r = 0; r < out_rows.size(); ++r) {
        Tensor v = zeros(out.sizes(), out.dtype());
        v.detach().view({-1}).select(0, out_rows[r]).fill_(1.0);
        if (!out.requires_grad()) {
          analytical[r].assign(in.numel(), 0.0);
          continue;
        }
        TensorList g = autograd::grad({out}, {in}, {v}, /*retain_graph=*/true, false, /*allow_unused=*/true);
        analytical[r] = g[0].defined() ? flat_values(g[0]) : std::vector<double>(in.numel(), 0.0);
      }
      // Numerical columns: perturb one memory location at a time.
      double* base = static_cast<double*>(in.storage()->data());
      for (int64_t c : cols) {
        const int64_t loc = locations[c];
        const double original = base[loc];
        // Outputs are read right away: an output may be a view of the input (f(x) = x.t()), whose
        // values would change again when the input is restored.
        auto evaluate = [&](double value) {
          base[loc] = value;
          // Grad mode stays on: for gradgradcheck, f itself differentiates.
          TensorList outs = f(inputs);
          EMBER_CHECK(outs.size() == outputs.size(),
                      "gradcheck: the function returned {} outputs on a perturbed input but {} at first", outs.size(),
                      outputs.size());
          std::vector<double> picked;
          for (int64_t row : out_rows) picked.push_back(read_element(outs[j], row));
          return picked;
        };
        const std::vector<double> plus = evaluate(original + options.eps);
        const std::vector<double> minus = evaluate(original - options.eps);
        base[loc] = original;
        for (size_t r = 0; r < out_rows.size(); ++r) {
          const double numerical = (plus[r] - minus[r]) / (2 * options.eps);
          double sum_analytical = 0.0;
          for (int64_t e : by_location[loc]) sum_analytical += analytical[r][e];
          const double tolerance = options.atol + options.rtol * std::fabs(numerical);
          EMBER_CHECK(std::fabs(sum_analytical - numerical) <= tolerance || (std::isnan(numerical) && std::isnan(sum_analytical)),
                      "gradcheck: Jacobian mismatch for output {} ({}) w.r.t. input {} ({}) at output element {}, "
                      "input element {}: numerical {:.10g} vs analytical {:.10g} (tolerance {:.3g})",
                      j, out.describe(), i, in.describe(), out_rows[r], by_location[loc].front(), numerical,
                      sum_analytical, tolerance);
        }
      }
    }
  }
  return true;
}

bool gradgradcheck(const DifferentiableFunction& f, const TensorList& inputs, const GradcheckOptions& options) {
  TensorList outputs = f(inputs);
  // Random upstream gradients (fixed seed: the check is reproducible), themselves differentiable.
  TensorList vs;
  Generator gen(20261129);
  for (const auto& out : outputs) {
    if (!out.defined() || !is_floating(out.dtype()) || !out.requires_grad()) continue;
    vs.push_back(randn(out.sizes(), gen, out.dtype()).requires_grad_(true));
  }
  std::vector<size_t> diff_inputs;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) diff_inputs.push_back(i);
  const size_t n_inputs = inputs.size();
  DifferentiableFunction first_derivative = [&](const TensorList& all) -> TensorList {
    TensorList ins(all.begin(), all.begin() + static_cast<int64_t>(n_inputs));
    TensorList outs = f(ins);
    TensorList diff_outs, grads_out;
    size_t k = 0;
    for (const auto& out : outs) {
      if (!out.defined() || !is_floating(out.dtype()) || !out.requires_grad()) continue;
      diff_outs.push_back(out);
      grads_out.push_back(all[n_inputs + k++]);
    }
    TensorList wrt;
    for (size_t i : diff_inputs) wrt.push_back(ins[i]);
    if (diff_outs.empty()) return {};
    TensorList g = autograd::grad(diff_outs, wrt, grads_out, true, /*create_graph=*/true, /*allow_unused=*/true);
    for (size_t m = 0; m < g.size(); ++m)
      if (!g[m].defined()) g[m] = zeros(wrt[m].sizes(), wrt[m].dtype());
    return g;
  };
  TensorList all = inputs;
  all.insert(all.end(), vs.begin(), vs.end());
  return gradcheck(first_derivative, all, options);
}

}  // namespace ember
