// GPU benchmarks: fused attention, linear attention: being written.
