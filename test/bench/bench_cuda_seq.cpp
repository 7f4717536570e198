// GPU benchmarks: FFT long conv, VQ nearest codeword: being written.
