// Matrix products: matmul (PyTorch broadcasting), bmm, linear, outer, einsum (two operands).
