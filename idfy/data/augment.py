"""Batch augmentations drawn from the run's own generator (so a resumed run replays the same batches).

Every function works on a whole batch with tensor ops on its device; per-item randomness comes from
``generator``. torchvision's and timm's random erasing draw from the global RNG (and the torchvision v2 ops
erase the same region in every item of a batch), which would break the engine's bit-exact resume; hence these.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["random_erase", "random_translate", "uniform"]


def uniform(shape: int | tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> Tensor:
    """Uniform ``[0, 1)`` floats of ``shape`` drawn with ``generator`` (on its own device), moved to ``device``."""
    gen_device = generator.device if generator is not None else device
    return torch.rand(shape, generator=generator, device=gen_device).to(device)


def random_translate(
    images: Tensor, boxes: Tensor | None, fraction: float, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor | None]:
    """Shift every image by its own random whole-pixel offset, filling the uncovered border with zeros.

    Args:
        images: ``(B, C, H, W)``.
        boxes: ``(B, 4)`` normalized xyxy, shifted with the pixels and clipped to ``[0, 1]``; or None.
        fraction: largest shift as a fraction of the side (``0.1`` on 28 px: up to ±2 px); 0 returns the input.
        generator: random source.

    Returns:
        ``(images, boxes)`` of the same shapes.
    """
    if fraction <= 0:
        return images, boxes
    b, _, h, w = images.shape
    sy, sx = round(fraction * h), round(fraction * w)
    if sy == 0 and sx == 0:
        return images, boxes
    r = uniform((2, b), generator, images.device)
    dy = (r[0] * (2 * sy + 1)).floor().long() - sy  # (B,) in [-sy, sy]
    dx = (r[1] * (2 * sx + 1)).floor().long() - sx
    padded = torch.nn.functional.pad(images, (sx, sx, sy, sy))
    rows = torch.arange(h, device=images.device).view(1, h) + sy - dy.view(b, 1)  # (B, H)
    cols = torch.arange(w, device=images.device).view(1, w) + sx - dx.view(b, 1)  # (B, W)
    batch = torch.arange(b, device=images.device).view(b, 1, 1)
    out = padded.permute(0, 2, 3, 1)[batch, rows.view(b, h, 1), cols.view(b, 1, w)]  # (B, H, W, C)
    out = out.permute(0, 3, 1, 2)
    if boxes is not None:
        shift = torch.stack((dx / w, dy / h, dx / w, dy / h), dim=1).to(boxes.dtype)
        boxes = (boxes + shift).clamp(0.0, 1.0)
    return out, boxes


def random_erase(
    images: Tensor,
    p: float,
    generator: torch.Generator | None = None,
    *,
    area: tuple[float, float] = (0.02, 0.25),
    aspect: tuple[float, float] = (0.3, 3.3),
) -> Tensor:
    """Random erasing (Zhong et al., 2017): with probability ``p`` per image, fill one random rectangle with noise.

    Args:
        images: ``(B, C, H, W)`` in ``[0, 1]``.
        p: probability that an image gets a rectangle; 0 returns the input.
        generator: random source.
        area: range of the rectangle's area as a fraction of the image.
        aspect: range of its height/width ratio (drawn log-uniformly).

    Returns:
        ``(B, C, H, W)``; the rectangles hold uniform noise in ``[0, 1]``.
    """
    if p <= 0:
        return images
    b, c, h, w = images.shape
    r = uniform((5, b), generator, images.device)
    a = (area[0] + r[0] * (area[1] - area[0])) * h * w
    ratio = torch.exp(math.log(aspect[0]) + r[1] * (math.log(aspect[1]) - math.log(aspect[0])))
    eh = (a * ratio).sqrt().round().clamp(1, h)
    ew = (a / ratio).sqrt().round().clamp(1, w)
    y0 = (r[2] * (h - eh + 1)).floor()
    x0 = (r[3] * (w - ew + 1)).floor()
    on = r[4] < p
    yy = torch.arange(h, device=images.device).view(1, h, 1)
    xx = torch.arange(w, device=images.device).view(1, 1, w)
    mask = (
        (yy >= y0.view(b, 1, 1))
        & (yy < (y0 + eh).view(b, 1, 1))
        & (xx >= x0.view(b, 1, 1))
        & (xx < (x0 + ew).view(b, 1, 1))
        & on.view(b, 1, 1)
    )  # (B, H, W)
    noise = uniform((b, c, h, w), generator, images.device).to(images.dtype)
    return torch.where(mask.unsqueeze(1), noise, images)
