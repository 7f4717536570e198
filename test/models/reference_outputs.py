#!/usr/bin/python3
"""Prints the reference logits pasted into test/models/test_param_counts.cpp.

Each model gets deterministic weights (no weight files): every state_dict parameter, in sorted key
order k, is filled from its flat index j with
    dim >= 2:         sin(0.7 j + 1.3 k) * sqrt(3 / fan_in),  fan_in = numel / size(0)
    1-d "...weight" or "...gamma":  1 + 0.1 sin(0.7 j + 1.3 k)
    other 1-d:        0.1 sin(0.7 j + 1.3 k)
buffers keep their defaults (BN running mean 0, var 1), the model runs in eval mode on the input
x[i] = sin(0.37 i). torchvision provides ResNet / VGG; timm is not installed here, so ViT and
ConvNeXt are transcribed below from timm's VisionTransformer and the official ConvNeXt.
Run with Debian's PyTorch 1.13: /usr/bin/python3 test/models/reference_outputs.py
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.set_default_dtype(torch.float64)  # the references are computed in float64


def fill(model):
    params = dict(model.named_parameters())
    with torch.no_grad():
        for k, name in enumerate(sorted(params)):
            p = params[name]
            j = torch.arange(p.numel(), dtype=torch.float64)
            s = torch.sin(0.7 * j + 1.3 * k)
            if p.dim() >= 2:
                v = s * math.sqrt(3.0 / (p.numel() / p.shape[0]))
            elif name.endswith("weight") or name.endswith("gamma"):
                v = 1 + 0.1 * s
            else:
                v = 0.1 * s
            p.copy_(v.reshape(p.shape))
    return model.eval()


def inputs(shape):
    n = math.prod(shape)
    return torch.sin(0.37 * torch.arange(n, dtype=torch.float64)).reshape(shape)


# ---- timm's VisionTransformer (the parts the zoo uses) ----
class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1) * (C // self.heads) ** -0.5).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention(dim, heads)
        self.norm2, self.mlp = nn.LayerNorm(dim, eps=1e-6), Mlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, patch, patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, img, patch, dim, depth, heads, classes, global_pool):
        super().__init__()
        self.global_pool = global_pool
        self.patch_embed = PatchEmbed(patch, 3, dim)
        tokens = (img // patch) ** 2
        if global_pool == "token":
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            tokens += 1
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        use_fc_norm = global_pool == "avg"
        self.norm = nn.Identity() if use_fc_norm else nn.LayerNorm(dim, eps=1e-6)
        self.fc_norm = nn.LayerNorm(dim, eps=1e-6) if use_fc_norm else nn.Identity()
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x)
        if self.global_pool == "token":
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.norm(self.blocks(x + self.pos_embed))
        x = x[:, 0] if self.global_pool == "token" else x.mean(dim=1)
        return self.head(self.fc_norm(x))


# ---- the official ConvNeXt ----
class LayerNorm2d(nn.Module):  # LayerNorm(data_format="channels_first")
    def __init__(self, dim):
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.ones(dim)), nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + 1e-6)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1, self.act, self.pwconv2 = nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.gamma * self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + y.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(self, depths, dims, classes, stem_patch):
        super().__init__()
        self.downsample_layers = nn.ModuleList([nn.Sequential(nn.Conv2d(3, dims[0], stem_patch, stem_patch), LayerNorm2d(dims[0]))])
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(LayerNorm2d(dims[i]), nn.Conv2d(dims[i], dims[i + 1], 2, 2)))
        self.stages = nn.ModuleList([nn.Sequential(*[ConvNeXtBlock(d) for _ in range(n)]) for n, d in zip(depths, dims)])
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], classes)

    def forward(self, x):
        for down, stage in zip(self.downsample_layers, self.stages):
            x = stage(down(x))
        return self.head(self.norm(x.mean([-2, -1])))


def resnet18_cifar():
    m = torchvision.models.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    return m


cases = [
    ("resnet18 cifar stem, 10 classes", resnet18_cifar(), (1, 3, 32, 32)),
    ("resnet50 imagenet", torchvision.models.resnet50(), (1, 3, 64, 64)),
    ("vgg13_bn imagenet", torchvision.models.vgg13_bn(), (1, 3, 32, 32)),
    ("deit_tiny patch 16, 32x32, depth 2, 1000 classes", VisionTransformer(32, 16, 192, 2, 3, 1000, "token"), (2, 3, 32, 32)),
    ("vit_tiny patch 4, 32x32, depth 6, mean pooling, 10 classes", VisionTransformer(32, 4, 192, 6, 3, 10, "avg"), (2, 3, 32, 32)),
    ("convnext_tiny imagenet", ConvNeXt([3, 3, 9, 3], [96, 192, 384, 768], 1000, 4), (1, 3, 32, 32)),
    ("mlp 784-512-512-10", nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                                         nn.Linear(512, 10)), (2, 1, 28, 28)),
]
for name, model, shape in cases:
    with torch.no_grad():
        out = fill(model)(inputs(shape)).flatten()
    # The first 10 logits are enough to pin the computation down.
    print(f"// {name}: {len(out)} logits, first 10")
    print("{" + ", ".join(f"{v:.10g}" for v in out[:10].tolist()) + "}")
