#!/usr/bin/env python3
"""Writes models/evaluation/prompts.json: the fixed prompts (every attribute named, canonical wording)
and seeds that the adherence evaluation generates, with the attributes each prompt asks for."""
import json
import os

import numpy as np

import common
import shapes_data

PROMPTS = 40
SEEDS = [0, 1]


def main():
    rng = np.random.default_rng(12345)
    # Balanced: shapes, positions and sizes cycle; colours are drawn, background differs from colour.
    prompts = []
    for i in range(PROMPTS):
        colour = int(rng.integers(len(shapes_data.COLOURS)))
        background = (colour + int(rng.integers(1, len(shapes_data.COLOURS)))) % len(shapes_data.COLOURS)
        attributes = [i % 4, colour, background, (i // 4) % 5, (i // 20) % 2]
        entry = {"prompt": shapes_data.canonical_caption(attributes)}
        entry.update({k: shapes_data.ATTRIBUTES[k][v] for k, v in zip(shapes_data.ATTRIBUTES, attributes)})
        prompts.append(entry)
    out = os.path.join(common.MODELS, "evaluation", "prompts.json")
    with open(out, "w") as f:
        json.dump({"generated_by": "models/tools/make_evaluation_set.py", "seeds": SEEDS,
                   "attributes": shapes_data.ATTRIBUTES, "prompts": prompts}, f, indent=1)
        f.write("\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
