"""Which frame an annotation's box is written in, and the box in the displayed image's frame (normalized and
clipped): the EXIF rules of :mod:`idfy.data.formats`."""

from __future__ import annotations

import torch
from torchvision import ops

from ..orientation import orient_box, stored_size
from .common import Entry, Obj, Skip

__all__ = ["normalized_box", "pick_object"]


def pick_object(entry: Entry, multi: list[str]) -> Obj:
    """The largest object of ``entry``; several objects add a note."""
    best = max(entry.objects, key=lambda o: o.area)
    if len(entry.objects) > 1:
        multi.append(f"{entry.key} had {len(entry.objects)} objects; used the largest ({best.label})")
    return best


def _frame(
    entry: Entry, width: int, height: int, orientation: int, notes: list[str]
) -> tuple[float, float, bool]:
    """``(W, H, turn)``: the frame ``entry``'s boxes are written in (the rule in :mod:`idfy.data.formats`;
    ``1 x 1`` for normalized boxes) and whether they must be turned with the EXIF orientation. Skip when
    the declared size fits neither the stored nor the displayed image."""
    if entry.normalized or entry.declared_size is None:
        if orientation != 1:
            how = "normalized box" if entry.normalized else "no image size declared, box"
            notes.append(f"{entry.key}: EXIF orientation {orientation}; {how} read in the displayed frame")
        return (1.0, 1.0, False) if entry.normalized else (float(width), float(height), False)
    dw, dh = (round(v) for v in entry.declared_size)
    sw, sh = stored_size((width, height), orientation)
    if (dw, dh) == (sw, sh):
        if orientation != 1:
            notes.append(
                f"{entry.key}: box turned with the image (EXIF orientation {orientation}; the annotation's "
                f"{dw}x{dh} is the stored frame)"
            )
        return float(sw), float(sh), orientation != 1
    if (dw, dh) == (width, height):
        return float(width), float(height), False
    stored = f", stored {sw}x{sh} with EXIF orientation {orientation}" if orientation != 1 else ""
    raise Skip(
        f"the annotation declares the image {dw}x{dh} but it is {width}x{height}{stored}; the boxes "
        "cannot be placed, correct the annotation's size"
    )


def normalized_box(
    entry: Entry, obj: Obj, width: int, height: int, orientation: int, notes: list[str]
) -> tuple[float, ...]:
    """Box of ``obj`` normalized to the displayed ``width x height`` image and clipped to it.

    Boxes more than a pixel outside the image are clipped with a note; Skip when nothing is left."""
    w, h, turn = _frame(entry, width, height, orientation, notes)
    x1, y1, x2, y2 = obj.box
    box = (x1 / w, y1 / h, x2 / w, y2 / h)
    if turn:
        box = orient_box(box, orientation)
    clipped = tuple(ops.clip_boxes_to_image(torch.tensor(box, dtype=torch.float64), (1, 1)).tolist())
    if clipped[2] - clipped[0] <= 1e-6 or clipped[3] - clipped[1] <= 1e-6:
        raise Skip(f"the box {obj.box} is empty or outside the image")
    if any(abs(a - b) * side > 1.0 for a, b, side in zip(box, clipped, (width, height, width, height))):
        notes.append(f"{entry.key}: the box {obj.box} reaches more than a pixel outside the image; clipped")
    return clipped
