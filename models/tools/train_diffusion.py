#!/usr/bin/env python3
"""Trains the text encoder and the conditional UNet together on the autoencoder's latents.

SD's recipe at small scale: scaled-linear betas (0.00085..0.012, 1000 steps), epsilon prediction,
10% caption dropout for classifier-free guidance, plus min-SNR-5 loss weighting and an EMA of the
weights (both speed up convergence a lot on 2 CPU cores). Resumable: rerun to continue.
Usage: train_diffusion.py [--steps N]"""
import argparse
import copy
import os

import numpy as np
import torch

import clip_bpe
import common
import nets
import shapes_data

BATCH = 64
LR = 8e-4
EMA_DECAY = 0.999
CAPTION_DROPOUT = 0.1
MIN_SNR_GAMMA = 5.0
TRAIN_TEXT_LENGTH = 24  # every training caption ends within 24 tokens (asserted)


def noise_schedule():
    """diffusers' scaled_linear betas and their cumulative alphas."""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, dim=0).float()


def tokenizer_folder():
    """Learns the BPE vocabulary from the training captions once (WORK/tokenizer)."""
    folder = os.path.join(common.WORK, "tokenizer")
    if not os.path.exists(os.path.join(folder, "vocab.json")):
        _, attributes = common.dataset()
        corpus = shapes_data.all_captions(attributes[:20000], seed=3)
        clip_bpe.write(folder, clip_bpe.learn(corpus))
    return folder


def latents_and_scale(device):
    """The dataset encoded once by the trained autoencoder, and SD's scaling factor 1/std."""
    path = os.path.join(common.WORK, "latents.npz")
    if not os.path.exists(path):
        state = torch.load(os.path.join(common.WORK, "autoencoder.pt"), map_location="cpu")
        ae = nets.Autoencoder()
        ae.load_state_dict(state["model"])
        ae.eval().to(device)
        images, _ = common.dataset()
        out = []
        with torch.no_grad():
            for i in range(0, len(images), 500):
                out.append(ae.encoder(common.to_tensor(images[i:i + 500]).to(device)).cpu())
        z = torch.cat(out).numpy()
        scale = float(1.0 / z.std())
        np.savez(path + ".tmp.npz", latents=z, scale=scale, autoencoder_step=state["step"])
        os.replace(path + ".tmp.npz", path)
    data = np.load(path)
    return torch.from_numpy(data["latents"]), float(data["scale"])


def build(vocab_size, eos_id):
    return nets.TextEncoder(vocab_size, eos_id), nets.UNet()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40000)
    args = parser.parse_args()
    device = common.setup()
    tok = clip_bpe.Tokenizer(tokenizer_folder())
    latents, scale = latents_and_scale(device)
    _, attributes = common.dataset()
    text, unet = build(len(tok.vocab), tok.eos)
    text.to(device)
    unet.to(device)
    params = list(text.parameters()) + list(unet.parameters())
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=0.01)
    ckpt = common.Checkpoint("diffusion")
    state = ckpt.load()
    step = 0
    ema = None
    if state:
        text.load_state_dict(state["text"])
        unet.load_state_dict(state["unet"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
        ema = state["ema"]
    if ema is None:
        ema = {"text": copy.deepcopy(text.state_dict()), "unet": copy.deepcopy(unet.state_dict())}
    alphas_cumprod = noise_schedule().to(device)
    rng = np.random.default_rng(2000 + step)
    torch.manual_seed(2000 + step)
    running = 0.0
    while step < args.steps:
        for g in opt.param_groups:
            g["lr"] = LR * min(1.0, (step + 1) / 500)
        idx = rng.integers(0, len(latents), BATCH)
        x0 = latents[idx].to(device) * scale
        captions = ["" if rng.random() < CAPTION_DROPOUT else shapes_data.caption(attributes[i], rng) for i in idx]
        ids = torch.tensor([tok(c) for c in captions], device=device)
        assert bool((ids[:, TRAIN_TEXT_LENGTH - 1] == tok.eos).all()), "a caption is longer than the training text length"
        t = torch.randint(0, 1000, (BATCH,), device=device)
        ab = alphas_cumprod[t][:, None, None, None]
        eps = torch.randn_like(x0)
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
        pred = unet(xt, t, text(ids, TRAIN_TEXT_LENGTH))
        snr = ab / (1 - ab)
        weight = torch.clamp(snr, max=MIN_SNR_GAMMA) / snr
        loss = (weight * (pred - eps).pow(2)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        decay = min(EMA_DECAY, (1 + step) / (10 + step))
        with torch.no_grad():
            for name, module in (("text", text), ("unet", unet)):
                for k, v in module.state_dict().items():
                    if v.dtype.is_floating_point:
                        ema[name][k].mul_(decay).add_(v.detach(), alpha=1 - decay)
        running += loss.item()
        if step % 100 == 0:
            common.log("diffusion", f"step {step} loss {running / 100:.4f}")
            running = 0.0
        final = step == args.steps
        ckpt.save({"text": text.state_dict(), "unet": unet.state_dict(), "opt": opt.state_dict(), "ema": ema,
                   "step": step, "scale": scale, "vocab_size": len(tok.vocab), "eos": tok.eos}, force=final)


if __name__ == "__main__":
    main()
