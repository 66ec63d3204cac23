#!/usr/bin/env python3
"""Trains the evaluation classifier (shape, colour, background, position, size from a 64x64 image)
and reports its held-out accuracy per attribute. Resumable. Usage: train_classifier.py [--steps N]"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F

import common
import nets
import shapes_data

BATCH = 128


def accuracy(model, images, attributes, device):
    model.eval()
    correct = np.zeros(len(shapes_data.ATTRIBUTES))
    with torch.no_grad():
        for i in range(0, len(images), 500):
            x = (common.to_tensor(images[i:i + 500]).to(device) + 1) / 2
            for k, logits in enumerate(model(x)):
                correct[k] += (logits.argmax(1).cpu().numpy() == attributes[i:i + 500, k]).sum()
    model.train()
    return correct / len(images)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1500)
    args = parser.parse_args()
    device = common.setup()
    images, attributes = common.dataset()
    held_images, held_attributes = common.dataset(common.HELD_OUT_COUNT, common.HELD_OUT_SEED)
    model = nets.AttributeClassifier([len(v) for v in shapes_data.ATTRIBUTES.values()]).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    ckpt = common.Checkpoint("classifier")
    step = ckpt.resume(model, opt)
    rng = np.random.default_rng(3000 + step)
    while step < args.steps:
        for g in opt.param_groups:
            g["lr"] = 2e-3 * (0.1 if step > 0.75 * args.steps else 1.0)
        idx = rng.integers(0, len(images), BATCH)
        x = (common.to_tensor(images[idx]).to(device) + 1) / 2
        # A little pixel noise, so that a generated image's small imperfections do not throw the classifier.
        x = (x + 0.03 * torch.randn_like(x)).clamp(0, 1)
        y = torch.from_numpy(attributes[idx]).to(device)
        loss = sum(F.cross_entropy(logits, y[:, k]) for k, logits in enumerate(model(x)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0 or step == args.steps:
            acc = accuracy(model, held_images, held_attributes, device)
            common.log("classifier", f"step {step} loss {loss.item():.4f} held-out accuracy " +
                       " ".join(f"{k} {a:.4f}" for k, a in zip(shapes_data.ATTRIBUTES, acc)))
            ckpt.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "accuracy": acc.tolist()},
                      force=step == args.steps)


if __name__ == "__main__":
    main()
