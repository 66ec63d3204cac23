#!/usr/bin/python3
"""Writes noise_references.json: torch.randn values (CPU, float32) for the C# TorchGenerator tests.

Run with Debian's python3-torch: /usr/bin/python3 make_noise_references.py
Small tensors (< 64 elements) are stored in full; larger ones as first 32, last 32, sum and mean.
"""
import json
import torch

SEEDS = [0, 1, 42, 100, 12345, 2**32 - 1, 2**32 + 7, 2**40 + 5, 2**63 + 3, 2**64 - 1]
SIZES = [1, 2, 7, 15, 16, 17, 31, 32, 33, 256, 4 * 8 * 8, 4 * 64 * 64]
SEQUENCES = [[5, 256, 3], [1, 1, 1, 16, 1], [3, 17, 15, 2], [4 * 8 * 8, 4 * 8 * 8, 7]]
SHAPES = [[1, 4, 8, 8], [1, 4, 64, 64], [1, 4, 96, 64], [1, 4, 9, 7]]


def summarize(t):
    v = t.flatten().tolist()
    d = {"n": len(v)}
    if len(v) < 64:
        d["values"] = v
    else:
        d["first"] = v[:32]
        d["last"] = v[-32:]
        d["sum"] = float(t.double().sum())
        d["mean"] = float(t.double().mean())
    return d


def gen(seed):
    try:
        return torch.Generator().manual_seed(seed)
    except RuntimeError:
        return None


out = {"torch": torch.__version__, "single": [], "sequences": [], "shapes": []}
for seed in SEEDS:
    if gen(seed) is None:
        continue
    for n in SIZES:
        out["single"].append({"seed": seed, **summarize(torch.randn(n, generator=gen(seed)))})
    for seq in SEQUENCES:
        g = gen(seed)
        out["sequences"].append({"seed": seed, "calls": [summarize(torch.randn(n, generator=g)) for n in seq]})
for seed in [0, 42, 2**32 + 7]:
    for shape in SHAPES:
        g = gen(seed)
        out["shapes"].append({"seed": seed, "shape": shape, "initial": summarize(torch.randn(shape, generator=g)),
                              "next": summarize(torch.randn(shape, generator=g))})
with open("noise_references.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("seeds accepted:", sorted({e["seed"] for e in out["single"]}))
