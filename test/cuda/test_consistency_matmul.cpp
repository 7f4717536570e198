// Backend consistency (matmul/linear (cuBLASLt), conv (cuDNN): CUDA vs CPU): being written.
