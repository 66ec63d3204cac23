#!/usr/bin/env python3
"""Quick prompt-adherence check in PyTorch, for deciding while training (the reported numbers come
from the C# evaluation through the service): DDIM samples of the teacher (guided) and of the students
over models/evaluation/prompts.json, classified by the attribute classifier.
Usage: evaluate_model.py [--teacher 50,8,4,2,1] [--students 4,2,1] [--guidance 5]"""
import argparse
import json
import os
import time

import numpy as np
import torch

import clip_bpe
import common
import ddim
import distill
import export_model
import nets
import shapes_data
import train_diffusion


def adherence(images, prompts, classifier):
    """Fraction of images whose classified attribute matches the prompt, per attribute."""
    with torch.no_grad():
        logits = classifier(((images.clamp(-1, 1) + 1) / 2))
    scores = {}
    for k, (name, classes) in enumerate(shapes_data.ATTRIBUTES.items()):
        want = torch.tensor([classes.index(p[name]) for p in prompts])
        scores[name] = float((logits[k].argmax(1) == want).float().mean())
    return scores


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--teacher", default="50,8,4,2,1")
    parser.add_argument("--students", default="")
    parser.add_argument("--guidance", type=float, default=5.0)
    args = parser.parse_args()
    common.setup()
    text, unet, ae, scale, step = export_model.load_teacher()
    for m in (text, unet, ae):
        m.eval()
    tok = clip_bpe.Tokenizer(os.path.join(common.WORK, "tokenizer"))
    classifier = nets.AttributeClassifier([len(v) for v in shapes_data.ATTRIBUTES.values()])
    classifier.load_state_dict(torch.load(os.path.join(common.WORK, "classifier.pt"), map_location="cpu")["model"])
    classifier.eval()
    with open(os.path.join(common.MODELS, "evaluation", "prompts.json")) as f:
        spec = json.load(f)
    prompts = [p for _ in spec["seeds"] for p in spec["prompts"]]
    noise = torch.cat([torch.randn(len(spec["prompts"]), 4, 8, 8, generator=torch.Generator().manual_seed(s)) for s in spec["seeds"]])
    with torch.no_grad():
        cond = text(torch.tensor([tok(p["prompt"]) for p in prompts]))
        uncond = text(torch.tensor([tok("")])).expand(len(prompts), -1, -1)
    runs = [(f"teacher (step {step}) w={args.guidance}", int(n), lambda z, t, u=unet: ddim.guided_x0(u, z, t, cond, uncond, args.guidance))
            for n in args.teacher.split(",") if n]
    for n in (int(s) for s in args.students.split(",") if s):
        student = distill.load_student(n)
        runs.append((f"student {n}-step", n, lambda z, t, s=student: ddim.x0_from_v(z, t, s(z, torch.full((z.shape[0],), t), cond))))
    print(f"{'model':32} steps " + " ".join(f"{k:>10}" for k in shapes_data.ATTRIBUTES) + "   s/image")
    for name, steps, fn in runs:
        start = time.time()
        with torch.no_grad():
            images = ae.decoder(ddim.sample(fn, noise, steps) / scale)
        seconds = (time.time() - start) / len(prompts)
        scores = adherence(images, prompts, classifier)
        print(f"{name:32} {steps:5} " + " ".join(f"{100 * v:9.1f}%" for v in scores.values()) + f"   {seconds:.4f}", flush=True)


if __name__ == "__main__":
    main()
