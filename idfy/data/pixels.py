"""What the numbers of a non-8-bit image mean: the rule that turns float and wide-integer pixels into uint8.

Float pixels (a 32-bit float TIFF, a float array or tensor given to prediction) are read by their range:

* every value in ``[-0.01, 1.01]``: the image is in **[0, 1]**; it is multiplied by 255 and the rounding
  overshoot (at most 0.01 either side) is clipped;
* else every value in ``[-0.5, 255.5]`` and the largest at least 2: the image is in **0..255**; it is rounded;
* anything else is refused with :class:`ImageError`: NaN or infinite values, values below -0.5 or above
  255.5, and peaks between 1.01 and 2 (too bright for [0, 1], too dark to be a 0..255 picture) -- the message
  gives the range found, so the image can be rescaled on purpose rather than clamped by accident.

Integer pixels wider than 8 bits: ``uint16`` data (and Pillow's ``I;16`` modes) is 16-bit and scaled by
255 / 65535; other integer arrays (and Pillow's 32-bit ``I`` mode) are read as 8-bit when every value lies in
0..255, as 16-bit when they lie in 0..65535, and are refused otherwise (negative or larger values). Boolean
arrays are 0 / 255.
"""

from __future__ import annotations

import numpy as np

from .images import ImageError

__all__ = [
    "BYTE_MIN_PEAK",
    "BYTE_TOLERANCE",
    "UNIT_TOLERANCE",
    "float_to_uint8",
    "int_to_uint8",
    "pixels_to_uint8",
]

#: How far float pixels may stray outside [0, 1] (rounding) and still be read as [0, 1].
UNIT_TOLERANCE = 0.01
#: How far float pixels may stray outside 0..255 (rounding) and still be read as 0..255.
BYTE_TOLERANCE = 0.5
#: The smallest peak a float image read as 0..255 must reach (below it, it is neither scale).
BYTE_MIN_PEAK = 2.0


def _span(a: np.ndarray) -> str:
    return f"{float(a.min()):.6g}..{float(a.max()):.6g}"


def float_to_uint8(a: np.ndarray, name: str = "the image") -> tuple[np.ndarray, str]:
    """Float pixels of any shape -> ``(uint8 array of the same shape, note saying which scale was read)``.

    The rule is the module's: [0, 1] within 0.01, else 0..255 within 0.5 (peak >= 2), else an error.

    Raises:
        ImageError: NaN / infinite values, or a range that fits neither scale (the message gives it).
    """
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        raise ImageError(f"{name}: the image has no pixels")
    finite = np.isfinite(a)
    if not finite.all():
        bad = int(a.size - finite.sum())
        raise ImageError(
            f"{name}: {bad} float pixel values are NaN or infinite; replace them before using the image"
        )
    lo, hi = float(a.min()), float(a.max())
    if lo >= -UNIT_TOLERANCE and hi <= 1.0 + UNIT_TOLERANCE:
        out = np.rint(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)
        clipped = " (values within 0.01 outside it clipped)" if lo < 0.0 or hi > 1.0 else ""
        return out, f"float pixels read as [0, 1]{clipped}"
    if lo >= -BYTE_TOLERANCE and hi <= 255.0 + BYTE_TOLERANCE and hi >= BYTE_MIN_PEAK:
        return np.rint(np.clip(a, 0.0, 255.0)).astype(np.uint8), "float pixels read as 0..255"
    raise ImageError(
        f"{name}: float pixel values span {_span(a)}, which fits neither [0, 1] (within {UNIT_TOLERANCE:g}) "
        f"nor 0..255 (within {BYTE_TOLERANCE:g}, peak at least {BYTE_MIN_PEAK:g}); rescale the image to one "
        "of them"
    )


def int_to_uint8(
    a: np.ndarray, name: str = "the image", *, sixteen_bit: bool = False
) -> tuple[np.ndarray, str]:
    """Integer (or bool) pixels -> ``(uint8 array, note)``; ``""`` when nothing needed converting.

    ``sixteen_bit`` (or a ``uint16`` dtype) scales by 255 / 65535 whatever the values; otherwise values in
    0..255 are kept and values in 0..65535 are scaled as 16-bit.

    Raises:
        ImageError: negative values or values above 65535 (the message gives the range).
    """
    a = np.asarray(a)
    if a.size == 0:
        raise ImageError(f"{name}: the image has no pixels")
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * np.uint8(255), "boolean pixels read as 0 / 255"
    if a.dtype == np.uint8:
        return a, ""
    lo, hi = int(a.min()), int(a.max())
    if lo < 0 or hi > 65535:
        raise ImageError(
            f"{name}: integer pixel values span {lo}..{hi}; idfy reads integers as 0..255 or 16-bit "
            "0..65535, rescale the image to one of them"
        )
    if sixteen_bit or (a.dtype.kind == "u" and a.dtype.itemsize == 2) or hi > 255:  # any byte order
        wide = a.astype(np.int64)
        return ((wide * 255 + 32767) // 65535).astype(np.uint8), "16-bit pixels scaled to 8 bits"
    return a.astype(np.uint8), ""


def pixels_to_uint8(a: np.ndarray, name: str = "the image") -> tuple[np.ndarray, str]:
    """Any numeric array -> ``(uint8 array, note)``, by :func:`float_to_uint8` or :func:`int_to_uint8`.

    Raises:
        ImageError: a range that fits no rule, NaN / infinity, or a non-numeric dtype.
    """
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return float_to_uint8(a, name)
    if a.dtype.kind in "biu":
        return int_to_uint8(a, name)
    raise ImageError(f"{name}: pixels of type {a.dtype} are not numbers; give uint8, integer or float pixels")
