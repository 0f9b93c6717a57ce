"""The Predict tab's pictures: the prediction drawn on the image (with the truth of a known example) and what
each stage sees (the re-injected image, the mean feature map, the strongest channels)."""

from __future__ import annotations

import functools
import html
from typing import Any

import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw

from idfy.analysis.units import shape_text
from idfy.config import ModelConfig
from idfy.plan import injection_places
from idfy.predict import draw_overlay
from idfy.ui.formatting import part_label
from idfy.ui.tabs.predict.examples import Example

__all__ = ["overlay", "stage_gallery", "stage_note"]

_TRUTH = (34, 197, 94)
_VIEW_SIDE = 132


@functools.lru_cache(maxsize=1)
def _viridis() -> np.ndarray:
    return (colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)


def _enlarge(pil: Image.Image, side: int = _VIEW_SIDE) -> Image.Image:
    """Nearest-neighbour enlargement by a whole factor so the longer side is about ``side`` pixels."""
    f = max(1, round(side / max(pil.width, pil.height)))
    return pil.resize((pil.width * f, pil.height * f), Image.Resampling.NEAREST) if f > 1 else pil


def _heat(arr: np.ndarray) -> Image.Image:
    """(h, w) float -> viridis RGB, scaled to its own min..max."""
    a = np.nan_to_num(arr.astype(np.float32))
    lo, hi = float(a.min()), float(a.max())
    idx = (
        np.zeros(a.shape, np.uint8)
        if hi - lo < 1e-12
        else ((a - lo) / (hi - lo) * 255).round().astype(np.uint8)
    )
    return Image.fromarray(_viridis()[idx], "RGB")


def _picture(chw: np.ndarray) -> Image.Image:
    """(C, h, w) in [0, 1] -> RGB."""
    a = (np.clip(chw, 0, 1) * 255).round().astype(np.uint8)
    if a.shape[0] == 1:
        a = np.repeat(a, 3, axis=0)
    return Image.fromarray(np.ascontiguousarray(a[:3].transpose(1, 2, 0)), "RGB")


def _mosaic(maps: np.ndarray, side: int = _VIEW_SIDE) -> Image.Image:
    """Up to 4 (h, w) maps in a 2×2 grid, each coloured on its own scale and enlarged, 3 px apart."""
    cols = 2 if len(maps) > 1 else 1
    tiles = [_enlarge(_heat(m), side // cols) for m in maps[:4]]
    h, w, gap = tiles[0].height, tiles[0].width, 3
    rows = (len(tiles) + cols - 1) // cols
    out = Image.new("RGB", (cols * w + (cols - 1) * gap, rows * h + (rows - 1) * gap), (255, 255, 255))
    for i, t in enumerate(tiles):
        out.paste(t, ((i % cols) * (w + gap), (i // cols) * (h + gap)))
    return out


def stage_note(cfg: ModelConfig | None) -> str:
    """The note over the stage views (HTML) for the checkpoint's design ``cfg``: the re-injected image is named
    only where the design injects it; ``None`` (no checkpoint yet) says it is shown where a design injects."""
    maps = "the mean of its feature maps and its four strongest channels (each on its own colour scale)"
    if cfg is None:
        text = f"— {maps}, and the image re-injected there where the checkpoint's design does so (S1)"
    else:
        places = injection_places(cfg)
        text = (
            f"— the image re-injected there (S1: {', '.join(part_label(p) for p in places)}), {maps}"
            if places
            else f"— {maps}; this design re-injects no image (S1)"
        )
    return (
        f'<div class="predict-note">what each stage sees <span>{html.escape(text, quote=False)}</span></div>'
    )


def stage_gallery(prediction: Any) -> list[tuple[Image.Image, str]]:
    """What each stage sees, as (picture, caption) pairs: the image re-injected there (S1), the mean of its output
    feature maps and its four strongest channels."""
    items: list[tuple[Image.Image, str]] = []
    for v in prediction.stage_views:
        where = part_label(v.name)
        if v.injected is not None:
            items.append(
                (_enlarge(_picture(v.injected)), f"{where} · injected {shape_text(v.injected.shape)}")
            )
        if v.features is not None:
            items.append((_enlarge(_heat(v.features)), f"{where} · features {shape_text(v.shape)}"))
        if v.top is not None and len(v.top):
            chans = ", ".join(str(c) for c in v.top_channels)
            items.append((_mosaic(v.top), f"{where} · channels {chans}"))
    return items


def overlay(image: Any, prediction: Any, truth: Example | None) -> Image.Image:
    """The library's overlay (predicted box and label), plus the true box in green for a known example."""
    pil = draw_overlay(image, prediction)
    if truth is not None:
        h, w = prediction.image_size
        fx, fy = pil.width / w, pil.height / h
        x1, y1, x2, y2 = truth.box
        lw = max(2, pil.height // 128)
        ImageDraw.Draw(pil).rectangle(
            (x1 * w * fx, y1 * h * fy, x2 * w * fx, y2 * h * fy), outline=_TRUTH, width=lw
        )
    return pil
