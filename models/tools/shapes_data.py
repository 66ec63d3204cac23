"""Synthetic captioned images: one shape on a plain background, 64x64 RGB.

Every image is described by five attributes (shape, colour, background, position, size); captions are
drawn from varied plain-English templates, so one image gets a different wording each time it is seen.
Everything is seeded: the same seed gives the same images and captions.
"""
import numpy as np

IMAGE_SIZE = 64
SHAPES = ["circle", "square", "triangle", "star"]
COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "white", "black"]
POSITIONS = ["left", "right", "top", "bottom", "center"]
SIZES = ["small", "large"]
ATTRIBUTES = {"shape": SHAPES, "colour": COLOURS, "background": COLOURS, "position": POSITIONS, "size": SIZES}

# sRGB values a person would give these names.
RGB = {
    "red": (215, 35, 35), "orange": (245, 140, 25), "yellow": (240, 215, 30), "green": (40, 165, 60),
    "blue": (35, 75, 220), "purple": (135, 50, 180), "white": (245, 245, 245), "black": (15, 15, 15),
}
CENTRES = {"left": (16, 32), "right": (48, 32), "top": (32, 16), "bottom": (32, 48), "center": (32, 32)}
RADII = {"small": 8.5, "large": 14.0}

SHAPE_WORDS = {"circle": ["circle", "circle", "disc", "round shape"], "square": ["square", "square", "box"],
               "triangle": ["triangle"], "star": ["star", "star", "five-pointed star"]}
SIZE_WORDS = {"small": ["small", "little", "tiny"], "large": ["large", "big", "huge"]}
POSITION_PHRASES = {
    "left": ["on the left", "at the left", "to the left", "on the left side"],
    "right": ["on the right", "at the right", "to the right", "on the right side"],
    "top": ["at the top", "on the top", "near the top", "at the top of the image"],
    "bottom": ["at the bottom", "on the bottom", "near the bottom", "at the bottom of the image"],
    "center": ["in the center", "in the middle", "centered", "in the centre"],
}
# {c} colour, {s} shape, {z} size word, {p} position phrase, {b} background colour.
FULL_TEMPLATES = [
    "a {z} {c} {s} {p} on a {b} background",
    "{z} {c} {s} {p}, {b} background",
    "a {z} {c} {s} {p} of a {b} background",
    "{b} background with a {z} {c} {s} {p}",
    "a {c} {s}, {z}, {p}, on {b}",
    "a picture of a {z} {c} {s} {p} on a {b} background",
    "there is a {z} {c} {s} {p} of the {b} image",
    "{z} {c} {s} {p} against a {b} background",
    "a {b} background, a {z} {c} {s} {p}",
    "an image of a {z} {c} {s} {p}, the background is {b}",
]
PARTIAL_TEMPLATES = [
    "a {c} {s} on a {b} background",
    "a {c} {s}",
    "{c} {s} {p}",
    "a {z} {c} {s}",
    "a {s} {p}",
    "a {c} {s} {p}",
    "a {z} {s} on a {b} background",
    "{b} background",
    "a {s}",
    "{c} {s} on {b}",
]


def sample_attributes(rng, count):
    """Draws attribute indices [count, 5]; the background always differs from the shape's colour."""
    shape = rng.integers(0, len(SHAPES), count)
    colour = rng.integers(0, len(COLOURS), count)
    background = (colour + rng.integers(1, len(COLOURS), count)) % len(COLOURS)
    position = rng.integers(0, len(POSITIONS), count)
    size = rng.integers(0, len(SIZES), count)
    return np.stack([shape, colour, background, position, size], axis=1)


