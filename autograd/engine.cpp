// The backward engine. One pass:
//  1. Seed the gradient of each root into the input buffer of the node that produced it.
//  2. Count, for every node reachable from the roots, how many edges point at it.
//  3. Run nodes whose count has dropped to zero, latest-created first (a max-heap on
//     sequence_nr, as PyTorch does), summing gradients that meet at one input slot.
// In functional mode (`grad`) only nodes on a path to a requested input run, and the
// gradients arriving at those inputs are captured instead of accumulated into `.grad`.
#include "autograd/engine.h"

#include <fmt/format.h>

#include <cmath>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "engine/profiler.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace ember::autograd {

static bool g_verbose = false;
void set_verbose(bool verbose) { g_verbose = verbose; }

namespace {

struct Capture {
  Node* node;
  uint32_t slot;
  size_t index;
};

struct GraphTask {
  bool retain_graph = false;
  bool create_graph = false;
  bool functional = false;
  std::unordered_map<Node*, int> dependencies;
  std::unordered_map<Node*, TensorList> buffers;
  std::unordered_map<Node*, std::vector<Capture>> captures;
  std::unordered_map<Node*, bool> reaches_capture;  // functional mode: does any child lead to a capture?
  TensorList captured;
};

struct LaterFirst {
  bool operator()(const std::shared_ptr<Node>& a, const std::shared_ptr<Node>& b) const {
    return a->sequence_nr < b->sequence_nr;
  }
};

void accumulate_into(TensorList& buffer, uint32_t slot, const Tensor& grad) {
  if (!grad.defined()) return;
  if (buffer.size() <= slot) buffer.resize(slot + 1);
  buffer[slot] = buffer[slot].defined() ? add(buffer[slot], grad) : grad;
}

bool has_non_finite(const Tensor& t) {
  if (!is_floating(t.dtype())) return false;
  NoGradGuard no_grad;
  Tensor flat = t.contiguous().to(DType::f64);
  const double* p = flat.data_ptr<double>();
  for (int64_t i = 0; i < flat.numel(); ++i)
    if (!std::isfinite(p[i])) return true;
  return false;
}

std::string shapes_of(const TensorList& list) {
  std::string s = "(";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) s += ", ";
    s += list[i].defined() ? shape_str(list[i].sizes()) : "None";
  }
  return s + ")";
}

// Functional mode: memoised "can this node's subtree reach a capture?", i.e. does any child
// either hold a capture or reach one. An explicit-stack post-order DFS: graphs can be hundreds
// of thousands of nodes deep (long unrolled loops), too deep for recursion.
bool compute_reaches(Node* root, GraphTask& task) {
  if (auto it = task.reaches_capture.find(root); it != task.reaches_capture.end()) return it->second;
  task.reaches_capture[root] = false;
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};  // (node, next edge to look at)
  while (!stack.empty()) {
    Node* node = stack.back().first;
    const size_t next = stack.back().second++;
    if (next == node->next_edges.size()) {
      const bool reaches = task.reaches_capture[node];
      stack.pop_back();
      if (reaches && !stack.empty()) task.reaches_capture[stack.back().first] = true;
      continue;
    }
    const Edge& e = node->next_edges[next];
    if (!e.valid()) continue;
    Node* child = e.node.get();
    if (task.captures.count(child)) task.reaches_capture[node] = true;
    auto [it, inserted] = task.reaches_capture.try_emplace(child, false);
    if (inserted) {
      stack.emplace_back(child, 0);
    } else if (it->second) {
      task.reaches_capture[node] = true;  // a finished child (graphs are acyclic)
    }
  }
  return task.reaches_capture[root];
}

bool should_visit(Node* node, GraphTask& task) {
  if (!task.functional) return true;
  return task.captures.count(node) || compute_reaches(node, task);
}

