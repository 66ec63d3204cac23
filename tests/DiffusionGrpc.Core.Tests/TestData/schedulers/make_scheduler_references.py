#!/usr/bin/python3
"""Scheduler trajectories from diffusers' own scheduler classes, for SchedulerReferenceTests.

Usage (Debian's python3-torch, numpy and python3-scipy, no diffusers install needed):

    /usr/bin/python3 make_scheduler_references.py DIFFUSERS_DIR [--commit SHA] [--out scheduler_references.json]

DIFFUSERS_DIR is a diffusers source tree (a checkout, or just its src/diffusers/schedulers folder extracted
with the same layout). Only the scheduler modules are imported; diffusers' configuration and hub helpers are
replaced by small stubs here (register_to_config records the __init__ arguments, randn_tensor is diffusers'
logic for CPU generators). Nothing of diffusers is copied into this repository.

The loop is the pipeline's (StableDiffusionPipeline / LatentConsistencyModelPipeline): latents of
torch.randn from one generator per image (seed + i), times init_noise_sigma; per timestep the model sees
scale_model_input(latents), and step() gets the *unscaled* latents back, with the generator list and eta
passed as the pipeline passes them. The "model" is a fixed element-wise linear function of its input and t:

    out = A * x + (B * float32(t / 1000) + G)        (float32, A, B, G of shape [C, H, W])
"""

import argparse
import functools
import importlib
import inspect
import json
import os
import subprocess
import sys
import types

import numpy as np
import torch

SEED = 1234
SHAPE = (4, 2, 2)
STEPS = [1, 2, 4, 20, 50]
SPACINGS = ["linspace", "leading", "trailing"]
PREDICTIONS = ["epsilon", "v_prediction"]
BATCHES = [1, 2]

# Stable Diffusion 1.5's scheduler_config.json (keys a class does not take are left out, like from_config).
BASE_CONFIG = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}

# name -> (diffusers class, module, extra config, eta)
VARIANTS = {
    "lms": ("LMSDiscreteScheduler", "scheduling_lms_discrete", {}, 0.0),
    "lms_karras": ("LMSDiscreteScheduler", "scheduling_lms_discrete", {"use_karras_sigmas": True}, 0.0),
    "euler": ("EulerDiscreteScheduler", "scheduling_euler_discrete", {}, 0.0),
    "euler_karras": ("EulerDiscreteScheduler", "scheduling_euler_discrete", {"use_karras_sigmas": True}, 0.0),
    "euler_a": ("EulerAncestralDiscreteScheduler", "scheduling_euler_ancestral_discrete", {}, 0.0),
    "ddim": ("DDIMScheduler", "scheduling_ddim", {}, 0.0),
    "ddim_eta": ("DDIMScheduler", "scheduling_ddim", {}, 0.5),
    "pndm": ("PNDMScheduler", "scheduling_pndm", {}, 0.0),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", "scheduling_dpmsolver_multistep", {}, 0.0),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", "scheduling_dpmsolver_multistep", {"use_karras_sigmas": True}, 0.0),
    "lcm": ("LCMScheduler", "scheduling_lcm", {"original_inference_steps": 50, "timestep_scaling": 10.0}, 0.0),
}

# Less common settings, batch 2 only (image 0 of a batch of 2 is what a batch of 1 gives): name -> (class, module,
# extra config, eta, prediction types).
EXTRA_VARIANTS = {
    "dpmpp_3m": ("DPMSolverMultistepScheduler", "scheduling_dpmsolver_multistep", {"solver_order": 3}, 0.0, PREDICTIONS),
    "dpmpp_2m_heun_sigma_min": ("DPMSolverMultistepScheduler", "scheduling_dpmsolver_multistep",
                                {"solver_type": "heun", "final_sigmas_type": "sigma_min", "lower_order_final": False}, 0.0, PREDICTIONS),
    "euler_zero_snr": ("EulerDiscreteScheduler", "scheduling_euler_discrete", {"rescale_betas_zero_snr": True}, 0.0, PREDICTIONS),
    "dpmpp_2m_zero_snr": ("DPMSolverMultistepScheduler", "scheduling_dpmsolver_multistep", {"rescale_betas_zero_snr": True}, 0.0, PREDICTIONS),
    # DDIM keeps alphas_cumprod[-1] = 0 under the rescale: only v_prediction is finite at t = T - 1.
    "ddim_zero_snr": ("DDIMScheduler", "scheduling_ddim", {"rescale_betas_zero_snr": True}, 0.0, ["v_prediction"]),
    "euler_continuous": ("EulerDiscreteScheduler", "scheduling_euler_discrete", {"timestep_type": "continuous"}, 0.0, ["v_prediction"]),
    "euler_karras_bounds": ("EulerDiscreteScheduler", "scheduling_euler_discrete",
                            {"use_karras_sigmas": True, "sigma_min": 0.1, "sigma_max": 10.0, "final_sigmas_type": "sigma_min"}, 0.0, PREDICTIONS),
    "lcm_orig20_scaling5": ("LCMScheduler", "scheduling_lcm", {"original_inference_steps": 20, "timestep_scaling": 5.0}, 0.0, PREDICTIONS),
}


