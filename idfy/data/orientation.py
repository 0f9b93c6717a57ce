"""Boxes under EXIF orientation: move a box from the stored pixel frame to the displayed one.

A JPEG from a phone often stores its pixels sideways with an EXIF orientation tag (1..8, TIFF/EXIF 2.3
tag 0x0112) that says how to turn them for display; :func:`idfy.data.decode_image` applies it. A box
written on the stored pixels must be turned the same way, which :func:`orient_box` does for all eight
values: 1 as stored, 2 mirrored left-right, 3 turned 180°, 4 mirrored top-bottom, 5 transposed (mirrored
about the main diagonal), 6 turned 90° clockwise, 7 transversed (mirrored about the anti-diagonal),
8 turned 90° counter-clockwise.
"""

from __future__ import annotations

__all__ = ["ORIENTATIONS", "orient_box", "stored_size"]

#: The valid EXIF orientation values.
ORIENTATIONS = (1, 2, 3, 4, 5, 6, 7, 8)

Box = tuple[float, float, float, float]


def _point(x: float, y: float, orientation: int) -> tuple[float, float]:
    """A normalized point of the stored frame -> the same point in the displayed frame."""
    if orientation == 2:
        return 1.0 - x, y
    if orientation == 3:
        return 1.0 - x, 1.0 - y
    if orientation == 4:
        return x, 1.0 - y
    if orientation == 5:
        return y, x
    if orientation == 6:
        return 1.0 - y, x
    if orientation == 7:
        return 1.0 - y, 1.0 - x
    if orientation == 8:
        return y, 1.0 - x
    return x, y


def orient_box(box: Box, orientation: int) -> Box:
    """Turn a normalized ``(x1, y1, x2, y2)`` box of the stored frame into the displayed frame.

    Args:
        box: normalized to the stored image (``x`` by its width, ``y`` by its height), ``x1 < x2``,
            ``y1 < y2``.
        orientation: the EXIF orientation 1..8 the image was displayed with.

    Returns:
        The normalized box of the same pixels in the displayed image (``x1 < x2``, ``y1 < y2``).

    Raises:
        ValueError: ``orientation`` is not 1..8.
    """
    if orientation not in ORIENTATIONS:
        raise ValueError(f"EXIF orientation must be one of 1..8; got {orientation!r}")
    x1, y1, x2, y2 = box
    a = _point(x1, y1, orientation)
    b = _point(x2, y2, orientation)
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


def stored_size(displayed: tuple[int, int], orientation: int) -> tuple[int, int]:
    """``(W, H)`` of the stored pixels of an image displayed as ``displayed`` = ``(W, H)``.

    Orientations 5..8 swap the sides; 1..4 keep them.
    """
    w, h = displayed
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
