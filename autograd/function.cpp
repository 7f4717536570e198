#include "autograd/function.h"

#include <cxxabi.h>
#include <execinfo.h>

#include <cstdlib>

#include "autograd/grad_mode.h"

namespace ember {

bool BackwardContext::create_graph() const { return GradMode::is_enabled(); }

std::string FunctionNode::name() const {
  // "scaled_dot_product_attention" -> "ScaledDotProductAttentionBackward"
  std::string out;
  bool upper = true;
  for (char c : op_) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out + "Backward";
}

FunctionNode::~FunctionNode() {
  // Saved tensors and the lambda's captures own earlier parts of the graph: release them from
  // the worklist too, not recursively from here.
  std::vector<std::shared_ptr<void>> owned;
  for (auto& s : saved_) owned.push_back(s.take_for_teardown());
  if (fn_) owned.push_back(std::make_shared<BackwardFn>(std::move(fn_)));
  release_iteratively(std::move(owned));
}

TensorList FunctionNode::apply(TensorList&& grads) {
  BackwardContext ctx;
  ctx.grads_ = std::move(grads);
  auto self = shared_from_this();
  ctx.saved_.reserve(saved_.size());
  for (const auto& s : saved_) ctx.saved_.push_back(s.unpack(self, op_));
  ctx.needs_.reserve(next_edges.size());
  for (const auto& e : next_edges) ctx.needs_.push_back(e.valid());
  ctx.input_shapes_ = input_shapes_;
  ctx.input_dtypes_ = input_dtypes_;
  TensorList result = fn_(ctx);
  EMBER_CHECK(result.size() == next_edges.size(), "{}: backward returned {} gradients for {} inputs", op_,
              result.size(), next_edges.size());
  for (size_t i = 0; i < result.size(); ++i) {
    if (!next_edges[i].valid()) {
      result[i] = Tensor();
      continue;
    }
    Tensor& g = result[i];
    if (!g.defined()) continue;
    EMBER_CHECK(g.sizes() == input_shapes_[i],
                "{}: backward produced a gradient of shape {} for input {} of shape {} (a backward formula is wrong)",
                op_, shape_str(g.sizes()), i, shape_str(input_shapes_[i]));
    if (g.dtype() != input_dtypes_[i]) g = g.to(input_dtypes_[i]);
  }
  return result;
}

void FunctionNode::release_saved() {
  for (auto& s : saved_) s.release();
}

std::vector<std::string> FunctionNode::saved_descriptions() const {
  std::vector<std::string> out;
  for (const auto& s : saved_) out.push_back(s.describe());
  return out;
}

bool any_requires_grad(const TensorList& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

// Anomaly mode: where the forward op was called from (demangled frames, innermost first).
static std::string capture_backtrace(const std::string& op, const TensorList& inputs) {
  std::string context = "forward op '" + op + "' on inputs (";
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i) context += ", ";
    context += inputs[i].defined() ? inputs[i].describe() : "None";
  }
  context += ")\n  called from:";
  void* frames[24];
  const int count = backtrace(frames, 24);
  char** symbols = backtrace_symbols(frames, count);
  for (int i = 2; i < count && symbols; ++i) {
    std::string line = symbols[i];
    const auto open = line.find('(');
    const auto plus = line.find('+', open);
    if (open != std::string::npos && plus != std::string::npos) {
      std::string mangled = line.substr(open + 1, plus - open - 1);
      int status = 0;
      char* demangled = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
      if (status == 0 && demangled) line = demangled;
      std::free(demangled);
    }
    context += "\n    " + line;
  }
  std::free(symbols);
  return context;
}

void record_backward(const std::string& op, const TensorList& inputs, const TensorList& outputs,
                     const TensorList& saved, BackwardFn backward) {
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<FunctionNode>(op, std::move(backward));
  node->next_edges.reserve(inputs.size());
  for (const auto& input : inputs) {
    node->next_edges.push_back(input.defined() && input.requires_grad() ? gradient_edge(input) : Edge{});
    node->input_shapes_.push_back(input.defined() ? input.sizes() : Shape{});
    node->input_dtypes_.push_back(input.defined() ? input.dtype() : DType::f32);
  }
  for (uint32_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    node->output_meta.push_back({out.sizes(), out.dtype(), out.device()});
    if (!is_floating(out.dtype())) continue;  // indices and masks carry no gradient
    AutogradMeta& meta = autograd_meta(out);
    meta.grad_fn = node;
    meta.output_nr = i;
    meta.history_changes_seen = out.impl().version->history_changes.load();
  }
  node->saved_.reserve(saved.size());
  for (const auto& s : saved) {
    bool is_output = false;
    for (const auto& out : outputs) is_output = is_output || (s.defined() && s.is_same(out));
    node->saved_.emplace_back(s, is_output);
  }
  if (AnomalyMode::is_enabled()) node->creation_context = capture_backtrace(op, inputs);
}

}  // namespace ember
