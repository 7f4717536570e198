// Tutorial chapter 2 (docs/tutorial/02-graph.md): what the forward pass leaves behind. Each op
// on a tensor that requires grad records a Node (autograd/node.h) through record_backward
// (autograd/function.h); the Node keeps edges to its inputs' nodes and the tensors its formula
// needs (SavedTensor, autograd/saved_tensor.h), guarded by the version counter.
// `// [name]` ... `// [/name]` mark the snippets the chapter quotes (kept in sync by tutorial_snippets).
// Run: build/examples/tutorial_02_graph
#include <cmath>

#include "tutorial_check.h"

using namespace ember;

// [print-graph]
// Walks the backward graph below `node`: its name, what it saved, then each edge in turn.
void print_graph(const std::shared_ptr<Node>& node, int depth = 0) {
  const std::string indent(2 * depth, ' ');
  fmt::print("{}{}", indent, node->name());
  if (auto* accumulate = dynamic_cast<AccumulateGrad*>(node.get())) {
    fmt::print("  (adds into .grad of the leaf {})\n", Tensor(accumulate->leaf.lock()).describe());
    return;
  }
  fmt::print("  seq={}\n", node->sequence_nr);
  for (const std::string& saved : node->saved_descriptions()) fmt::print("{}  saved: {}\n", indent, saved);
  for (const Edge& edge : node->next_edges) {
    if (edge.valid()) print_graph(edge.node, depth + 1);
    else fmt::print("{}  (input needs no gradient)\n", indent);
  }
}
// [/print-graph]

int main() {
  tutorial::Checks check;

  // [forward]
  Tensor x = from_vector<double>({1.0, 2.0, 3.0}).requires_grad_(true);   // leaves: we want
  Tensor w = from_vector<double>({0.5, -1.0, 2.0}).requires_grad_(true);  // their gradients
  Tensor c = from_vector<double>({1.0, 10.0, 100.0});                      // a constant
  Tensor y = mul(x, w);     // MulBackward saves x and w:  d(x*w)/dx = w, d(x*w)/dw = x
  Tensor z = exp(y);        // ExpBackward saves its output z:  d exp(y)/dy = exp(y) = z
  Tensor loss = sum(mul(z, c));  // SumBackward saves nothing: only the input's shape
  print_graph(loss.grad_fn());
  // [/forward]

  check.expect(x.is_leaf() && !y.is_leaf() && !c.requires_grad(), "x, w are leaves; y has a grad_fn; c needs none");
  const auto& sum_node = loss.grad_fn();
  const auto& mul_c_node = sum_node->next_edges[0].node;
  check.expect(sum_node->name() == "SumBackward" && sum_node->saved_descriptions().empty(),
               "loss.grad_fn() is SumBackward, which saves nothing");
  check.expect(mul_c_node->saved_descriptions().size() == 2 && !mul_c_node->next_edges[1].valid(),
               "z * c saves both factors; its edge for the constant c is empty");
  check.expect(mul_c_node->next_edges[0].node == z.grad_fn() && z.grad_fn()->name() == "ExpBackward",
               "the edge from z * c leads to z.grad_fn(), ExpBackward");
  check.expect(z.grad_fn()->next_edges[0].node == y.grad_fn() && y.grad_fn()->name() == "MulBackward",
               "the edge from ExpBackward leads to y.grad_fn(), MulBackward");
  check.expect(z.grad_fn()->saved_descriptions() == std::vector<std::string>{"float64[3] on cpu"},
               "ExpBackward saved one float64[3] tensor (its output)");
  check.expect(z.grad_fn()->sequence_nr > y.grad_fn()->sequence_nr, "nodes are numbered in creation order");

  // [backward]
  loss.backward();
  fmt::print("x.grad = {}\nw.grad = {}\n", x.grad(), w.grad());
  // [/backward]
  // By hand: loss = sum_i c_i exp(x_i w_i), so dloss/dx_i = c_i w_i exp(x_i w_i), dloss/dw_i = c_i x_i exp(x_i w_i).
  const double xs[] = {1.0, 2.0, 3.0}, ws[] = {0.5, -1.0, 2.0}, cs[] = {1.0, 10.0, 100.0};
  std::vector<double> dx, dw;
  for (int i = 0; i < 3; ++i) {
    dx.push_back(cs[i] * ws[i] * std::exp(xs[i] * ws[i]));
    dw.push_back(cs[i] * xs[i] * std::exp(xs[i] * ws[i]));
  }
  check.expect_close(x.grad(), dx, "x.grad = c * w * exp(x * w) (derived by hand)", 1e-12);
  check.expect_close(w.grad(), dw, "w.grad = c * x * exp(x * w) (derived by hand)", 1e-12);

  // [freed]
  fmt::print("after backward, ExpBackward saved: {}\n", z.grad_fn()->saved_descriptions()[0]);
  // [/freed]
  check.expect(z.grad_fn()->saved_descriptions()[0] == "<freed>", "backward freed the saved tensors");
  check.expect_error([&] { loss.backward(); }, "a second time",
                     "a second backward through the same graph is refused (pass retain_graph to keep it)");

  // [version]
  Tensor h = mul(x, 2.0);   // not a leaf: in-place changes are allowed
  Tensor p = mul(h, w);     // MulBackward saves h at its current version
  fmt::print("h.version() when saved: {}\n", h.version());
  h.mul_(10.0);             // bumps h's version counter
  fmt::print("h.version() now: {}\n", h.version());
  // [/version]
  check.expect(h.version() == 1, "mul_ bumped h's version from 0 to 1");
  check.expect_error([&] { sum(p).backward(); }, "modified by an in-place operation",
                     "backward refuses the saved h: MulBackward would use the new values with the old graph");

  // [clone-fix]
  Tensor h2 = mul(x, 2.0);
  Tensor p2 = mul(h2, w);
  Tensor h2_scaled = h2.clone().mul_(10.0);  // modify a copy: the saved h2 stays at version 0
  sum(add(p2, h2_scaled)).backward();
  // [/clone-fix]
  check.expect(h2.version() == 0, "clone() + mul_ left the saved tensor untouched");

  check.expect_error([&] { x.add_(1.0); }, "cannot be modified in place",
                     "a leaf that requires grad cannot be modified in place outside NoGradGuard");
  return check.finish();
}
