// to_dot: the backward graph behind a tensor as Graphviz DOT, for teaching and debugging.
// Render with scripts/graph.sh (Graphviz from Debian) or `dot -Tsvg`.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace ember {

std::string to_dot(const Tensor& root);

}  // namespace ember
