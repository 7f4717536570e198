// Tutorial chapter 3 (docs/tutorial/03-engine.md): the backward engine step by step. First a
// 50-line copy of the engine's loop (autograd/engine.cpp, run()) built on the public Node API,
// then the real engine with autograd::set_verbose(true), which prints each node as it runs with
// the shapes of the gradients going in and out. Both must agree with gradients derived by hand.
// `// [name]` ... `// [/name]` mark the snippets the chapter quotes (kept in sync by tutorial_snippets).
// Run: build/examples/tutorial_03_engine
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <queue>
#include <set>

#include "tutorial_check.h"

using namespace ember;

// [mini-engine]
// The engine's loop without hooks, anomaly mode or autograd::grad's pruning. Returns the gradient
// that reached each leaf (keyed by the leaf's TensorImpl) and appends the nodes it ran to `order`.
std::map<const TensorImpl*, Tensor> mini_backward(const Tensor& root, std::vector<std::string>& order) {
  NoGradGuard no_grad;  // backward formulas are ops: without create_graph they must not record
  // 1. Count, for every node reachable from the root, how many edges point at it.
  std::map<Node*, int> dependencies;
  std::set<Node*> seen{root.grad_fn().get()};
  std::vector<Node*> stack{root.grad_fn().get()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& edge : node->next_edges) {
      if (!edge.valid()) continue;
      dependencies[edge.node.get()]++;
      if (seen.insert(edge.node.get()).second) stack.push_back(edge.node.get());
    }
  }
  // 2. Seed d(root)/d(root) = 1 and run ready nodes, latest-created first.
  std::map<Node*, TensorList> buffers{{root.grad_fn().get(), {ones_like(root)}}};
  auto later_first = [](const std::shared_ptr<Node>& a, const std::shared_ptr<Node>& b) {
    return a->sequence_nr < b->sequence_nr;
  };
  std::priority_queue<std::shared_ptr<Node>, std::vector<std::shared_ptr<Node>>, decltype(later_first)> ready(
      later_first);
  ready.push(root.grad_fn());
  std::map<const TensorImpl*, Tensor> leaf_grads;
  while (!ready.empty()) {
    std::shared_ptr<Node> node = ready.top();
    ready.pop();
    order.push_back(node->name());
    TensorList grads = std::move(buffers[node.get()]);
    if (auto* accumulate = dynamic_cast<AccumulateGrad*>(node.get())) {
      leaf_grads[accumulate->leaf.lock().get()] = grads[0];  // the real one adds it into .grad
      continue;
    }
    // 3. One gradient per forward output in, one per forward input out.
    TensorList input_grads = node->apply(std::move(grads));
    // 4. Route each input gradient along its edge; gradients meeting at one slot are summed.
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& edge = node->next_edges[i];
      if (!edge.valid()) continue;
      TensorList& buffer = buffers[edge.node.get()];
      buffer.resize(std::max<size_t>(buffer.size(), edge.input_nr + 1));
      Tensor& slot = buffer[edge.input_nr];
      slot = slot.defined() ? add(slot, input_grads[i]) : input_grads[i];
      if (--dependencies[edge.node.get()] == 0) ready.push(edge.node);  // all its gradients are in
    }
  }
  return leaf_grads;
}
// [/mini-engine]

// Runs `action` with stdout captured, prints what it wrote and returns it.
template <class Action>
std::string capture_stdout(Action&& action) {
  std::fflush(stdout);
  std::FILE* capture = std::tmpfile();
  const int saved_stdout = dup(fileno(stdout));
  dup2(fileno(capture), fileno(stdout));
  action();
  std::fflush(stdout);
  dup2(saved_stdout, fileno(stdout));
  close(saved_stdout);
  std::string text;
  std::rewind(capture);
  for (int ch; (ch = std::fgetc(capture)) != EOF;) text += static_cast<char>(ch);
  std::fclose(capture);
  fmt::print("{}", text);
  return text;
}

// Whether a line of the verbose log is about `node_name` and ends with `ending`.
bool has_line(const std::string& log, const std::string& node_name, const std::string& ending) {
  size_t start = 0;
  while (start < log.size()) {
    const size_t end = std::min(log.find('\n', start), log.size());
    const std::string line = log.substr(start, end - start);
    if (line.find(node_name + " ") != std::string::npos && line.ends_with(ending)) return true;
    start = end + 1;
  }
  return false;
}