void run(GraphTask& task, const std::vector<Edge>& root_edges, const TensorList& root_grads) {
  EnableGradGuard grad_mode(task.create_graph);
  profiler::BackwardPassScope backward_pass;  // ops run from here on are tagged backward
  std::vector<std::shared_ptr<Node>> roots;
  for (size_t i = 0; i < root_edges.size(); ++i) {
    const Edge& e = root_edges[i];
    if (!should_visit(e.node.get(), task)) continue;
    accumulate_into(task.buffers[e.node.get()], e.input_nr, root_grads[i]);
    roots.push_back(e.node);
  }
  // Dependency counts over the reachable (and, in functional mode, needed) subgraph.
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  for (auto& r : roots)
    if (seen.insert(r.get()).second) stack.push_back(r.get());
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& e : node->next_edges) {
      if (!e.valid() || !should_visit(e.node.get(), task)) continue;
      task.dependencies[e.node.get()]++;
      if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
  }
  std::priority_queue<std::shared_ptr<Node>, std::vector<std::shared_ptr<Node>>, LaterFirst> ready;
  std::unordered_set<Node*> queued;
  for (auto& r : roots)
    if (task.dependencies[r.get()] == 0 && queued.insert(r.get()).second) ready.push(r);

  while (!ready.empty()) {
    std::shared_ptr<Node> node = ready.top();
    ready.pop();
    TensorList grads = std::move(task.buffers[node.get()]);
    task.buffers.erase(node.get());
    grads.resize(node->output_meta.size());

    // Hooks on the gradient of each output slot (and, for a leaf, the tensor's own hooks).
    auto run_hooks = [&](uint32_t slot, const std::vector<std::pair<size_t, TensorHook>>& hooks) {
      for (const auto& [id, hook] : hooks) {
        if (!grads[slot].defined()) continue;
        Tensor replaced = hook(grads[slot]);
        if (!replaced.defined()) continue;
        // A hook may change the values, not the geometry: the node's formula relies on the shape.
        EMBER_CHECK(replaced.sizes() == grads[slot].sizes(),
                    "backward: a hook on an output of {} returned a gradient {} instead of shape {}", node->name(),
                    replaced.describe(), shape_str(grads[slot].sizes()));
        grads[slot] = replaced;
      }
    };
    // Copies: a hook may register or remove hooks on the same tensor while we iterate.
    const auto pre_hooks = node->pre_hooks;
    for (const auto& [slot, hooks] : pre_hooks)
      if (slot < grads.size()) run_hooks(slot, hooks);
    const auto retain_grad_hooks = node->retain_grad_hooks;
    for (const auto& [slot, retain] : retain_grad_hooks)
      if (slot < grads.size() && grads[slot].defined()) retain(grads[slot]);
    auto* accumulator = dynamic_cast<AccumulateGrad*>(node.get());
    if (accumulator) {
      if (auto leaf = accumulator->leaf.lock(); leaf && leaf->autograd) {
        auto hooks = leaf->autograd->leaf_hooks;  // copy: a hook may register another
        run_hooks(0, hooks);
      }
    }
    if (auto it = task.captures.find(node.get()); it != task.captures.end()) {
      for (const Capture& c : it->second) {
        const Tensor& g = c.slot < grads.size() ? grads[c.slot] : Tensor();
        task.captured[c.index] = task.captured[c.index].defined() && g.defined()
                                     ? add(task.captured[c.index], g)
                                     : (g.defined() ? g : task.captured[c.index]);
      }
      if (accumulator || !compute_reaches(node.get(), task)) continue;
    }
    if (accumulator) accumulator->create_graph = task.create_graph;

    // Undefined slots (outputs nobody used) become zeros of the right shape.
    for (size_t slot = 0; slot < grads.size(); ++slot) {
      if (grads[slot].defined()) continue;
      const GradSlotMeta& m = node->output_meta[slot];
      grads[slot] = zeros(m.sizes, TensorOptions(m.dtype).device(m.device));
    }
    const std::string in_shapes = g_verbose ? shapes_of(grads) : std::string();
    TensorList input_grads;
    try {
      // A range per node: the ops its formula calls nest under it, tagged with its name.
      EMBER_PROFILE_RANGE(profiler::RangeKind::backward_node, node->name());
      input_grads = node->apply(std::move(grads));
    } catch (const Error& e) {
      if (node->creation_context.empty()) throw;
      throw Error(fmt::format("{}\n  (in the backward of {})", e.what(), node->creation_context));
    }
    if (g_verbose) {
      fmt::print("[autograd] {:<28} seq={:<5} grads in {} -> grads out {}\n", node->name(), node->sequence_nr,
                 in_shapes, shapes_of(input_grads));
    }
    if (!task.retain_graph) node->release_saved();
    if (AnomalyMode::is_enabled()) {
      for (size_t i = 0; i < input_grads.size(); ++i) {
        EMBER_CHECK(!input_grads[i].defined() || !has_non_finite(input_grads[i]),
                    "anomaly: {} returned NaN or Inf in its gradient for input {}.\n  The node was created by {}",
                    node->name(), i, node->creation_context);
      }
    }
    for (size_t i = 0; i < node->next_edges.size() && i < input_grads.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid() || !should_visit(e.node.get(), task)) continue;
      accumulate_into(task.buffers[e.node.get()], e.input_nr, input_grads[i]);
      if (--task.dependencies[e.node.get()] == 0 && queued.insert(e.node.get()).second) ready.push(e.node);
    }
  }
}

