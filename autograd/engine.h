// The backward engine: runs the nodes reachable from the roots in dependency order.
#pragma once
#include "engine/tensor.h"

namespace ember::autograd {

// Accumulates d(roots)/d(leaf) · grad_roots into every reachable leaf's .grad.
void backward(const TensorList& roots, const TensorList& grad_roots = {}, bool retain_graph = false,
              bool create_graph = false);

// Returns d(outputs)/d(inputs) · grad_outputs without touching any .grad.
// An input the outputs do not depend on errors unless allow_unused (then it gets an undefined Tensor).
TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs = {},
                bool retain_graph = false, bool create_graph = false, bool allow_unused = false);

// Teaching aid (docs/tutorial): when on, the engine prints each node as it runs, with the
// shapes of the gradients going in and coming out.
void set_verbose(bool verbose);

}  // namespace ember::autograd
