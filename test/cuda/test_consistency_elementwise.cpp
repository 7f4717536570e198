// Backend consistency (elementwise, unary, activation, compare: CUDA vs CPU): being written.
