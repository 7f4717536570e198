// Backend consistency (shape, index, pool, sort, interpolate, fold: CUDA vs CPU): being written.
