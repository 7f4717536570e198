#include "autograd/dot.h"

#include <fmt/format.h>

#include <unordered_map>
#include <vector>

#include "autograd/node.h"

namespace ember {

std::string to_dot(const Tensor& root) {
  std::string out = "digraph backward {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n";
  out += fmt::format("  output [label=\"output\\n{}\", shape=ellipse, style=filled, fillcolor=lightblue];\n",
                     root.describe());
  if (!root.defined() || !root.grad_fn()) {
    if (root.defined() && root.requires_grad()) {
      out += "  output -> leaf;\n  leaf [label=\"leaf (requires_grad)\"];\n";
    }
    return out + "}\n";
  }
  std::unordered_map<const Node*, int> ids;
  std::vector<std::shared_ptr<Node>> stack{root.grad_fn()};
  ids[root.grad_fn().get()] = 0;
  out += "  n0 -> output;\n";
  while (!stack.empty()) {
    auto node = stack.back();
    stack.pop_back();
    const int id = ids[node.get()];
    std::string label = node->name();
    if (auto* acc = dynamic_cast<AccumulateGrad*>(node.get())) {
      if (auto leaf = acc->leaf.lock()) label += "\\n" + Tensor(leaf).describe();
      out += fmt::format("  n{} [label=\"{}\", style=filled, fillcolor=lightgrey];\n", id, label);
    } else {
      for (const auto& saved : node->saved_descriptions()) label += "\\nsaved: " + saved;
      out += fmt::format("  n{} [label=\"{}\"];\n", id, label);
    }
    for (const Edge& e : node->next_edges) {
      if (!e.valid()) continue;
      auto [it, inserted] = ids.emplace(e.node.get(), static_cast<int>(ids.size()));
      if (inserted) stack.push_back(e.node);
      out += fmt::format("  n{} -> n{};\n", it->second, id);
    }
  }
  return out + "}\n";
}

}  // namespace ember
