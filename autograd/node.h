// Node: one step of the backward graph. A differentiable op that ran on inputs needing grad
// leaves a Node behind; the Node's edges point at the nodes that produced its inputs
// (or at AccumulateGrad for leaves). The engine (autograd/engine.cpp) calls `apply` with one
// gradient per forward output and gets back one gradient per forward input.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace ember {

struct Edge {
  std::shared_ptr<Node> node;  // null: that input needs no gradient
  uint32_t input_nr = 0;       // which of node's gradient slots this edge feeds
  bool valid() const { return node != nullptr; }
};

// What a gradient slot must look like (used to materialise zeros for unused outputs).
struct GradSlotMeta {
  Shape sizes;
  DType dtype = DType::f32;
  Device device;
};

using TensorHook = std::function<Tensor(const Tensor&)>;

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  virtual ~Node();  // Note [Iterative teardown]
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual std::string name() const = 0;
  // grads[i] is the gradient of forward output i (already materialised: never undefined).
  // Returns one gradient per forward input (undefined where that input needs none).
  virtual TensorList apply(TensorList&& grads) = 0;
  // Drops saved tensors after backward (unless retain_graph); a second backward then errors.
  virtual void release_saved() {}
  // Shapes of saved tensors, for to_dot.
  virtual std::vector<std::string> saved_descriptions() const { return {}; }

  std::vector<Edge> next_edges;           // one per forward input
  std::vector<GradSlotMeta> output_meta;  // one per forward output
  uint64_t sequence_nr;                   // creation order: later nodes run first
  std::string creation_context;           // anomaly mode: where the forward op ran
  // Hooks on the gradient of forward output i, run before apply (tensor.register_hook).
  std::map<uint32_t, std::vector<std::pair<size_t, TensorHook>>> pre_hooks;
  // retain_grad's hook for output i, run after pre_hooks (it stores the final gradient).
  std::map<uint32_t, TensorHook> retain_grad_hooks;
};

// The sink for a leaf tensor's gradient: adds it into `.grad`.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
  std::string name() const override { return "AccumulateGrad"; }
  TensorList apply(TensorList&& grads) override;
  // The leaf is held weakly: a graph must not keep a parameter alive.
  std::weak_ptr<TensorImpl> leaf;
  bool create_graph = false;  // set by the engine for the current run
};

// Per-tensor autograd state (null on tensors autograd never touched).
struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;               // null for leaves
  std::weak_ptr<AccumulateGrad> grad_accumulator;  // leaves only, created lazily
  uint32_t output_nr = 0;
  uint32_t history_changes_seen = 0;  // Note [Stale views] (engine/tensor.h)
  // Hooks of a leaf live here (its AccumulateGrad may come and go with each graph).
  std::vector<std::pair<size_t, TensorHook>> leaf_hooks;
};

// Note [Iterative teardown]: freeing the last tensor of a long chain frees node after node
// (edges and saved tensors own the previous step). Done naively that recurses once per node and
// overflows the stack on deep graphs; instead a node hands what it owns to this function, which
// releases the objects one at a time from a worklist (the outermost call drains it).
void release_iteratively(std::vector<std::shared_ptr<void>> owned);

AutogradMeta& autograd_meta(const Tensor& t);  // creates it when absent
// The edge a gradient for `t` should flow into: grad_fn/output_nr, or the leaf's accumulator.
Edge gradient_edge(const Tensor& t);
size_t next_hook_id();

}  // namespace ember
