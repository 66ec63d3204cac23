"""The networks of the tiny-shapes model, in Stable Diffusion's parts: an autoencoder (4 latent
channels, 8x downsampling), a CLIP-style transformer text encoder, a conditional UNet with timestep
embedding and cross-attention, and the attribute classifier used for evaluation.

Attention is written out (matmul + softmax) so that the ONNX export at opset 17 is plain.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

LATENT_CHANNELS = 4
TEXT_LENGTH = 77


def group_norm(channels):
    return nn.GroupNorm(min(16, channels // 4), channels, eps=1e-5)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb_dim=0):
        super().__init__()
        self.norm1, self.conv1 = group_norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = group_norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout) if emb_dim else None
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.emb is not None:
            h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


# ---------------------------------------------------------------- autoencoder
class Encoder(nn.Module):
    """64x64x3 -> 8x8x4: three stride-2 convolutions with a residual block after each (none at full
    resolution, where it would cost most)."""

    def __init__(self, ch=(24, 48, 96, 128)):
        super().__init__()
        layers = [nn.Conv2d(3, ch[0], 3, padding=1)]
        for cin, cout in zip(ch, ch[1:]):
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), ResBlock(cout, cout)]
        layers += [group_norm(ch[-1]), nn.SiLU(), nn.Conv2d(ch[-1], LATENT_CHANNELS, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    """8x8x4 -> 64x64x3 (roughly in [-1, 1])."""

    def __init__(self, ch=(128, 96, 48, 24)):
        super().__init__()
        layers = [nn.Conv2d(LATENT_CHANNELS, ch[0], 3, padding=1), ResBlock(ch[0], ch[0])]
        for i, (cin, cout) in enumerate(zip(ch, ch[1:])):
            layers += [nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1)]
            if i < len(ch) - 2:
                layers.append(ResBlock(cout, cout))
        layers += [group_norm(ch[-1]), nn.SiLU(), nn.Conv2d(ch[-1], 3, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z)


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = Encoder(), Decoder()


# ---------------------------------------------------------------- attention
class Attention(nn.Module):
    def __init__(self, dim, context_dim=None, heads=4):
        super().__init__()
        context_dim = context_dim or dim
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(context_dim, dim, bias=False)
        self.v = nn.Linear(context_dim, dim, bias=False)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, context=None, causal_mask=None):
        context = x if context is None else context
        b, n, d = x.shape
        h = self.heads
        q = self.q(x).reshape(b, n, h, d // h).transpose(1, 2)
        k = self.k(context).reshape(b, context.shape[1], h, d // h).transpose(1, 2)
        v = self.v(context).reshape(b, context.shape[1], h, d // h).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h))
        if causal_mask is not None:
            scores = scores + causal_mask
        y = torch.matmul(scores.softmax(dim=-1), v)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


# ---------------------------------------------------------------- text encoder
class TextEncoder(nn.Module):
    """CLIP-style: token + position embeddings, pre-LN causal transformer, final LayerNorm.

    Unlike CLIP, every position after the first end token outputs one learned padding vector. With the
    causal mask nothing before the end token depends on what follows, so training can run on the first
    `length` tokens only (2-3x cheaper) and the 77-token export gives exactly the same states.
    """

    def __init__(self, vocab_size, eos_id, dim=128, layers=2, heads=4):
        super().__init__()
        self.eos_id = eos_id
        self.pad = nn.Parameter(torch.zeros(dim))
        self.token = nn.Embedding(vocab_size, dim)
        self.position = nn.Parameter(torch.randn(1, TEXT_LENGTH, dim) * 0.01)
        self.blocks = nn.ModuleList(nn.ModuleDict({
            "ln1": nn.LayerNorm(dim), "attn": Attention(dim, heads=heads),
            "ln2": nn.LayerNorm(dim), "mlp": nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)),
        }) for _ in range(layers))
        self.final = nn.LayerNorm(dim)
        mask = torch.full((TEXT_LENGTH, TEXT_LENGTH), -1e9).triu(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, input_ids, length=TEXT_LENGTH):
        """input_ids [B,77] -> last_hidden_state [B,77,dim]; `length` < 77 (training) computes only the
        first `length` positions, which must hold every end token."""
        if length < TEXT_LENGTH:
            ids, position, mask = input_ids[:, :length], self.position[:, :length], self.mask[:length, :length]
        else:  # the exported path: no slicing in the graph
            ids, position, mask = input_ids, self.position, self.mask
        x = self.token(ids) + position
        for blk in self.blocks:
            x = x + blk["attn"](blk["ln1"](x), causal_mask=mask)
            x = x + blk["mlp"](blk["ln2"](x))
        x = self.final(x)
        if length < TEXT_LENGTH:
            x = torch.cat([x, x.new_zeros(x.shape[0], TEXT_LENGTH - length, x.shape[2])], dim=1)
        is_eos = (input_ids == self.eos_id).to(torch.int64)
        after_eos = ((torch.cumsum(is_eos, dim=1) - is_eos) > 0).unsqueeze(-1)
        return torch.where(after_eos, self.pad, x)


# ---------------------------------------------------------------- UNet
class TransformerBlock(nn.Module):
    """SD's spatial transformer: self-attention, cross-attention to the text, feed-forward."""

    def __init__(self, channels, context_dim, heads=4):
        super().__init__()
        self.norm = group_norm(channels)
        self.proj_in = nn.Linear(channels, channels)
        self.ln1, self.attn1 = nn.LayerNorm(channels), Attention(channels, heads=heads)
        self.ln2, self.attn2 = nn.LayerNorm(channels), Attention(channels, context_dim, heads=heads)
        self.ln3 = nn.LayerNorm(channels)
        self.ff = nn.Sequential(nn.Linear(channels, 4 * channels), nn.GELU(), nn.Linear(4 * channels, channels))
        self.proj_out = nn.Linear(channels, channels)

    def forward(self, x, context):
        b, c, hgt, wid = x.shape
        h = self.norm(x).reshape(b, c, hgt * wid).transpose(1, 2)
        h = self.proj_in(h)
        h = h + self.attn1(self.ln1(h))
        h = h + self.attn2(self.ln2(h), context)
        h = h + self.ff(self.ln3(h))
        h = self.proj_out(h).transpose(1, 2).reshape(b, c, hgt, wid)
        return x + h


