// Backend consistency (fft, long/short conv, damped EMA, VQ: CUDA vs CPU): being written.