# ---- stubs for the parts of diffusers outside schedulers/ ------------------------------------------------------

class _Config(dict):
    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e

    def __setattr__(self, name, value):
        self[name] = value


class ConfigMixin:
    config_name = "scheduler_config.json"

    def register_to_config(self, **kwargs):
        if not hasattr(self, "_internal_dict"):
            object.__setattr__(self, "_internal_dict", _Config())
        self._internal_dict.update(kwargs)

    @property
    def config(self):
        return self._internal_dict


def register_to_config(init):
    sig = inspect.signature(init)

    @functools.wraps(init)
    def inner(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = {k: v for k, v in bound.arguments.items() if k not in ("self", "kwargs")}
        ConfigMixin.register_to_config(self, **values)
        init(self, *args, **kwargs)

    return inner


class BaseOutput:
    pass


def randn_tensor(shape, generator=None, device=None, dtype=None, layout=None):
    if isinstance(generator, list) and len(generator) == 1:
        generator = generator[0]
    if isinstance(generator, list):
        one = (1,) + tuple(shape[1:])
        return torch.cat([torch.randn(one, generator=generator[i], dtype=dtype) for i in range(shape[0])], dim=0)
    return torch.randn(tuple(shape), generator=generator, dtype=dtype)


def _install_stubs(schedulers_dir):
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    class _Logger:
        def __getattr__(self, name):
            return lambda *a, **k: None

    def is_scipy_available():
        try:
            import scipy  # noqa: F401
            return True
        except ImportError:
            return False

    pkg = module("diffusers")
    pkg.__path__ = []
    module("diffusers.configuration_utils", ConfigMixin=ConfigMixin, register_to_config=register_to_config)
    utils = module(
        "diffusers.utils",
        BaseOutput=BaseOutput,
        PushToHubMixin=object,
        is_scipy_available=is_scipy_available,
        deprecate=lambda *a, **k: None,
        logging=types.SimpleNamespace(get_logger=lambda *a, **k: _Logger()),
    )
    utils.__path__ = []
    module("diffusers.utils.torch_utils", randn_tensor=randn_tensor)
    hub = module("huggingface_hub")
    hub.__path__ = []
    module("huggingface_hub.utils", validate_hf_hub_args=lambda f: f)
    sched = module("diffusers.schedulers")
    sched.__path__ = [schedulers_dir]


def _schedulers_dir(root):
    for candidate in (os.path.join(root, "src", "diffusers", "schedulers"), root):
        if os.path.isfile(os.path.join(candidate, "scheduling_ddim.py")):
            return candidate
    sys.exit(f"no src/diffusers/schedulers under {root}")


def _load_class(module_name, class_name):
    return getattr(importlib.import_module("diffusers.schedulers." + module_name), class_name)


def _from_config(cls, config):
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in config.items() if k in accepted})


# ---- the synthetic model and the loop ----------------------------------------------------------------------

def model_coefficients():
    n = int(np.prod(SHAPE))
    e = np.arange(n)
    a = (0.3 + 0.05 * (e % 5)).astype(np.float32).reshape(SHAPE)
    b = (0.1 * ((e % 3) - 1)).astype(np.float32).reshape(SHAPE)
    g = (0.02 * (e % 7) - 0.06).astype(np.float32).reshape(SHAPE)
    return torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(g)


A, B, G = model_coefficients()


def model(x, t):
    tt = torch.tensor(np.float32(float(t) / 1000.0))
    return A * x + (B * tt + G)


def f32(values):
    """float32 values as the shortest strings that round-trip (numpy's repr), parsed back as JSON numbers."""
    arr = np.asarray(values, dtype=np.float32).reshape(-1)
    return [float(repr(v)) if np.isfinite(v) else None for v in arr]


