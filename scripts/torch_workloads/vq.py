"""PyTorch twins of test/bench/bench_vq.cpp (same workload names; loaded by scripts/compare_torch.py).

Each function takes the torch module and returns a zero-argument callable running one iteration.
"""


def vq_nearest_n65536_k512_d384(torch):
    # The usual composite (VQ-VAE implementations): ||z||² - 2 z cᵀ + ||c||² as one matmul into a
    # (65536, 512) distance matrix, argmin, gather, straight-through z + (e - z).detach(), and the
    # backward of the sum.
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(65536, 384, generator=gen, requires_grad=True)
    codebook = torch.randn(512, 384, generator=gen)

    def step():
        z.grad = None
        with torch.no_grad():
            distances = (z.pow(2).sum(1, keepdim=True) - 2 * z @ codebook.t()
                         + codebook.pow(2).sum(1)[None, :])
            indices = distances.argmin(1)
        quantized = codebook[indices]
        (z + (quantized - z).detach()).sum().backward()
    return step


def vq_attention_causal_b1h4_L4096_s256_d64_fwdbwd(torch):
    # No linear-time VQ attention exists in PyTorch: the twin is the quadratic composite of the same
    # function (causal softmax over the quantized keys, window bias), forward + backward of the sum.
    gen = torch.Generator().manual_seed(0)
    shape = (1, 4, 4096, 64)
    q, k, v = (torch.randn(*shape, generator=gen, requires_grad=True) for _ in range(3))
    bias = (0.1 * torch.randn(4, 64, generator=gen)).requires_grad_(True)
    codebook = torch.randn(4, 256, 64, generator=gen)
    indices = torch.randint(0, 256, (1, 4, 4096), generator=gen)
    L, window = 4096, 64
    offsets = torch.arange(L)[:, None] - torch.arange(L)[None, :]
    near = (offsets >= 0) & (offsets < window)
    keep = offsets >= 0
    k_hat = torch.stack([codebook[h][indices[0, h]] for h in range(4)])[None]

    def step():
        q.grad = k.grad = v.grad = bias.grad = None
        k_st = k + (k_hat - k).detach()
        near_scores = q @ k_st.transpose(-2, -1) / 8.0 + bias[:, offsets.clamp(0, window - 1)][None]
        far_scores = q @ k_hat.transpose(-2, -1) / 8.0
        scores = torch.where(near, near_scores, far_scores).masked_fill(~keep, float("-inf"))
        (torch.softmax(scores, -1) @ v).sum().backward()
    return step
