#!/usr/bin/env python3
"""Trains the autoencoder (64x64x3 <-> 8x8x4). Deterministic, with a little latent noise so the
decoder tolerates imperfect latents (an SD-style KL posterior stalled at the mean colour here).
Resumable: rerun to continue. Usage: train_autoencoder.py [--steps N]"""
import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

import common
import nets

BATCH = 32
LATENT_NOISE = 0.03
LATENT_PENALTY = 1e-3
EDGE_WEIGHT = 10.0
LR = 6e-4  # 1e-3 spiked once here; gradients are clipped too


def edge_mask(x):
    """1 within a pixel of a colour change, else 0 ([B,1,H,W])."""
    dx = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().amax(1, keepdim=True)
    dy = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().amax(1, keepdim=True)
    edges = F.pad(dx, (0, 1, 0, 0)) + F.pad(dy, (0, 0, 0, 1))
    return (F.max_pool2d(edges, 3, stride=1, padding=1) > 0.1).float()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    device = common.setup()
    images, _ = common.dataset()
    held_out, _ = common.dataset(common.HELD_OUT_COUNT, common.HELD_OUT_SEED)
    model = nets.Autoencoder().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    ckpt = common.Checkpoint("autoencoder")
    step = ckpt.resume(model, opt)
    rng = np.random.default_rng(1000 + step)
    started, first = time.time(), step
    while step < args.steps:
        lr = LR * min(1.0, (step + 1) / 200) * (0.1 if step > 0.85 * args.steps else 1.0)
        for g in opt.param_groups:
            g["lr"] = lr
        x = common.to_tensor(images[rng.integers(0, len(images), BATCH)]).to(device)
        z = model.encoder(x)
        recon = model.decoder(z + LATENT_NOISE * torch.randn_like(z))
        # Shapes are a small fraction of the pixels: weight the pixels near an edge, or the autoencoder
        # learns the colours long before the outlines.
        weight = 1.0 + EDGE_WEIGHT * edge_mask(x)
        err = recon - x
        loss = (weight * (err.pow(2) + 0.5 * err.abs())).mean() + LATENT_PENALTY * z.pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 50 == 0 or step == args.steps:
            with torch.no_grad():
                model.eval()
                hx = common.to_tensor(held_out[:256]).to(device)
                hz = model.encoder(hx)
                mse = F.mse_loss(model.decoder(hz).clamp(-1, 1), hx).item()
                model.train()
            psnr = 10 * np.log10(4.0 / mse)
            rate = (time.time() - started) / (step - first)
            common.log("autoencoder", f"step {step} loss {loss.item():.4f} held-out PSNR {psnr:.2f} dB latent std {hz.std().item():.3f} ({rate:.2f} s/step)")
            ckpt.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, force=step == args.steps)


if __name__ == "__main__":
    main()
