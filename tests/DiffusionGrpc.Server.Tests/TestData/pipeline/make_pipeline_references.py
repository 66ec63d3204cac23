#!/usr/bin/env python3
"""Reference runs of diffusers' StableDiffusionPipeline loop on the tiny-fp32 fixture model.

Writes pipeline_references.json next to this file: for each case the token ids, the conditional text
embeddings, the latents after every LMS step, the final latents and the decoded 8-bit RGB pixels.
The C# tests run the same requests through the services and compare.

What is diffusers' and what is written here:
  * the scheduler is diffusers' own LMSDiscreteScheduler, loaded from a diffusers checkout (its source is
    not copied into this repository): DIFFUSERS_SRC=/path/to/diffusers/src;
  * the loop is StableDiffusionPipeline's (noise per image from torch.Generator seeded seed + i, times
    init_noise_sigma; per step scale_model_input, one UNet batch of [uncond, text], guidance,
    scheduler.step; decode latents / scaling_factor; (x / 2 + 0.5).clamp(0, 1) * 255, round);
  * the three tiny networks are re-implemented in torch from the weights of the fixture's ONNX files
    (onnxruntime is not packaged for Debian), op for op as models/fixtures/make_fixture_models.py builds them;
  * the tokenizer is CLIP's BPE over the fixture's vocab.json and merges.txt.

Run with Debian's python3 (python3-torch 1.13, python3-onnx, python3-scipy):
    DIFFUSERS_SRC=~/diffusers/src /usr/bin/python3 tests/DiffusionGrpc.Server.Tests/TestData/pipeline/make_pipeline_references.py
"""
import base64
import importlib.util
import inspect
import json
import os
import sys
import types
import enum

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
MODELS = os.path.join(REPO, "tests", "fixtures", "models")


def load_lms_scheduler_class():
    """diffusers' LMSDiscreteScheduler from its source file, with the three framework helpers it imports
    (ConfigMixin/register_to_config, BaseOutput, SchedulerMixin) reduced to what the class uses."""
    src = os.environ.get("DIFFUSERS_SRC")
    if not src:
        sys.exit("Set DIFFUSERS_SRC to the src/ folder of a diffusers checkout.")
    pkg = types.ModuleType("dref")
    pkg.__path__ = []
    sched_pkg = types.ModuleType("dref.schedulers")
    sched_pkg.__path__ = []

    config_utils = types.ModuleType("dref.configuration_utils")

    class ConfigMixin:
        pass

    def register_to_config(init):
        def wrapped(self, *args, **kwargs):
            bound = inspect.signature(init).bind(self, *args, **kwargs)
            bound.apply_defaults()
            values = dict(bound.arguments)
            values.pop("self")
            self.config = types.SimpleNamespace(**values)
            init(self, *args, **kwargs)
        return wrapped

    config_utils.ConfigMixin = ConfigMixin
    config_utils.register_to_config = register_to_config

    utils = types.ModuleType("dref.utils")

    class BaseOutput:
        pass

    utils.BaseOutput = BaseOutput
    utils.is_scipy_available = lambda: True

    scheduling_utils = types.ModuleType("dref.schedulers.scheduling_utils")

    class KarrasDiffusionSchedulers(enum.Enum):
        LMSDiscreteScheduler = 1

    class SchedulerMixin:
        pass

    scheduling_utils.KarrasDiffusionSchedulers = KarrasDiffusionSchedulers
    scheduling_utils.SchedulerMixin = SchedulerMixin
    scheduling_utils.SchedulerOutput = BaseOutput

    for name, module in [("dref", pkg), ("dref.schedulers", sched_pkg), ("dref.configuration_utils", config_utils),
                         ("dref.utils", utils), ("dref.schedulers.scheduling_utils", scheduling_utils)]:
        sys.modules[name] = module
    path = os.path.join(src, "diffusers", "schedulers", "scheduling_lms_discrete.py")
    spec = importlib.util.spec_from_file_location("dref.schedulers.scheduling_lms_discrete", path)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "dref.schedulers"
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.LMSDiscreteScheduler


def weights(model_id, part):
    model = onnx.load(os.path.join(MODELS, model_id, part, "model.onnx"))
    return {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}


def bpe_tokenizer(model_id):
    folder = os.path.join(MODELS, model_id, "tokenizer")
    with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
        merges = [tuple(line.split()) for line in f.read().splitlines()[1:] if line]
    ranks = {pair: i for i, pair in enumerate(merges)}
    bos, eos = vocab["<|startoftext|>"], vocab["<|endoftext|>"]
    pad = eos  # the fixture's pad_token is <|endoftext|>

    def bpe(word):
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return parts

    def encode(text):
        # Plain lowercase ASCII words: CLIP's cleaning and pre-tokenizer reduce to a split on spaces.
        ids = [bos] + [vocab[p] for w in text.lower().split() for p in bpe(w)] + [eos]
        return ids + [pad] * (77 - len(ids))

    return encode


