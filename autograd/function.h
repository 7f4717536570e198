// How an op records its backward: `record_backward` builds a FunctionNode from a lambda.
//
//   Tensor out = ...forward kernel...;
//   record_backward("mul", {a, b}, {out}, /*saved=*/{a, b},
//       [](BackwardContext& ctx) -> TensorList {
//         const Tensor& g = ctx.grad(0);
//         return {ctx.needs_grad(0) ? sum_to(mul(g, ctx.saved(1)), ctx.input_shape(0)) : Tensor(),
//                 ctx.needs_grad(1) ? sum_to(mul(g, ctx.saved(0)), ctx.input_shape(1)) : Tensor()};
//       });
//
// The backward lambda uses ops, so with create_graph it records a graph of its own (double
// backward). Non-tensor state (dims, scalars) is captured by value in the lambda.
// Outputs listed in `saved` are recognised and kept without a reference cycle (Note [Saved outputs]).
#pragma once
#include <functional>
#include <string>

#include "autograd/node.h"
#include "autograd/saved_tensor.h"

namespace ember {

class BackwardContext {
 public:
  const Tensor& grad(size_t i) const { return grads_.at(i); }
  const Tensor& saved(size_t i) const { return saved_.at(i); }
  bool needs_grad(size_t input) const { return needs_.at(input); }
  const Shape& input_shape(size_t input) const { return input_shapes_.at(input); }
  DType input_dtype(size_t input) const { return input_dtypes_.at(input); }
  bool create_graph() const;  // whether this backward records a graph (double backward)

 private:
  friend class FunctionNode;
  TensorList grads_;
  TensorList saved_;
  std::vector<bool> needs_;
  std::vector<Shape> input_shapes_;
  std::vector<DType> input_dtypes_;
};

using BackwardFn = std::function<TensorList(BackwardContext&)>;

class FunctionNode : public Node {
 public:
  FunctionNode(std::string op_name, BackwardFn fn) : op_(std::move(op_name)), fn_(std::move(fn)) {}
  ~FunctionNode() override;  // Note [Iterative teardown] (node.h)
  std::string name() const override;  // "MulBackward"
  TensorList apply(TensorList&& grads) override;
  void release_saved() override;
  std::vector<std::string> saved_descriptions() const override;

  std::string op_;
  BackwardFn fn_;
  std::vector<SavedTensor> saved_;
  std::vector<Shape> input_shapes_;
  std::vector<DType> input_dtypes_;
};

// True when grad mode is on and any of `inputs` requires grad.
bool any_requires_grad(const TensorList& inputs);

// Records a backward node for `op` if any input requires grad (and grad mode is on); a no-op
// otherwise. Sets grad_fn on every output. Undefined inputs are allowed (optional arguments).
void record_backward(const std::string& op, const TensorList& inputs, const TensorList& outputs,
                     const TensorList& saved, BackwardFn backward);

// Marks integer / bool outputs of a differentiable op as not requiring grad (e.g. argmax indices).
// Only float outputs carry gradients; record_backward already skips non-float outputs.

}  // namespace ember
