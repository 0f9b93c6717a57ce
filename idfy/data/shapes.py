"""The embedded procedural dataset ``shapes``: one shape per image on a textured background (clutter optional).

Every image is drawn directly at the requested size by vectorized tensor ops over a chunk of images:
a pixel-centre coordinate grid is rotated/scaled per image and each shape is an inequality test on
it (a hard mask). The box is the tight bounding box of the object's mask pixels, so it is exact.
Clutter (thin lines, small blobs, arc pieces, corner pieces; always smaller than the object) is drawn
behind the object, so the object's mask is never occluded; ``clutter`` is the chance of each of its five
fragments (default 0: none).

Why the default has no clutter (the earlier version left every design near chance after a minute; the
runs are in ``benchmarks/results/time_to_accuracy_attempts.md``): with the same design and 300 steps, the
earlier data gave 15.4 % class accuracy (chance: 14.3 %) and 4.6 % localization accuracy; bigger objects,
weaker background texture and distractors that never share the object's colour or size gave 16.6 % / 6.0 %;
also forcing a luminance contrast, 13.8 % / 4.4 %; drawing the distractors at 40 % contrast, 15.6 % / 2.4 %;
fewer and smaller ones, 18.8 % / 7.4 %; without distractors, 28.0 % / 24.4 % (mean IoU 0.65). The
fragments (arc pieces next to rings and crescents, corners next to squares and triangles, blobs next to
circles) are what made the target ambiguous. What stays: seven classes at any rotation, colour and size
(a quarter to two thirds of the side, so a star's points, a ring's hole and a crescent's bite are several
pixels wide), on gradient / stripe / noise backgrounds the object always contrasts with.

The generator is deterministic: chunk ``i`` of split ``s`` is drawn from its own generator seeded
from ``(seed, s, i)``; the ``test`` split uses the seed stream ``seed + 1_000_003``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import ImageSet, masks_to_boxes

__all__ = ["SHAPES_DEFAULT_N", "SHAPE_CLASSES", "TEST_SEED_OFFSET", "make_shapes", "render_shapes"]

SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "ring", "star", "crescent")
SHAPES_DEFAULT_N = {"train": 6000, "test": 1000}
TEST_SEED_OFFSET = 1_000_003
_CHUNK_PIXELS = 256 * 64 * 64  # images per chunk x pixels: keeps the working set cache-sized
_MIN_SIZE = 16
_SIZE_RANGE = (0.25, 0.65)  # object diameter as a fraction of the image side
_MIN_CONTRAST = 0.45  # the object's colour differs from the background's base by this much in some channel
_MIN_LUMA_CONTRAST = 0.3  # ... and in luminance
_LUMA = (0.299, 0.587, 0.114)
_CLUTTER_KINDS = ("line", "blob", "arc", "corner", "line")


@dataclass
class _Params:
    """Per-image random parameters of one chunk (all tensors have leading dim ``b``)."""

    cls: Tensor  # int64 (b,)
    cx: Tensor  # float (b,) object centre, pixels
    cy: Tensor
    radius: Tensor  # float (b,) object radius, pixels
    angle: Tensor  # float (b,)
    color: Tensor  # float (b, 3)
    base: Tensor  # float (b, 3) background base colour


def _rand(gen: torch.Generator, *shape: int) -> Tensor:
    return torch.rand(*shape, generator=gen)


def _between(gen: torch.Generator, lo: float | Tensor, hi: float | Tensor, *shape: int) -> Tensor:
    return lo + (hi - lo) * _rand(gen, *shape)


def _draw_params(gen: torch.Generator, b: int, size: int) -> _Params:
    """Draw class, placement, size, rotation and colours for ``b`` images."""
    cls = torch.randint(len(SHAPE_CLASSES), (b,), generator=gen)
    radius = (_between(gen, *_SIZE_RANGE, b) * size / 2).clamp_(min=2.5)
    margin = radius + 1.0
    cx = _between(gen, margin, size - margin, b)
    cy = _between(gen, margin, size - margin, b)
    angle = _rand(gen, b) * (2 * math.pi)
    base = _rand(gen, b, 3)
    color = _rand(gen, b, 3)
    weak = (color - base).abs().amax(dim=1, keepdim=True) < _MIN_CONTRAST
    color = torch.where(weak, (base + 0.5) % 1.0, color)
    luma = torch.tensor(_LUMA)
    lb, lc = (base * luma).sum(1, keepdim=True), (color * luma).sum(1, keepdim=True)
    flat = (lc - lb).abs() < _MIN_LUMA_CONTRAST  # dark object on a light base, light on a dark one
    color = torch.where(flat, torch.where(lb > 0.5, color * 0.3, 0.7 + 0.3 * color), color)
    return _Params(cls=cls, cx=cx, cy=cy, radius=radius, angle=angle, color=color, base=base)


def _grid(size: int) -> tuple[Tensor, Tensor]:
    """Pixel-centre coordinates: xs ``(1, 1, S)``, ys ``(1, S, 1)``."""
    c = torch.arange(size, dtype=torch.float32) + 0.5
    return c.view(1, 1, size), c.view(1, size, 1)


def _local(
    xs: Tensor, ys: Tensor, cx: Tensor, cy: Tensor, angle: Tensor, scale: Tensor
) -> tuple[Tensor, Tensor]:
    """Rotated, scaled coordinates ``(b, S, S)`` around per-image centres (all args ``(b,)``)."""
    dx = xs - cx.view(-1, 1, 1)
    dy = ys - cy.view(-1, 1, 1)
    c = (torch.cos(angle) / scale).view(-1, 1, 1)
    s = (torch.sin(angle) / scale).view(-1, 1, 1)
    return dx * c + dy * s, dy * c - dx * s


def _shape_mask(kind: str, u: Tensor, v: Tensor) -> Tensor:
    """Bool mask of one canonical shape (inside the unit circle) at coords ``u, v`` ``(b, S, S)``."""
    if kind == "circle":
        return u * u + v * v <= 1.0
    if kind == "square":
        return (u.abs() <= 0.7) & (v.abs() <= 0.7)
    if kind in ("triangle", "star"):
        h = 0.8660254 * u
        tri = (v >= -0.5) & (0.5 * v + h <= 0.5) & (0.5 * v - h <= 0.5)
        if kind == "triangle":
            return tri
        return tri | ((v <= 0.5) & (h - 0.5 * v <= 0.5) & (-0.5 * v - h <= 0.5))
    if kind == "cross":
        au, av = u.abs(), v.abs()
        return ((au <= 0.3) & (av <= 0.92)) | ((av <= 0.3) & (au <= 0.92))
    r2 = u * u + v * v
    if kind == "ring":
        return (r2 <= 1.0) & (r2 >= 0.33)
    if kind == "crescent":
        return (r2 <= 1.0) & ((u - 0.5) * (u - 0.5) + v * v > 0.64)
    raise ValueError(f"unknown shape {kind!r}")


def _object_masks(p: _Params, u: Tensor, v: Tensor) -> Tensor:
    """Bool ``(b, S, S)`` object masks, each image drawn with its own class."""
    masks = torch.zeros(u.shape, dtype=torch.bool)
    for k, kind in enumerate(SHAPE_CLASSES):
        sel = (p.cls == k).nonzero().flatten()
        if sel.numel():
            masks[sel] = _shape_mask(kind, u[sel], v[sel])
    return masks


def _background(gen: torch.Generator, p: _Params, size: int, xs: Tensor, ys: Tensor) -> Tensor:
    """Float ``(b, 3, S, S)`` background: base colour + gradient + stripes + smooth noise."""
    b = p.base.shape[0]
    alpha = _rand(gen, b, 1, 1) * (2 * math.pi)
    half = size / 2
    ramp = ((xs - half) * torch.cos(alpha) + (ys - half) * torch.sin(alpha)) / size  # (b, S, S), |.| < 0.71
    beta = _rand(gen, b, 1, 1) * (2 * math.pi)
    freq = _between(gen, 2.0, 9.0, b, 1, 1) * (2 * math.pi / size)
    phase = _rand(gen, b, 1, 1) * (2 * math.pi)
    stripes = torch.sin((xs * torch.cos(beta) + ys * torch.sin(beta)) * freq + phase)
    on = (_rand(gen, b, 2) < 0.6).float()
    a_ramp = _between(gen, -0.15, 0.15, b, 3) * on[:, :1]
    a_str = _between(gen, -0.06, 0.06, b, 3) * on[:, 1:]
    noise_amp = _between(gen, 0.03, 0.12, b, 1, 1, 1)
    low = torch.randn(b, 3, 6, 6, generator=gen)
    quarter = max(size // 4, 6)
    smooth = F.interpolate(low, size=(quarter, quarter), mode="bicubic", align_corners=False) * noise_amp
    smooth = F.interpolate(smooth, size=(size, size), mode="bilinear", align_corners=False)
    bg = smooth.add_(p.base.view(b, 3, 1, 1))
    bg.add_(a_ramp.view(b, 3, 1, 1) * ramp.unsqueeze(1))
    bg.add_(a_str.view(b, 3, 1, 1) * stripes.unsqueeze(1))
    return bg


def _clutter_mask(kind: str, u: Tensor, v: Tensor, thick: Tensor) -> Tensor:
    """Bool mask of one clutter fragment in its local coords (unit = fragment length)."""
    if kind == "line":
        return (u.abs() <= 1.0) & (v.abs() <= thick)
    if kind == "blob":
        return u * u + 2.5 * v * v <= 0.3
    if kind == "arc":
        r2 = u * u + v * v
        return (r2 <= 1.0) & (r2 >= (1.0 - 2 * thick).clamp(min=0.2) ** 2) & (u >= 0.35)
    if kind == "corner":
        return ((u >= 0) & (u <= 1.0) & (v.abs() <= thick)) | ((v >= 0) & (v <= 1.0) & (u.abs() <= thick))
    raise ValueError(f"unknown clutter {kind!r}")


def _draw_clutter(
    gen: torch.Generator, p: _Params, xs: Tensor, ys: Tensor, chance: float
) -> tuple[Tensor, Tensor]:
    """Draw fragments (smaller than the object), each with probability ``chance``, as a layer map.

    Returns uint8 ``(b, S, S)`` ids (0 = background, k = fragment k, later ones on top) and the
    float ``(b, K + 1, 3)`` colour of each id.
    """
    b, size = p.cls.shape[0], xs.shape[-1]
    layer = torch.zeros(b, size, size, dtype=torch.uint8)
    palette = torch.zeros(b, len(_CLUTTER_KINDS) + 1, 3)
    for k, kind in enumerate(_CLUTTER_KINDS, start=1):
        active = _rand(gen, b) < chance
        length = (_between(gen, 0.2, 0.5, b) * p.radius).clamp_(min=1.5)
        cx = _rand(gen, b) * size
        cy = _rand(gen, b) * size
        angle = _rand(gen, b) * (2 * math.pi)
        thick = (_between(gen, 0.5, 1.1, b) / length).view(-1, 1, 1)
        color = _rand(gen, b, 3)
        near = (color - p.color).abs().amax(dim=1, keepdim=True) < 0.25  # never the object's colour
        palette[:, k] = torch.where(near, (p.color + 0.5) % 1.0, color)
        u, v = _local(xs, ys, cx, cy, angle, length)
        layer.masked_fill_(_clutter_mask(kind, u, v, thick) & active.view(-1, 1, 1), k)
    return layer, palette


def _render_chunk(gen: torch.Generator, b: int, size: int, clutter: float) -> tuple[Tensor, Tensor, Tensor]:
    """Render ``b`` images: uint8 ``(b, 3, S, S)``, labels int64 ``(b,)``, masks bool ``(b, S, S)``."""
    xs, ys = _grid(size)
    p = _draw_params(gen, b, size)
    img = _background(gen, p, size, xs, ys)
    layer, palette = _draw_clutter(gen, p, xs, ys, clutter)
    clutter = palette[torch.arange(b).view(-1, 1, 1), layer.long()].permute(0, 3, 1, 2)  # (b, 3, S, S)
    img = torch.where((layer > 0).unsqueeze(1), clutter, img)
    u, v = _local(xs, ys, p.cx, p.cy, p.angle, p.radius)
    masks = _object_masks(p, u, v)
    shade = (1.0 + 0.12 * u).unsqueeze(1)  # gentle lighting across the object
    img = torch.where(masks.unsqueeze(1), p.color.view(b, 3, 1, 1) * shade, img)
    sigma = _between(gen, 0.005, 0.05, b, 1, 1, 1)
    img.add_(torch.randn(b, 1, size, size, generator=gen) * sigma)
    out = img.mul_(255.0).round_().clamp_(0, 255).to(torch.uint8)
    return out, p.cls.clone(), masks


def _chunk_size(size: int) -> int:
    """Images rendered per chunk at ``size`` x ``size`` (results depend on it: keep it fixed)."""
    return max(8, _CHUNK_PIXELS // (size * size))


def _chunk_seed(seed: int, split: str, chunk: int) -> int:
    stream = seed + (TEST_SEED_OFFSET if split == "test" else 0)
    return (stream * 1_000_033 + chunk * 7919 + 12345) % (2**63 - 1)


def render_shapes(
    n: int, size: int = 64, seed: int = 0, split: str = "train", clutter: float = 0.0
) -> tuple[Tensor, Tensor, Tensor]:
    """Render ``n`` shape images and return ``(images, labels, masks)``.

    ``images`` uint8 ``(n, 3, size, size)``, ``labels`` int64 ``(n,)`` indices into
    :data:`SHAPE_CLASSES`, ``masks`` bool ``(n, size, size)``: the object's pixels. ``clutter``: the
    chance of each of the five distractor fragments (0 = none, the default; 0.65 was the earlier data's).
    """
    if not 0.0 <= clutter <= 1.0:
        raise ValueError(f"clutter must be a probability in [0, 1]; got {clutter}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    if size < _MIN_SIZE:
        raise ValueError(f"size must be >= {_MIN_SIZE} pixels for shapes; got {size}")
    parts = []
    chunk = _chunk_size(size)
    for i, start in enumerate(range(0, n, chunk)):
        gen = torch.Generator().manual_seed(_chunk_seed(seed, split, i))
        parts.append(_render_chunk(gen, min(chunk, n - start), size, clutter))
    images, labels, masks = (torch.cat(t) for t in zip(*parts))
    return images, labels, masks


def make_shapes(
    split: str = "train", size: int = 64, n: int | None = None, seed: int = 0, clutter: float = 0.0
) -> ImageSet:
    """The ``shapes`` dataset: uint8 ``(n, 3, size, size)`` images with exact boxes, task "localize".

    Default ``n``: 6000 for train, 1000 for test. ``test`` uses a different seed stream, so the
    two splits never share an image.
    """
    if split not in SHAPES_DEFAULT_N:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    count = SHAPES_DEFAULT_N[split] if n is None else int(n)
    images, labels, masks = render_shapes(count, size=size, seed=seed, split=split, clutter=clutter)
    return ImageSet(
        images=images,
        labels=labels,
        boxes=masks_to_boxes(masks),
        classes=list(SHAPE_CLASSES),
        task="localize",
        name=f"shapes/{split}",
        notes=[f"procedural shapes, seed {seed}, {size}x{size}, boxes are tight boxes of the drawn masks"],
    )
