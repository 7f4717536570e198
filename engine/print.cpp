// Printing tensors with fmt, like PyTorch.
