"""PyTorch twins of test/bench/bench_linear_attention.cpp (loaded by scripts/compare_torch.py).

Each public function takes the torch module and returns a zero-argument callable running one
iteration: forward + backward of sum(out). PyTorch 1.13 has no linear-attention kernel, so the
twin is the usual chunked composite of the same computation (as in the flash-linear-attention
project's naive reference): per chunk of 64 steps, the intra-chunk masked product
(Q Kᵀ ⊙ causal) V plus Q times the state of the earlier chunks, whose per-chunk Kᵀ V products are
summed by cumsum (every chunk's state is materialised, (B, H, L/C, d, d)).
"""

_SHAPE = (4, 4, 4096, 64)
_CHUNK = 64


def _chunked_linear_attention(torch, q, k, v, causal=True, chunk=_CHUNK):
    """o_t = sum_{s <= t} (q_t . k_s) v_s (all s when not causal), q, k: (B, H, L, dk), v: (B, H, L, dv)."""
    if not causal:
        return q @ (k.transpose(-1, -2) @ v)
    b, h, length, dk = q.shape
    dv = v.shape[-1]
    n = length // chunk
    qc = q.reshape(b, h, n, chunk, dk)
    kc = k.reshape(b, h, n, chunk, dk)
    vc = v.reshape(b, h, n, chunk, dv)
    above = torch.triu(torch.ones(chunk, chunk, dtype=torch.bool), diagonal=1)
    intra = (qc @ kc.transpose(-1, -2)).masked_fill(above, 0.0) @ vc
    states = (kc.transpose(-1, -2) @ vc).cumsum(2)  # state after each chunk
    entering = torch.cat([torch.zeros_like(states[:, :, :1]), states[:, :, :-1]], dim=2)
    return (intra + qc @ entering).reshape(b, h, length, dv)


def _inputs(torch):
    torch.manual_seed(0)
    return [torch.randn(*_SHAPE, requires_grad=True) for _ in range(3)]


def _fwdbwd(torch, causal=True, normalize=False):
    q, k, v = _inputs(torch)

    def step():
        q.grad = k.grad = v.grad = None
        if normalize:  # elu(x) + 1 feature map; the denominator rides along as a ones column of v
            qf, kf = torch.nn.functional.elu(q) + 1, torch.nn.functional.elu(k) + 1
            ones = torch.ones(*v.shape[:-1], 1)
            both = _chunked_linear_attention(torch, qf, kf, torch.cat([v, ones], dim=-1), causal)
            out = both[..., :-1] / (both[..., -1:] + 1e-6)
        else:
            out = _chunked_linear_attention(torch, q, k, v, causal)
        out.sum().backward()
    return step


def linear_attn_causal_b4h4_L4096_d64_fwdbwd(torch):
    return _fwdbwd(torch)


def linear_attn_noncausal_b4h4_L4096_d64_fwdbwd(torch):
    return _fwdbwd(torch, causal=False)


def linear_attn_causal_elu1_normalized_b4h4_L4096_d64_fwdbwd(torch):
    return _fwdbwd(torch, normalize=True)