def text_encoder(w, ids):
    x = w["token_embedding"][torch.tensor(ids)] + w["position_embedding"]
    return torch.tanh(x @ w["proj"])


def unet(w, sample, t, states):
    """out = 0.5 * tanh(conv1x1(sample)) * (1 + 0.001 t) + (mean over tokens of states) @ W."""
    c = torch.nn.functional.conv2d(sample, w["conv_w"])
    a = torch.tanh(c) * w["half"] * (t * w["tscale"] + w["one"])
    bias = states.mean(dim=1) @ w["text_w"]
    return a + bias[:, :, None, None]


def vae_decoder(w, latents):
    c = torch.nn.functional.conv2d(latents, w["w"])
    return torch.nn.functional.interpolate(c, scale_factor=8, mode="nearest")


def run_case(scheduler_class, case):
    model = os.path.join(MODELS, case["model"])
    encode = bpe_tokenizer(case["model"])
    with open(os.path.join(model, "scheduler", "scheduler_config.json")) as f:
        config = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    scheduler = scheduler_class(**config)
    scheduler.set_timesteps(case["steps"])
    te, un, vae = (weights(case["model"], part) for part in ("text_encoder", "unet", "vae_decoder"))
    n = case["num_images"]
    guided = case["guidance_scale"] > 1

    ids = encode(case["prompt"])
    text = text_encoder(te, [ids]).repeat(n, 1, 1)
    if guided:
        uncond = text_encoder(te, [encode(case["negative_prompt"])]).repeat(n, 1, 1)
        states = torch.cat([uncond, text])
    else:
        states = text

    generators = [torch.Generator().manual_seed(case["seed"] + i) for i in range(n)]
    latents = torch.cat([torch.randn([1, 4, 8, 8], generator=g, dtype=torch.float32) for g in generators])
    latents = latents * scheduler.init_noise_sigma

    per_step = []
    for t in scheduler.timesteps:
        model_input = torch.cat([latents] * 2) if guided else latents
        model_input = scheduler.scale_model_input(model_input, t)
        # diffusers' ONNX pipeline: timestep = np.array([t], dtype=timestep_dtype); the int64 of legacy
        # exports truncates the fractional LMS timesteps, and their graph casts it back to float.
        timestep = torch.from_numpy(np.array([t], dtype=case["timestep_dtype"]).astype(np.float32))
        noise_pred = unet(un, model_input, timestep, states)
        if guided:
            noise_uncond, noise_text = noise_pred.chunk(2)
            noise_pred = noise_uncond + case["guidance_scale"] * (noise_text - noise_uncond)
        latents = scheduler.step(noise_pred, t, latents).prev_sample
        per_step.append(latents.flatten().tolist())

    with open(os.path.join(model, "vae_decoder", "config.json")) as f:
        scaling = json.load(f)["scaling_factor"]
    images = vae_decoder(vae, latents / scaling)
    images = (images / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).float().numpy()
    pixels = (images * 255).round().astype("uint8")
    return dict(case,
                input_ids=ids,
                timesteps=[float(t) for t in scheduler.timesteps],
                text_embeddings=text[0].flatten().tolist(),
                step_latents=per_step,
                final_latents=latents.flatten().tolist(),
                images_rgb_base64=[base64.b64encode(p.tobytes()).decode("ascii") for p in pixels])


def main():
    torch.set_num_threads(1)
    scheduler_class = load_lms_scheduler_class()
    cases = [
        # Classifier-free guidance over a batch of two (one UNet batch of 2B per step), every LMS order.
        dict(name="guided-batch", model="tiny-fp32", timestep_dtype="float32",
             prompt="a red circle", negative_prompt="blue", steps=6, guidance_scale=7.5, seed=100, num_images=2),
        # guidance_scale <= 1: one UNet batch of B per step, no unconditional half.
        dict(name="unguided", model="tiny-fp32", timestep_dtype="float32",
             prompt="blue circle", negative_prompt="", steps=5, guidance_scale=1.0, seed=7, num_images=1),
        # The legacy export (same weights): int32 input_ids, an int64 timestep of shape [batch].
        dict(name="legacy-int64-timestep", model="tiny-legacy", timestep_dtype="int64",
             prompt="a red circle", negative_prompt="blue", steps=6, guidance_scale=7.5, seed=100, num_images=2),
    ]
    result = {"torch": torch.__version__, "cases": [run_case(scheduler_class, c) for c in cases]}
    out = os.path.join(HERE, "pipeline_references.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
