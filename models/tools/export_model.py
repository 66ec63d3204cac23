#!/usr/bin/env python3
"""Exports a trained model to the optimum ONNX folder layout the service reads (CONTRACT §2):
model_index.json, scheduler/, tokenizer/, text_encoder/, unet/, vae_decoder/, vae_encoder/, their
config.json files, and diffusiongrpc.json (the service's per-model defaults and the latent->RGB
preview factors, fitted by least squares on the autoencoder).

It also writes reference inputs and PyTorch outputs next to the C# tests, which check that ONNX Runtime
gives the same numbers (tests/DiffusionGrpc.Core.Tests/TestData/tiny-shapes/).

Usage: export_model.py                      the teacher -> models/tiny-shapes
       export_model.py --student N          the N-step distilled student -> models/tiny-shapes-N-step
"""
import argparse
import base64
import json
import os
import shutil

import numpy as np
import torch
from torch import nn

import clip_bpe
import common
import nets
import train_diffusion

OPSET = 17
TEST_DATA = os.path.join(common.MODELS, "..", "tests", "DiffusionGrpc.Core.Tests", "TestData", "tiny-shapes")
SCHEDULER_BASE = {
    "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000,
    "steps_offset": 1, "set_alpha_to_one": False, "clip_sample": False, "skip_prk_steps": True,
}


class UnetForExport(nn.Module):
    """(sample, timestep [1] float32, encoder_hidden_states) -> out_sample, as optimum names them."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.unet(sample, timestep.expand(sample.shape[0]), encoder_hidden_states)


def _save_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def _export(module, args, path, input_names, output_names, dynamic):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, path, opset_version=OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic, do_constant_folding=True)


def fit_latent_rgb(ae, scale):
    """Least-squares map from UNet-space latents (x scale) to the image averaged over each 8x8 patch."""
    images, _ = common.dataset(common.HELD_OUT_COUNT, common.HELD_OUT_SEED)
    x = common.to_tensor(images)
    with torch.no_grad():
        z = ae.encoder(x) * scale
    target = torch.nn.functional.avg_pool2d(x, 8)
    a = torch.cat([z.permute(0, 2, 3, 1).reshape(-1, 4), torch.ones(z.numel() // 4, 1)], dim=1).double()
    b = target.permute(0, 2, 3, 1).reshape(-1, 3).double()
    solution = torch.linalg.lstsq(a, b).solution.float()
    residual = (a.float() @ solution - b.float()).pow(2).mean().sqrt().item()
    return solution[:4].tolist(), solution[4].tolist(), residual


def _b64(t):
    return base64.b64encode(t.detach().numpy().astype("<f4").tobytes()).decode()


def write_export_check(name, text, unet, decoder, tok, scale):
    """Inputs and PyTorch outputs for the C# check of the ONNX files."""
    ids = torch.tensor([tok("a large red circle on the left on a blue background"), tok("")])
    g = torch.Generator().manual_seed(0)
    sample = torch.randn(2, 4, 8, 8, generator=g)
    timestep = torch.tensor([601.0])
    with torch.no_grad():
        states = text(ids)
        out = unet(sample, timestep.expand(2), states)
        image = decoder(sample[:1] / scale)
    _save_json(os.path.join(TEST_DATA, f"{name}.json"), {
        "generated_by": "models/tools/export_model.py", "model": name, "tolerance": 1e-4,
        "input_ids": ids.tolist(), "last_hidden_state": _b64(states), "last_hidden_state_shape": list(states.shape),
        "sample": _b64(sample), "timestep": 601.0, "out_sample": _b64(out),
        "latent_sample": _b64(sample[:1] / scale), "decoded": _b64(image), "decoded_shape": list(image.shape),
    })


