#include "autograd/node.h"

#include <atomic>

#include "autograd/grad_mode.h"
#include "engine/copy.h"
#include "ops/elementwise.h"

namespace ember {

static std::atomic<uint64_t> g_sequence{0};
static std::atomic<size_t> g_hook_id{0};

Node::Node() : sequence_nr(g_sequence.fetch_add(1)) {}

// Note [Iterative teardown] (node.h).
static thread_local std::vector<std::shared_ptr<void>>* g_release_worklist = nullptr;

void release_iteratively(std::vector<std::shared_ptr<void>> owned) {
  if (g_release_worklist) {  // inside an outer release: just queue
    for (auto& p : owned) g_release_worklist->push_back(std::move(p));
    return;
  }
  g_release_worklist = &owned;
  while (!owned.empty()) {
    std::shared_ptr<void> last = std::move(owned.back());
    owned.pop_back();
    last.reset();  // may queue more into `owned`
  }
  g_release_worklist = nullptr;
}

Node::~Node() {
  std::vector<std::shared_ptr<void>> owned;
  for (auto& e : next_edges)
    if (e.node) owned.push_back(std::move(e.node));
  release_iteratively(std::move(owned));
}

size_t next_hook_id() { return ++g_hook_id; }

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf_impl) : leaf(leaf_impl) {
  Tensor t(std::move(leaf_impl));
  output_meta.push_back({t.sizes(), t.dtype(), t.device()});
}

TensorList AccumulateGrad::apply(TensorList&& grads) {
  auto impl = leaf.lock();
  if (!impl) return {};  // the parameter is gone; nothing to accumulate into
  Tensor self(impl);
  Tensor incoming = std::move(grads.at(0));
  EMBER_CHECK(incoming.sizes() == self.sizes(),
              "backward: gradient {} reaching leaf {} has the wrong shape (a backward formula is wrong)",
              incoming.describe(), self.describe());
  if (incoming.dtype() != self.dtype()) incoming = incoming.to(self.dtype());
  AutogradMeta& meta = autograd_meta(self);
  // A gradient nobody else holds (its handle and its storage have one owner each, and it has no
  // history) can become .grad as it is; anything shared is cloned, so .grad never aliases a tensor
  // used elsewhere and an in-place zero_grad is safe. PyTorch steals the buffer the same way.
  // A contiguous view spanning its whole storage from the start (linear's weight gradient arrives
  // as the transpose of a transposed product) owns that memory just as well.
  const bool whole_storage = incoming.storage() && incoming.offset() == 0 &&
                             static_cast<size_t>(incoming.numel()) * incoming.element_size() ==
                                 incoming.storage()->nbytes();
  const bool sole_owner = !create_graph && incoming.impl_ptr().use_count() == 1 &&
                          incoming.storage().use_count() == 1 && (!incoming.impl().is_view || whole_storage) &&
                          incoming.is_contiguous() && !incoming.requires_grad();
  if (!create_graph && !sole_owner) incoming = incoming.detach();
  if (!meta.grad.defined()) {
    // Otherwise clone so that .grad never aliases a tensor used elsewhere (the caller's seed, or a
    // stride-0 expansion of it): in-place zero_grad must be safe. With create_graph the clone is
    // recorded, so the graph is kept. As in PyTorch, that graph may hold the leaf itself (a saved
    // input), a reference cycle: callers reset .grad (zero_grad) after create_graph to free it.
    meta.grad = sole_owner ? incoming : incoming.clone();
  } else {
    // Out of place: the old .grad may be aliased by the user (or by a graph when create_graph).
    Tensor previous = create_graph ? meta.grad : meta.grad.detach();
    meta.grad = add(previous, incoming);
  }
  return {};
}

AutogradMeta& autograd_meta(const Tensor& t) {
  auto& slot = t.impl().autograd;
  if (!slot) slot = std::make_unique<AutogradMeta>();
  return *slot;
}

Edge gradient_edge(const Tensor& t) {
  AutogradMeta& meta = autograd_meta(t);
  if (meta.grad_fn) {
    EMBER_CHECK(meta.history_changes_seen == t.impl().version->history_changes.load(),
                "autograd: {} shares memory with a tensor that was modified in place inside a graph after {} was "
                "created, so its recorded history ({}) no longer matches its data; recompute it after the in-place "
                "op, or clone() it before",
                t.describe(), t.impl().is_view ? "this view" : "this alias", meta.grad_fn->name());
    return {meta.grad_fn, meta.output_nr};
  }
  if (!meta.requires_grad) return {};
  auto accumulator = meta.grad_accumulator.lock();
  if (!accumulator) {
    accumulator = std::make_shared<AccumulateGrad>(t.impl_ptr());
    meta.grad_accumulator = accumulator;
  }
  return {accumulator, 0};
}

}  // namespace ember