def _polygon_mask(xs, ys, vertices):
    """Even-odd point-in-polygon test over a grid."""
    inside = np.zeros(xs.shape, dtype=bool)
    n = len(vertices)
    for i in range(n):
        x1, y1 = vertices[i]
        x2, y2 = vertices[(i + 1) % n]
        crosses = (y1 > ys) != (y2 > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (ys - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (xs < x_at)
    return inside


def _shape_mask(shape, cx, cy, r, angle, xs, ys):
    if shape == "circle":
        return (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r
    if shape == "square":
        half = r * 0.85
        return (np.abs(xs - cx) <= half) & (np.abs(ys - cy) <= half)
    if shape == "triangle":
        pts = [(cx + r * np.sin(angle + k * 2 * np.pi / 3), cy - r * np.cos(angle + k * 2 * np.pi / 3)) for k in range(3)]
        return _polygon_mask(xs, ys, pts)
    pts = []
    for k in range(10):
        rad = r if k % 2 == 0 else r * 0.45
        a = angle + k * np.pi / 5
        pts.append((cx + rad * np.sin(a), cy - rad * np.cos(a)))
    return _polygon_mask(xs, ys, pts)


SUPERSAMPLE = 2
_grid = (np.arange(IMAGE_SIZE * SUPERSAMPLE) + 0.5) / SUPERSAMPLE
_XS, _YS = np.meshgrid(_grid, _grid)


def render(attributes, rng):
    """Renders one image (uint8 [64,64,3]) for attribute indices (shape, colour, background, position, size)."""
    shape, colour, background, position, size = (ATTRIBUTES[k][i] for k, i in zip(ATTRIBUTES, attributes))
    fg = np.clip(np.array(RGB[colour], dtype=np.float32) + rng.normal(0, 8, 3), 0, 255)
    bg = np.clip(np.array(RGB[background], dtype=np.float32) + rng.normal(0, 8, 3), 0, 255)
    cx, cy = CENTRES[position]
    cx += rng.uniform(-3, 3)
    cy += rng.uniform(-3, 3)
    r = RADII[size] * rng.uniform(0.9, 1.1)
    angle = rng.uniform(-0.15, 0.15)
    mask = _shape_mask(shape, cx, cy, r, angle, _XS, _YS).astype(np.float32)
    cover = mask.reshape(IMAGE_SIZE, SUPERSAMPLE, IMAGE_SIZE, SUPERSAMPLE).mean(axis=(1, 3))[..., None]
    return np.round(bg * (1 - cover) + fg * cover).astype(np.uint8)


def caption(attributes, rng, full_probability=0.75):
    """A random plain-English caption of the image's attributes (all of them, or a subset)."""
    shape, colour, background, position, size = (ATTRIBUTES[k][i] for k, i in zip(ATTRIBUTES, attributes))
    templates = FULL_TEMPLATES if rng.random() < full_probability else PARTIAL_TEMPLATES
    template = templates[rng.integers(len(templates))]
    words = {
        "c": colour, "b": background,
        "s": SHAPE_WORDS[shape][rng.integers(len(SHAPE_WORDS[shape]))],
        "z": SIZE_WORDS[size][rng.integers(len(SIZE_WORDS[size]))],
        "p": POSITION_PHRASES[position][rng.integers(len(POSITION_PHRASES[position]))],
    }
    text = template.format(**words)
    return text.replace("a orange", "an orange")


def canonical_caption(attributes):
    """The evaluation's wording: every attribute, first full template, first synonym."""
    shape, colour, background, position, size = (ATTRIBUTES[k][i] for k, i in zip(ATTRIBUTES, attributes))
    return FULL_TEMPLATES[0].format(c=colour, b=background, s=shape, z=size, p=POSITION_PHRASES[position][0]).replace("a orange", "an orange")


def make_dataset(count, seed):
    """Images [count,64,64,3] uint8 and attribute indices [count,5]."""
    rng = np.random.default_rng(seed)
    attributes = sample_attributes(rng, count)
    images = np.empty((count, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    for i in range(count):
        images[i] = render(attributes[i], rng)
    return images, attributes


def all_captions(attributes, seed, per_image=4):
    """Caption corpus for tokenizer learning."""
    rng = np.random.default_rng(seed)
    return [caption(a, rng) for a in attributes for _ in range(per_image)]
