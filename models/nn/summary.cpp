// summary(): a torchinfo-style table from one forward pass with forward hooks on every module.
// See models/nn/summary.h; tests: test/nn/test_module.cpp.
#include "models/nn/summary.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "engine/shape.h"

namespace ember::nn {

namespace {

struct Row {
  std::string label;  // indented name
  std::string type;
  std::string output = "--";  // shape of the last call's output; "--" when never called
  int64_t params = 0;         // own parameters (not the children's)
};

// Removes the hooks and restores the training mode however the forward pass ends.
struct HookScope {
  std::vector<std::pair<Module*, size_t>> hooks;
  Module& model;
  bool was_training;
  ~HookScope() {
    for (auto& [module, handle] : hooks) module->remove_forward_hook(handle);
    model.train(was_training);
  }
};

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string summary(Module& model, const Shape& input_shape, int max_depth, DType dtype) {
  EMBER_CHECK(max_depth >= 0, "summary: max_depth must be >= 0, got {}", max_depth);
  auto modules = model.named_modules();
  std::vector<Row> rows;
  std::map<const Module*, size_t> row_of;
  // torchinfo's "forward/backward pass size": every leaf module's outputs, once for the values and
  // once for their gradients, summed over every call.
  double activation_bytes = 0.0;
  HookScope scope{{}, model, model.is_training()};
  for (auto& [name, module] : modules) {
    if (module->named_children().empty()) {
      scope.hooks.emplace_back(module, module->register_forward_hook([&activation_bytes](Module&, const Tensor&,
                                                                                          const Tensor& out) {
        if (out.defined()) activation_bytes += 2.0 * static_cast<double>(out.numel() * out.element_size());
      }));
    }
    const int depth = name.empty() ? 0 : 1 + static_cast<int>(std::count(name.begin(), name.end(), '.'));
    if (depth > max_depth) continue;
    Row row;
    const std::string shown = name.empty() ? module->type_name() : name.substr(name.rfind('.') + 1);
    row.label = std::string(2 * depth, ' ') + (depth ? "(" + shown + ")" : shown);
    row.type = module->type_name();
    // Deeper modules that are not shown fold their parameters into the deepest shown ancestor.
    for (auto& [pname, p] : module->named_parameters(depth == max_depth)) row.params += p.numel();
    row_of[module] = rows.size();
    rows.push_back(row);
    scope.hooks.emplace_back(module, module->register_forward_hook([&rows, &row_of](Module& m, const Tensor&,
                                                                                    const Tensor& out) {
      rows[row_of.at(&m)].output = out.defined() ? shape_str(out.sizes()) : "--";
    }));
  }

  const auto params = model.parameters();
  const Device device = params.empty() ? Device::cpu() : params.front().device();
  {
    NoGradGuard no_grad;
    model.eval();
    model(zeros(input_shape, TensorOptions(dtype).device(device)));
  }

  size_t w_name = 12, w_type = 4, w_out = 12, w_params = 7;
  for (auto& r : rows) {
    w_name = std::max(w_name, r.label.size());
    w_type = std::max(w_type, r.type.size());
    w_out = std::max(w_out, r.output.size());
    w_params = std::max(w_params, with_commas(r.params).size());
  }
  const size_t width = w_name + w_type + w_out + w_params + 6;
  const std::string rule(width, '='), thin(width, '-');
  std::string s = rule + "\n";
  s += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>{}}\n", "Layer (name)", w_name, "Type", w_type, "Output Shape", w_out,
                   "Param #", w_params);
  s += rule + "\n";
  for (auto& r : rows) {
    s += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>{}}\n", r.label, w_name, r.type, w_type, r.output, w_out,
                     r.params ? with_commas(r.params) : "--", w_params);
  }
  const int64_t total = model.num_parameters(), trainable = model.num_parameters(true);
  double bytes = 0.0;
  for (auto& [name, p] : model.named_parameters()) bytes += static_cast<double>(p.numel() * p.element_size());
  s += rule + "\n";
  s += fmt::format("Total params: {}\nTrainable params: {}\nNon-trainable params: {}\n", with_commas(total),
                   with_commas(trainable), with_commas(total - trainable));
  s += thin + "\n";
  const double input_bytes = static_cast<double>(numel_of(input_shape)) * static_cast<double>(itemsize(dtype));
  s += fmt::format("Input size (MB): {:.2f} ({})\nForward/backward pass size (MB): {:.2f}\nParams size (MB): {:.2f}\n"
                   "Estimated Total Size (MB): {:.2f}\n",
                   input_bytes / 1e6, shape_str(input_shape), activation_bytes / 1e6, bytes / 1e6,
                   (input_bytes + activation_bytes + bytes) / 1e6);
  s += rule + "\n";
  return s;
}

}  // namespace ember::nn
