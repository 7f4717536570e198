// Backend consistency (linear attention, scaled-dot-product attention: CUDA vs CPU): being written.
