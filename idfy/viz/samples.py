"""The sample-predictions picture, drawn once for the app, the CLI and the run folder (``samples.png``): one
run's grid, and a race's designs side by side.

Each test image is enlarged with its true box (green) and predicted box (red, with a dark rim so it shows on
any colour), the predicted class and score (green when right, red when wrong) and the true class under it.
Input: :class:`idfy.train.events.Samples` (images float (K, C, H, W) in [0, 1], boxes (K, 4) normalized xyxy).
Output: a PIL RGB image; :func:`samples_png` gives its PNG bytes.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:  # types only: idfy.train imports the run-folder pictures from here
    from idfy.train.events import Samples


__all__ = ["BAD", "PRED", "TILE", "TRUTH", "race_samples_image", "samples_image", "samples_png"]

TRUTH, PRED, BAD = (34, 197, 94), (239, 68, 68), (185, 28, 28)
TILE = 124
_PAD, _CAPTION, _HEADER = 8, 36, 26


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def _tile(image: Any, side: int) -> Image.Image:
    """A (C, H, W) float tensor in [0, 1] -> an RGB PIL image ``side`` pixels square (nearest when enlarging)."""
    arr = (image.float().clamp(0, 1) * 255).round().byte()
    if arr.shape[0] == 1:
        arr = arr.expand(3, -1, -1)
    pil = Image.fromarray(arr[:3].permute(1, 2, 0).contiguous().numpy(), "RGB")
    if pil.size != (side, side):
        up = pil.width < side
        pil = pil.resize((side, side), Image.Resampling.NEAREST if up else Image.Resampling.BILINEAR)
    return pil


def _draw_sample(canvas: Image.Image, samples: Samples, i: int, x0: int, y0: int, tile: int) -> None:
    """Image ``i`` of ``samples`` with its boxes at (x0, y0), and its two caption lines below it."""
    draw = ImageDraw.Draw(canvas)
    canvas.paste(_tile(samples.images[i], tile), (x0, y0))
    draw.rectangle((x0 - 1, y0 - 1, x0 + tile, y0 + tile), outline=(203, 213, 225))
    for boxes, color in ((samples.true_boxes, TRUTH), (samples.pred_boxes, PRED)):
        if boxes is None:
            continue
        x1, y1, x2, y2 = (float(v) * tile for v in boxes[i])
        draw.rectangle((x0 + x1 - 1, y0 + y1 - 1, x0 + x2 + 1, y0 + y2 + 1), outline=(15, 23, 42), width=5)
        draw.rectangle((x0 + x1, y0 + y1, x0 + x2, y0 + y2), outline=color, width=3)
    pred, true = samples.pred_labels[i], samples.true_labels[i]
    name = samples.classes[pred] if 0 <= pred < len(samples.classes) else str(pred)
    truth = samples.classes[true] if 0 <= true < len(samples.classes) else str(true)
    color = (21, 128, 61) if pred == true else BAD
    draw.text((x0, y0 + tile + 4), f"{name} {samples.pred_scores[i]:.2f}", fill=color, font=_font(13))
    draw.text((x0, y0 + tile + 21), f"true: {truth}", fill=(100, 116, 139), font=_font(12))


def _legend(draw: ImageDraw.ImageDraw, x: int, boxes: bool) -> None:
    small = _font(12)
    for label, color in (("truth", TRUTH), ("prediction", PRED)) if boxes else ():
        draw.rectangle((x, 9, x + 13, 21), outline=color, width=3)
        draw.text((x + 18, 8), label, fill=(71, 85, 105), font=small)
        x += 30 + int(draw.textlength(label, font=small))


def samples_image(samples: Samples, columns: int = 4, tile: int = TILE) -> Image.Image:
    """One picture of a run's sample predictions, ``columns`` images a row, titled with the step."""
    k = len(samples.images)
    cols = max(1, min(columns, k))
    rows = max(1, math.ceil(k / cols))
    width = cols * tile + (cols + 1) * _PAD
    height = _HEADER + rows * (tile + _CAPTION) + (rows + 1) * _PAD
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    title = f"test images at step {samples.step}"
    draw.text((_PAD, 7), title, fill=(30, 41, 59), font=_font(13))
    has_boxes = samples.true_boxes is not None or samples.pred_boxes is not None
    _legend(draw, _PAD + int(draw.textlength(title, font=_font(13))) + 16, has_boxes)
    for i in range(k):
        r, c = divmod(i, cols)
        _draw_sample(
            canvas, samples, i, _PAD + c * (tile + _PAD), _HEADER + _PAD + r * (tile + _CAPTION + _PAD), tile
        )
    return canvas


def samples_png(samples: Samples, columns: int = 4) -> bytes:
    """:func:`samples_image` as PNG bytes."""
    buf = io.BytesIO()
    samples_image(samples, columns).save(buf, format="PNG")
    return buf.getvalue()


def race_samples_image(
    names: list[str], samples: list[Samples | None], columns: int = 4, tile: int = 104
) -> Image.Image:
    """A race's designs side by side: one row per design (its name and step on the left), the same first
    ``columns`` test images in every row. A design without samples yet gets an empty row."""
    label_w = 128
    k = max((min(columns, len(s.images)) for s in samples if s is not None), default=columns)
    width = label_w + k * tile + (k + 1) * _PAD
    row_h = tile + _CAPTION + _PAD
    height = _HEADER + len(names) * row_h + _PAD
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    title = "the same test images, one row per design"
    draw.text((_PAD, 7), title, fill=(30, 41, 59), font=_font(13))
    has_boxes = any(s is not None and (s.true_boxes is not None or s.pred_boxes is not None) for s in samples)
    _legend(draw, _PAD + int(draw.textlength(title, font=_font(13))) + 16, has_boxes)
    for r, (name, s) in enumerate(zip(names, samples)):
        y0 = _HEADER + _PAD + r * row_h
        draw.text(
            (_PAD, y0 + tile // 2 - 16),
            _fit(draw, name, label_w - 2 * _PAD),
            fill=(15, 23, 42),
            font=_font(14),
        )
        step = "waiting for its first samples" if s is None else f"step {s.step}"
        draw.text((_PAD, y0 + tile // 2 + 4), step, fill=(100, 116, 139), font=_font(12))
        if s is None:
            continue
        for i in range(min(k, len(s.images))):
            _draw_sample(canvas, s, i, label_w + _PAD + i * (tile + _PAD), y0, tile)
    return canvas


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int) -> str:
    """``text`` cut with an ellipsis to ``width`` pixels."""
    font = _font(14)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