def timestep_embedding(t, dim):
    """Sinusoidal embedding of (possibly fractional) timesteps [B] -> [B, dim] (SD's flip_sin_to_cos)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class UNet(nn.Module):
    """Two resolutions (8x8, 4x4) with a transformer block at each; epsilon prediction."""

    def __init__(self, context_dim=128, ch=(64, 128), emb_dim=256):
        super().__init__()
        c0, c1 = ch
        self.base = c0
        self.time = nn.Sequential(nn.Linear(c0, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.conv_in = nn.Conv2d(LATENT_CHANNELS, c0, 3, padding=1)
        self.down0, self.attn_d0 = ResBlock(c0, c0, emb_dim), TransformerBlock(c0, context_dim)
        self.downsample = nn.Conv2d(c0, c0, 3, stride=2, padding=1)
        self.down1, self.attn_d1 = ResBlock(c0, c1, emb_dim), TransformerBlock(c1, context_dim)
        self.mid1, self.attn_mid, self.mid2 = ResBlock(c1, c1, emb_dim), TransformerBlock(c1, context_dim), ResBlock(c1, c1, emb_dim)
        self.up1, self.attn_u1 = ResBlock(c1 + c1, c1, emb_dim), TransformerBlock(c1, context_dim)
        self.upsample = nn.Sequential(nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(c1, c1, 3, padding=1))
        self.up0, self.attn_u0 = ResBlock(c1 + c0, c0, emb_dim), TransformerBlock(c0, context_dim)
        self.out = nn.Sequential(group_norm(c0), nn.SiLU(), nn.Conv2d(c0, LATENT_CHANNELS, 3, padding=1))

    def forward(self, sample, timestep, context):
        emb = self.time(timestep_embedding(timestep, self.base))
        h0 = self.conv_in(sample)
        h0 = self.attn_d0(self.down0(h0, emb), context)
        h1 = self.attn_d1(self.down1(self.downsample(h0), emb), context)
        m = self.mid2(self.attn_mid(self.mid1(h1, emb), context), emb)
        u1 = self.attn_u1(self.up1(torch.cat([m, h1], 1), emb), context)
        # Upsampled to the skip's own size, so odd latent sizes (images of 8 * odd pixels) work too.
        up = self.upsample[1](F.interpolate(u1, size=h0.shape[-2:], mode="nearest"))
        u0 = self.attn_u0(self.up0(torch.cat([up, h0], 1), emb), context)
        return self.out(u0)


# ---------------------------------------------------------------- evaluation classifier
class AttributeClassifier(nn.Module):
    """64x64 RGB in [0,1] -> logits per attribute (shape, colour, background, position, size)."""

    def __init__(self, heads):
        super().__init__()
        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))
        # Average-pooled to 32x32 first: every attribute is still plain there, at a quarter of the cost.
        self.features = nn.Sequential(nn.AvgPool2d(2), block(3, 32), block(32, 64), block(64, 96), block(96, 128))  # -> 2x2
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(128 * 4, 256), nn.ReLU())
        self.heads = nn.ModuleList(nn.Linear(256, n) for n in heads)

    def forward(self, image):
        f = self.fc(self.features(image))
        return tuple(h(f) for h in self.heads)
