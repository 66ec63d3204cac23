#!/usr/bin/env python3
"""Generates an image with DiffusionGrpc, saving every preview and the final PNG.

    python3 clients/python/examples/generate.py "a red circle" -o out.png --previews previews \
        --address 127.0.0.1:5000 --steps 20 --seed 1
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diffusion_client import DiffusionClient, Progress, Queued, Result  # noqa: E402

EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prompt")
    parser.add_argument("-o", "--output", default="out.png", help="the final image (PNG)")
    parser.add_argument("--previews", help="folder for the preview of every step")
    parser.add_argument("--address", default="127.0.0.1:5000", help="host:port of the gRPC (h2c) listener")
    parser.add_argument("--model", default="", help="model id; empty = the server's default")
    parser.add_argument("--negative-prompt", default="")
    parser.add_argument("--steps", type=int, default=0, help="0 = model default")
    parser.add_argument("--width", type=int, default=0)
    parser.add_argument("--height", type=int, default=0)
    parser.add_argument("--guidance", type=float, default=None)
    parser.add_argument("--scheduler", default=None, help="LMS, EULER, EULER_ANCESTRAL, DDIM, PNDM, DPMPP_2M, LCM")
    parser.add_argument("--seed", type=int, default=None, help="absent = random")
    parser.add_argument("--preview", default="latent_rgb", choices=["none", "latent_rgb", "vae"])
    args = parser.parse_args()

    previews = Path(args.previews) if args.previews else None
    if previews:
        previews.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    first_preview = None
    first_preview_server = None
    with DiffusionClient(args.address) as client:
        for event in client.generate(args.prompt, negative_prompt=args.negative_prompt, model=args.model,
                                     steps=args.steps, width=args.width, height=args.height,
                                     guidance_scale=args.guidance, scheduler=args.scheduler, seed=args.seed,
                                     preview=args.preview):
            if isinstance(event, Queued):
                print(f"queued: position {event.position}", file=sys.stderr)
            elif isinstance(event, Progress):
                if event.previews and first_preview is None:
                    first_preview = time.perf_counter() - start
                    first_preview_server = event.elapsed_seconds
                if previews:
                    for i, image in enumerate(event.previews):
                        name = f"step-{event.step:04d}-{i}{EXTENSIONS.get(image.mime_type, '.bin')}"
                        (previews / name).write_bytes(image.data)
                print(f"\rstep {event.step}/{event.total_steps}", end="", file=sys.stderr, flush=True)
            elif isinstance(event, Result):
                print(file=sys.stderr)
                output = Path(args.output)
                for i, image in enumerate(event.images):
                    path = output if i == 0 else output.with_name(f"{output.stem}-{i}{output.suffix}")
                    path.write_bytes(image.data)
                    print(f"saved {path} ({image.width}x{image.height}, seed {image.seed})")
                total = time.perf_counter() - start
                first = (f"{first_preview * 1000:.0f} ms (server side: {first_preview_server * 1000:.0f} ms)"
                         if first_preview is not None else "none")
                print(f"first preview after {first}, done in {total:.2f} s "
                      f"({event.resolved.steps} steps of {event.resolved.model})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