int main() {
  tutorial::Checks check;

  // [forward]
  // x is used twice, so two gradients meet at its AccumulateGrad and are summed.
  Tensor x = from_vector<double>({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {2, 3}).requires_grad_(true);
  Tensor w = from_vector<double>({1, -1, 2, 0, 0.5, 1, -2, 1, 0, 3, 1, -1}, {3, 4}).requires_grad_(true);
  Tensor h = mm(x, w);                    // (2, 4)
  Tensor data_term = mean(tanh(h));       // mean is sum / 8
  Tensor penalty = sum(mul(x, x));        // x's second use
  Tensor loss = add(data_term, penalty);  // mean(tanh(x w)) + sum(x^2)
  // [/forward]

  // By hand, with h = x w (2, 4) and t = tanh(h):  dloss/dh = (1 - t^2) / 8,
  // dloss/dx = dloss/dh · w^T + 2 x,   dloss/dw = x^T · dloss/dh.
  const std::vector<double> xs = tutorial::values_of(x), ws = tutorial::values_of(w);
  std::vector<double> dh(8), dx(6), dw(12);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      double h = 0;
      for (int k = 0; k < 3; ++k) h += xs[i * 3 + k] * ws[k * 4 + j];
      dh[i * 4 + j] = (1 - std::tanh(h) * std::tanh(h)) / 8;
    }
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 3; ++k) {
      dx[i * 3 + k] = 2 * xs[i * 3 + k];
      for (int j = 0; j < 4; ++j) dx[i * 3 + k] += dh[i * 4 + j] * ws[k * 4 + j];
    }
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 2; ++i) dw[k * 4 + j] += xs[i * 3 + k] * dh[i * 4 + j];

  // [run-mini]
  std::vector<std::string> order;
  auto leaf_grads = mini_backward(loss, order);
  fmt::print("mini engine ran: {}\n", fmt::join(order, " -> "));
  // [/run-mini]
  check.expect(order.front() == "AddBackward" && order.size() == 12, "the mini engine ran all 12 nodes, root first");
  check.expect(std::count(order.begin(), order.end(), "AccumulateGrad") == 2,
               "each leaf's AccumulateGrad ran once, although x feeds two nodes: its two gradients were summed first");
  check.expect_close(leaf_grads[x.impl_ptr().get()], dx, "mini engine: dloss/dx = (1 - t^2)/8 · w^T + 2x", 1e-12);
  check.expect_close(leaf_grads[w.impl_ptr().get()], dw, "mini engine: dloss/dw = x^T · (1 - t^2)/8", 1e-12);

  // [verbose]
  autograd::set_verbose(true);
  const std::string log = capture_stdout([&] { loss.backward(); });
  autograd::set_verbose(false);
  // [/verbose]
  check.expect_close(x.grad(), dx, "real engine: x.grad matches the hand-derived gradient", 1e-12);
  check.expect_close(w.grad(), dw, "real engine: w.grad matches the hand-derived gradient", 1e-12);
  check.expect(has_line(log, "DivBackward", "grads in ([]) -> grads out ([], None)") &&
                   has_line(log, "SumBackward", "grads in ([]) -> grads out ([2, 4])"),
               "verbose: mean = sum / 8; DivBackward passed a scalar gradient on, SumBackward made it (2, 4)");
  check.expect(has_line(log, "BmmBackward", "grads in ([1, 2, 4]) -> grads out ([1, 2, 3], [1, 3, 4], None)"),
               "verbose: mm runs as bmm on a batch of one; BmmBackward returned one gradient per input");
  // The real engine ran the nodes in the same order as the mini engine.
  std::vector<std::string> real_order;
  for (size_t at = log.find("[autograd] "); at != std::string::npos; at = log.find("[autograd] ", at + 1)) {
    const size_t name_start = at + 11;
    real_order.push_back(log.substr(name_start, log.find(' ', name_start) - name_start));
  }
  check.expect(real_order == order, "the real engine ran the nodes in the mini engine's order");
  return check.finish();
}