// Validates the roots and builds their seed gradients.
void prepare_roots(const TensorList& roots, const TensorList& grad_roots, std::vector<Edge>& edges,
                   TensorList& seeds) {
  EMBER_CHECK(grad_roots.empty() || grad_roots.size() == roots.size(),
              "backward: got {} gradients for {} outputs", grad_roots.size(), roots.size());
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    EMBER_CHECK(root.defined(), "backward: output {} is an undefined tensor", i);
    EMBER_CHECK(root.requires_grad(),
                "backward: output {} ({}) does not require grad and has no grad_fn: nothing to differentiate",
                i, root.describe());
    Tensor seed = grad_roots.empty() ? Tensor() : grad_roots[i];
    if (!seed.defined()) {
      EMBER_CHECK(root.numel() == 1,
                  "backward: a gradient can be created implicitly only for a one-element output, but output {} is {}",
                  i, root.describe());
      seed = ones(root.sizes(), TensorOptions(root.dtype()).device(root.device()));
    }
    EMBER_CHECK(seed.sizes() == root.sizes(), "backward: gradient {} does not match output {} ({})",
                seed.describe(), i, root.describe());
    edges.push_back(gradient_edge(root));
    seeds.push_back(seed);
  }
}

}  // namespace

void backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph, bool create_graph) {
  GraphTask task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  std::vector<Edge> edges;
  TensorList seeds;
  prepare_roots(roots, grad_roots, edges, seeds);
  run(task, edges, seeds);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool create_graph, bool allow_unused) {
  GraphTask task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  task.functional = true;
  task.captured.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK(inputs[i].defined() && inputs[i].requires_grad(),
                "grad: input {} ({}) does not require grad", i, inputs[i].describe());
    Edge e = gradient_edge(inputs[i]);
    task.captures[e.node.get()].push_back({e.node.get(), e.input_nr, i});
  }
  // Keep leaf accumulators alive for the duration (gradient_edge may have just created them).
  std::vector<std::shared_ptr<Node>> keep_alive;
  for (const auto& in : inputs) keep_alive.push_back(gradient_edge(in).node);
  std::vector<Edge> edges;
  TensorList seeds;
  prepare_roots(outputs, grad_outputs, edges, seeds);
  run(task, edges, seeds);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (task.captured[i].defined()) {
      if (!create_graph) task.captured[i] = task.captured[i].detach();
      continue;
    }
    EMBER_CHECK(allow_unused,
                "grad: input {} ({}) was not used to compute the outputs; pass allow_unused=true to get an "
                "undefined gradient for it",
                i, inputs[i].describe());
  }
  return task.captured;
}

}  // namespace ember::autograd
