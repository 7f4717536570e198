// Backend consistency (reduce, softmax, losses, norms, embedding, dropout: CUDA vs CPU): being written.
