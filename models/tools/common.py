"""Shared plumbing of the model tools: paths, the cached dataset, resumable checkpoints, logging."""
import os
import time

import numpy as np
import torch

import shapes_data

TOOLS = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(TOOLS)
WORK = os.environ.get("SHAPES_WORK", os.path.join(MODELS, ".work"))  # gitignored: data, checkpoints
TRAIN_SEED, TRAIN_COUNT = 1, int(os.environ.get("SHAPES_TRAIN_COUNT", "60000"))  # smaller for smoke runs
HELD_OUT_SEED, HELD_OUT_COUNT = 2, 2000


def setup(threads=None):
    """Fixed seeds and the thread count (all cores by default; TORCH_THREADS overrides)."""
    torch.manual_seed(0)
    np.random.seed(0)
    threads = threads or int(os.environ.get("TORCH_THREADS", "0")) or os.cpu_count()
    if not torch.cuda.is_available():
        torch.set_num_threads(threads)
    os.makedirs(WORK, exist_ok=True)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def dataset(count=TRAIN_COUNT, seed=TRAIN_SEED):
    """Images uint8 [N,64,64,3] and attributes [N,5], rendered once and cached under WORK."""
    path = os.path.join(WORK, f"shapes_{count}_{seed}.npz")
    if not os.path.exists(path):
        images, attributes = shapes_data.make_dataset(count, seed)
        tmp = path + ".tmp.npz"
        np.savez(tmp, images=images, attributes=attributes)
        os.replace(tmp, path)
    data = np.load(path)
    return data["images"], data["attributes"]


def to_tensor(images_uint8):
    """uint8 NHWC -> float NCHW in [-1, 1]."""
    return torch.from_numpy(images_uint8).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


class Checkpoint:
    """A training state saved atomically every few minutes, so a run stopped anywhere resumes."""

    def __init__(self, name):
        self.path = os.path.join(WORK, name + ".pt")
        self.last_save = time.time()

    def load(self):
        return torch.load(self.path, map_location="cpu") if os.path.exists(self.path) else None

    def resume(self, model, opt):
        """Loads the saved model and optimiser state, if any; returns the step to continue from."""
        state = self.load()
        if not state:
            return 0
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        return state["step"]

    def save(self, state, force=False, every_seconds=120):
        if force or time.time() - self.last_save >= every_seconds:
            tmp = self.path + ".tmp"
            torch.save(state, tmp)
            os.replace(tmp, self.path)
            self.last_save = time.time()


def log(name, message):
    line = f"{time.strftime('%H:%M:%S')} {message}"
    print(line, flush=True)
    with open(os.path.join(WORK, name + ".log"), "a") as f:
        f.write(line + "\n")