def export(out_dir, name, text, unet, ae, scale, tok_dir, scheduler, defaults, prediction_type="epsilon"):
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    tok = clip_bpe.Tokenizer(tok_dir)
    shutil.copytree(tok_dir, os.path.join(out_dir, "tokenizer"))
    for m in (text, unet, ae):
        m.eval()
    ids = torch.tensor([tok("a red circle")])
    _export(text, (ids,), os.path.join(out_dir, "text_encoder", "model.onnx"), ["input_ids"], ["last_hidden_state"],
            {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}})
    dim = text.token.embedding_dim
    _export(UnetForExport(unet), (torch.randn(2, 4, 8, 8), torch.tensor([500.0]), torch.randn(2, 77, dim)),
            os.path.join(out_dir, "unet", "model.onnx"), ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
            {"sample": {0: "batch", 2: "height", 3: "width"}, "encoder_hidden_states": {0: "batch"},
             "out_sample": {0: "batch", 2: "height", 3: "width"}})
    _export(ae.decoder, (torch.randn(1, 4, 8, 8),), os.path.join(out_dir, "vae_decoder", "model.onnx"), ["latent_sample"], ["sample"],
            {"latent_sample": {0: "batch", 2: "height", 3: "width"}, "sample": {0: "batch", 2: "height", 3: "width"}})
    _export(ae.encoder, (torch.randn(1, 3, 64, 64),), os.path.join(out_dir, "vae_encoder", "model.onnx"), ["sample"], ["latent_sample"],
            {"sample": {0: "batch", 2: "height", 3: "width"}, "latent_sample": {0: "batch", 2: "height", 3: "width"}})
    _save_json(os.path.join(out_dir, "model_index.json"), {"_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.30.0",
                                                           "scheduler": ["diffusers", scheduler["_class_name"]]})
    _save_json(os.path.join(out_dir, "scheduler", "scheduler_config.json"), {**scheduler, **SCHEDULER_BASE, "prediction_type": prediction_type})
    _save_json(os.path.join(out_dir, "text_encoder", "config.json"), {"hidden_size": dim, "max_position_embeddings": 77, "vocab_size": len(tok.vocab)})
    _save_json(os.path.join(out_dir, "unet", "config.json"), {"sample_size": 8, "in_channels": 4, "out_channels": 4, "cross_attention_dim": dim})
    _save_json(os.path.join(out_dir, "vae_decoder", "config.json"), {"latent_channels": 4, "scaling_factor": scale})
    _save_json(os.path.join(out_dir, "vae_encoder", "config.json"), {"latent_channels": 4, "scaling_factor": scale})
    factors, bias, residual = fit_latent_rgb(ae, scale)
    _save_json(os.path.join(out_dir, "diffusiongrpc.json"), {**defaults, "latent_rgb": {"factors": factors, "bias": bias, "fit_rms": residual}})
    write_export_check(name, text, unet, ae.decoder, tok, scale)
    print(f"exported {out_dir} (latent->RGB fit RMS {residual:.3f})")


def load_teacher():
    state = torch.load(os.path.join(common.WORK, "diffusion.pt"), map_location="cpu")
    text, unet = train_diffusion.build(state["vocab_size"], state["eos"])
    text.load_state_dict(state["ema"]["text"])
    unet.load_state_dict(state["ema"]["unet"])
    ae = nets.Autoencoder()
    ae.load_state_dict(torch.load(os.path.join(common.WORK, "autoencoder.pt"), map_location="cpu")["model"])
    return text, unet, ae, state["scale"], state["step"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--student", type=int, default=0, help="export the distilled N-step student")
    parser.add_argument("--guidance", type=float, default=5.0, help="the teacher's default guidance scale")
    parser.add_argument("--steps", type=int, default=20, help="the teacher's default step count")
    args = parser.parse_args()
    common.setup()
    text, unet, ae, scale, step = load_teacher()
    tok_dir = os.path.join(common.WORK, "tokenizer")
    if args.student:
        import distill
        unet = distill.load_student(args.student)
        export(os.path.join(common.MODELS, f"tiny-shapes-{args.student}-step"), f"tiny-shapes-{args.student}-step", text, unet, ae, scale, tok_dir,
               {"_class_name": "DDIMScheduler", "timestep_spacing": "trailing"},
               {"default_steps": args.student, "default_guidance_scale": 1.0, "distilled_from": "tiny-shapes"},
               prediction_type="v_prediction")
    else:
        export(os.path.join(common.MODELS, "tiny-shapes"), "tiny-shapes", text, unet, ae, scale, tok_dir,
               {"_class_name": "EulerDiscreteScheduler", "timestep_spacing": "trailing"},
               {"default_steps": args.steps, "default_guidance_scale": args.guidance, "training_steps": step})


if __name__ == "__main__":
    main()
