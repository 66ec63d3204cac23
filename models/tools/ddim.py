"""DDIM on SD's discrete schedule with `trailing` timesteps, as diffusers' DDIMScheduler (eta 0,
set_alpha_to_one False) runs it: the sampler of the teacher and of the distilled students."""
import torch

import train_diffusion

TRAIN_STEPS = 1000
ALPHAS_CUMPROD = train_diffusion.noise_schedule()
FINAL_ALPHA_CUMPROD = float(ALPHAS_CUMPROD[0])  # set_alpha_to_one = False


def timesteps(steps):
    """diffusers' trailing spacing: round(arange(T, 0, -T/N)) - 1."""
    return [int(round(TRAIN_STEPS - i * TRAIN_STEPS / steps)) - 1 for i in range(steps)]


def alpha_sigma(t):
    """sqrt(alphas_cumprod) and sqrt(1 - alphas_cumprod) at integer timestep t (t < 0: the final one)."""
    ab = ALPHAS_CUMPROD[t] if t >= 0 else torch.tensor(FINAL_ALPHA_CUMPROD)
    return ab.sqrt(), (1 - ab).sqrt()


def step(z, t, t_prev, x0):
    """One deterministic DDIM step from z_t to z_{t_prev} given the predicted x0."""
    a, s = alpha_sigma(t)
    a_prev, s_prev = alpha_sigma(t_prev)
    eps = (z - a * x0) / s
    return a_prev * x0 + s_prev * eps


def x0_from_eps(z, t, eps):
    a, s = alpha_sigma(t)
    return (z - s * eps) / a


def x0_from_v(z, t, v):
    a, s = alpha_sigma(t)
    return a * z - s * v


def guided_x0(unet, z, t, cond, uncond, guidance):
    """The epsilon teacher with classifier-free guidance (one batched pass of 2B), as x0."""
    if guidance <= 1.0:
        eps = unet(z, torch.full((z.shape[0],), t), cond)
    else:
        out = unet(torch.cat([z, z]), torch.full((2 * z.shape[0],), t), torch.cat([uncond, cond]))
        eps_u, eps_c = out.chunk(2)
        eps = eps_u + guidance * (eps_c - eps_u)
    return x0_from_eps(z, t, eps)


def sample(x0_fn, noise, steps):
    """Runs N trailing DDIM steps from `noise` with x0_fn(z, t) -> x0; returns the final latents."""
    ts = timesteps(steps)
    z = noise
    for i, t in enumerate(ts):
        t_prev = t - TRAIN_STEPS // steps
        z = step(z, t, t_prev, x0_fn(z, t))
    return z
