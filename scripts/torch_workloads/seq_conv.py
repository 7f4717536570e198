"""PyTorch twins of test/bench/bench_seq_conv.cpp (same names; loaded by scripts/compare_torch.py).

PyTorch 1.13 has no fused long convolution: the FFT one is the usual composite (rfft of the
zero-padded rows, product, irfft, crop, as H3/Hyena/MEGA write it), and the short one is a grouped
conv1d. Both take and return the models' (B, L, D) layout, as the Ember ops do.
"""


def long_conv_fft_b4_c256_L16384_fwdbwd(torch):
    B, L, D = 4, 16384, 256
    x = torch.randn(B, L, D, requires_grad=True)
    k = (torch.randn(D, L) * 0.01).requires_grad_(True)

    def step():
        x.grad = k.grad = None
        n = 2 * L  # >= L + K - 1, as Ember's fast size 32768
        xf = torch.fft.rfft(x.transpose(1, 2), n=n)       # (B, D, n/2 + 1)
        kf = torch.fft.rfft(k, n=n)                        # (D, n/2 + 1)
        y = torch.fft.irfft(xf * kf, n=n)[..., :L]         # (B, D, L)
        y.transpose(1, 2).sum().backward()
    return step


def short_conv_b8_L4096_d512_k4_fwdbwd(torch):
    B, L, D, K = 8, 4096, 512, 4
    x = torch.randn(B, L, D, requires_grad=True)
    w = torch.randn(D, K, requires_grad=True)
    bias = torch.randn(D, requires_grad=True)

    def step():
        x.grad = w.grad = bias.grad = None
        # Causal: pad K - 1 on the left; conv1d correlates, so the taps are flipped.
        z = torch.nn.functional.conv1d(x.transpose(1, 2), w.flip(1).unsqueeze(1), bias, padding=K - 1, groups=D)
        torch.nn.functional.silu(z[..., :L]).transpose(1, 2).sum().backward()
    return step