def run_case(cls, config, steps, batch, eta):
    scheduler = _from_config(cls, config)
    scheduler.set_timesteps(steps)
    generators = [torch.Generator().manual_seed(SEED + i) for i in range(batch)]
    latents = randn_tensor((batch,) + SHAPE, generator=generators, dtype=torch.float32)
    latents = latents * scheduler.init_noise_sigma

    params = inspect.signature(scheduler.step).parameters
    extra = {}
    if "eta" in params:
        extra["eta"] = eta
    if "generator" in params:
        extra["generator"] = generators

    timesteps = scheduler.timesteps
    n = len(timesteps)
    checkpoints = sorted({0, n // 2, n - 1})
    x0s = {}
    for i, t in enumerate(timesteps):
        model_input = scheduler.scale_model_input(latents, t)
        out = model(model_input, t)
        result = scheduler.step(out, t, latents, **extra)
        latents = result.prev_sample
        if i in checkpoints:
            x0 = None
            if getattr(result, "pred_original_sample", None) is not None:
                x0 = result.pred_original_sample
            elif getattr(result, "denoised", None) is not None:
                x0 = result.denoised
            elif hasattr(scheduler, "model_outputs") and hasattr(scheduler, "lower_order_nums"):
                x0 = scheduler.model_outputs[-1]  # DPM-Solver++: the converted output is x0
            if x0 is not None:
                x0s[str(i)] = f32(x0)
    sigmas = getattr(scheduler, "sigmas", None)
    init = scheduler.init_noise_sigma
    schedule = {
        "timesteps": [float(v) for v in timesteps.to(torch.float64).tolist()],
        "init_noise_sigma": float(init.item() if isinstance(init, torch.Tensor) else init),
        "sigmas": f32(sigmas) if sigmas is not None and cls.__name__ not in ("DDIMScheduler", "PNDMScheduler", "LCMScheduler") else None,
    }
    return schedule, {"x0": x0s, "final": f32(latents)}


def git_commit(root):
    try:
        return subprocess.check_output(["git", "-C", root, "rev-parse", "HEAD"], text=True, stderr=subprocess.DEVNULL).strip()
    except Exception:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("diffusers_dir")
    parser.add_argument("--commit", help="diffusers' commit, when DIFFUSERS_DIR is not a git checkout")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "scheduler_references.json"))
    args = parser.parse_args()

    _install_stubs(_schedulers_dir(args.diffusers_dir))
    torch.set_num_threads(1)

    schedules = {}
    cases = []
    runs = [(name, v[0], v[1], v[2], v[3], PREDICTIONS, BATCHES) for name, v in VARIANTS.items()]
    runs += [(name, v[0], v[1], v[2], v[3], v[4], [2]) for name, v in EXTRA_VARIANTS.items()]
    for name, class_name, module_name, extra_config, eta, predictions, batches in runs:
        cls = _load_class(module_name, class_name)
        for spacing in SPACINGS:
            for steps in STEPS:
                if steps > extra_config.get("original_inference_steps", steps):
                    continue
                for prediction in predictions:
                    config = dict(BASE_CONFIG, **extra_config, timestep_spacing=spacing, prediction_type=prediction)
                    for batch in batches:
                        schedule, result = run_case(cls, config, steps, batch, eta)
                        key = f"{name}/{spacing}/{steps}"
                        if key not in schedules:
                            schedules[key] = schedule
                        elif schedules[key] != schedule:
                            sys.exit(f"schedule of {key} depends on prediction or batch")
                        case = {
                            "id": f"{key}/{prediction}/b{batch}",
                            "scheduler": name,
                            "class": class_name,
                            "spacing": spacing,
                            "steps": steps,
                            "prediction_type": prediction,
                            "batch": batch,
                            "eta": eta,
                            "config": {k: v for k, v in config.items() if k in inspect.signature(cls.__init__).parameters},
                        }
                        case.update(result)
                        cases.append(case)

    # The training noise schedules themselves (betas, alphas_cumprod), compared bit for bit.
    ddim = _load_class("scheduling_ddim", "DDIMScheduler")
    noise_schedules = []
    for config in (
        {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear"},
        {"beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"},
        {"num_train_timesteps": 1100, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"},
        {"beta_schedule": "squaredcos_cap_v2"},
        {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "rescale_betas_zero_snr": True},
    ):
        s = _from_config(ddim, config)
        noise_schedules.append({"config": config, "betas": f32(s.betas), "alphas_cumprod": f32(s.alphas_cumprod)})

    data = {
        "generator": "make_scheduler_references.py",
        "diffusers_commit": args.commit or git_commit(args.diffusers_dir),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "seed": SEED,
        "shape": list(SHAPE),
        "model": {"formula": "A * x + (B * float32(t / 1000) + G)", "A": f32(A), "B": f32(B), "G": f32(G)},
        "noise_schedules": noise_schedules,
        "schedules": schedules,
        "cases": cases,
    }
    with open(args.out, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases, {len(schedules)} schedules -> {args.out}")


if __name__ == "__main__":
    main()
