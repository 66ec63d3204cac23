#!/usr/bin/env python3
"""Progressive distillation (Salimans & Ho, 2022) of the guided tiny-shapes teacher.

Round N trains an N-step student from a 2N-step teacher: for a training latent at a timestep t of
the N-step (trailing) DDIM grid, two teacher DDIM steps t -> t - T/2N -> t - T/N give z'; the target
x~ is the x0 with which one DDIM step from z_t lands exactly on z'. The student predicts v (the
paper's advice: epsilon cannot express x0 at t = T) and is trained on x with truncated-SNR weighting
max(SNR, 1). The first teacher is the epsilon UNet with classifier-free guidance at a fixed scale, so
every student runs one UNet pass per step without guidance; each student initialises from, and then
teaches, the next. Resumable per round. Usage: distill.py [--rounds 4,2,1] [--steps 400] [--guidance 5]
"""
import argparse
import copy
import os
import time

import numpy as np
import torch

import clip_bpe
import common
import ddim
import shapes_data
import train_diffusion

BATCH = 32
LR = 2e-4


def load_student(steps):
    state = torch.load(os.path.join(common.WORK, f"distill_{steps}.pt"), map_location="cpu")
    _, unet = train_diffusion.build(state["vocab_size"], state["eos"])
    unet.load_state_dict(state["unet"])
    return unet.eval()


def teacher_x0_fn(steps_of_teacher, teacher_unet, is_student, uncond, guidance):
    def fn(z, t, cond):
        if is_student:
            return ddim.x0_from_v(z, t, teacher_unet(z, torch.full((z.shape[0],), t), cond))
        return ddim.guided_x0(teacher_unet, z, t, cond, uncond.expand(z.shape[0], -1, -1), guidance)
    return fn


def distill_round(steps, teacher_unet, teacher_is_student, text, tok, latents, scale, attributes, guidance, total_steps):
    ckpt = common.Checkpoint(f"distill_{steps}")
    state = ckpt.load()
    student = copy.deepcopy(teacher_unet).train()
    opt = torch.optim.Adam(student.parameters(), lr=LR)
    step = 0
    if state:
        student.load_state_dict(state["unet"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    if step >= total_steps:
        return student.eval()
    teacher_unet.eval()
    for p in teacher_unet.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        uncond = text(torch.tensor([tok("")]), train_diffusion.TRAIN_TEXT_LENGTH)
    teacher = teacher_x0_fn(2 * steps, teacher_unet, teacher_is_student, uncond, guidance)
    grid = ddim.timesteps(steps)
    rng = np.random.default_rng(5000 + 10 * steps + step)
    torch.manual_seed(5000 + 10 * steps + step)
    started, first, running = time.time(), step, 0.0
    while step < total_steps:
        for g in opt.param_groups:
            g["lr"] = LR * (0.2 if step > 0.7 * total_steps else 1.0)
        idx = rng.integers(0, len(latents), BATCH)
        x0 = latents[idx] * scale
        with torch.no_grad():
            cond = text(torch.tensor([tok(shapes_data.caption(attributes[i], rng)) for i in idx]), train_diffusion.TRAIN_TEXT_LENGTH)
            t = grid[int(rng.integers(steps))]
            t_mid, t_next = t - ddim.TRAIN_STEPS // (2 * steps), t - ddim.TRAIN_STEPS // steps
            a, s = ddim.alpha_sigma(t)
            z = a * x0 + s * torch.randn_like(x0)
            z_mid = ddim.step(z, t, t_mid, teacher(z, t, cond))
            z_next = ddim.step(z_mid, t_mid, t_next, teacher(z_mid, t_mid, cond))
            a_next, s_next = ddim.alpha_sigma(t_next)
            target = (z_next - (s_next / s) * z) / (a_next - (s_next / s) * a)
            weight = max(float(a * a / (s * s)), 1.0)
        x0_hat = ddim.x0_from_v(z, t, student(z, torch.full((BATCH,), t), cond))
        loss = weight * (x0_hat - target).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        step += 1
        running += loss.item()
        if step % 50 == 0 or step == total_steps:
            rate = (time.time() - started) / (step - first)
            common.log("distill", f"round {steps}-step: step {step}/{total_steps} loss {running / 50:.4f} ({rate:.2f} s/step)")
            running = 0.0
        ckpt.save({"unet": student.state_dict(), "opt": opt.state_dict(), "step": step, "guidance": guidance,
                   "vocab_size": len(tok.vocab), "eos": tok.eos}, force=step == total_steps)
    return student.eval()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", default="4,2,1")
    parser.add_argument("--steps", type=int, default=400, help="training steps per round")
    parser.add_argument("--guidance", type=float, default=5.0)
    args = parser.parse_args()
    common.setup()
    import export_model
    text, unet, _, scale, _ = export_model.load_teacher()
    text.eval()
    tok = clip_bpe.Tokenizer(os.path.join(common.WORK, "tokenizer"))
    latents, _ = train_diffusion.latents_and_scale("cpu")
    _, attributes = common.dataset()
    teacher, is_student = unet, False
    for steps in (int(s) for s in args.rounds.split(",")):
        teacher = distill_round(steps, teacher, is_student, text, tok, latents, scale, attributes, args.guidance, args.steps)
        is_student = True


if __name__ == "__main__":
    main()
