// GPU benchmarks: GEMM vs cuBLAS, copy GB/s, memory-bound kernels: being written.
