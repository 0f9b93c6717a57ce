"""Safe image decoding with Pillow.

:func:`load_image` turns a file path or raw bytes into a uint8 ``(C, H, W)`` tensor. Everything
that can go wrong with an untrusted file becomes an :class:`ImageError` whose message a person can
act on: not an image, truncated, too many pixels (checked from the header, before decoding), or
too many bytes. Unusual-but-valid images (16-bit, float, alpha, palette, CMYK, EXIF-rotated, animated)
are converted, not rejected; float and wide-integer pixels follow the range rule of :mod:`idfy.data.pixels`
(float [0, 1] within 0.01, else 0..255, else an error). Every message is one line of idfy's own words (the
decoder's text, when kept, is shortened to one line in parentheses).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

__all__ = [
    "EXIF_ORIENTATION",
    "IMAGE_EXTENSIONS",
    "DecodedImage",
    "ImageError",
    "decode_image",
    "decode_pil",
    "load_image",
]

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm", ".jfif"}
)
_HINT = "supported: JPEG, PNG, BMP, GIF, WebP, TIFF, PPM/PGM"
#: The EXIF tag that says how the stored pixels must be rotated / mirrored for display (values 1..8).
EXIF_ORIENTATION = 0x0112
_MAX_DETAIL = 100


class ImageError(ValueError):
    """An input that cannot be used as an image; the message says why in plain words."""


@dataclass
class DecodedImage:
    """The result of :func:`decode_image`.

    Attributes:
        image: uint8 ``(C, H, W)``.
        format: the container format Pillow detected (e.g. ``"PNG"``).
        mode: the original Pillow mode (e.g. ``"I;16"``, ``"RGBA"``, ``"P"``).
        frames: number of frames in the file (> 1 for animations; only the first is used).
        notes: remarks about conversions that were applied.
        orientation: the EXIF orientation (1..8) that was applied to reach ``image`` from the stored pixels;
            1 when there was none (or it was unreadable). Boxes written on the stored pixels follow the image
            with :func:`idfy.data.orientation.orient_box`.
    """

    image: Tensor
    format: str
    mode: str
    frames: int = 1
    notes: list[str] = field(default_factory=list)
    orientation: int = 1

    @property
    def animated(self) -> bool:
        """True when the file holds several frames (the first one was used)."""
        return self.frames > 1


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def _detail(exc: BaseException) -> str:
    """The decoder's own text for ``exc``, on one line and at most ``_MAX_DETAIL`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _read_source(source: str | Path | bytes | bytearray | memoryview, max_bytes: int) -> tuple[bytes, str]:
    """Return the raw bytes of ``source`` and a display name; enforce ``max_bytes``."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = "<bytes>"
    else:
        path = Path(source)
        name = path.name or str(path)
        if not path.exists():
            raise ImageError(f"{name}: no such file")
        if not path.is_file():
            raise ImageError(f"{name}: not a regular file")
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise ImageError(f"{name}: the file is {_mb(size)}; the limit is {_mb(max_bytes)}")
            with path.open("rb") as fh:
                data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise ImageError(
                f"{name}: the file cannot be read ({exc.strerror or type(exc).__name__})"
            ) from exc
    if len(data) > max_bytes:
        raise ImageError(f"{name}: the data is {_mb(len(data))}; the limit is {_mb(max_bytes)}")
    if not data:
        raise ImageError(f"{name}: the file is empty")
    return data, name


def _open(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Open (header only) and check the pixel count before any decoding happens."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageError(
            f"{name}: the image is enormous; refused before decoding as a possible decompression bomb"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageError(f"{name}: not an image, or an image format that cannot be read ({_HINT})") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if "truncated" in str(exc).lower():
            raise ImageError(f"{name}: the file is truncated (it ends inside the image header)") from exc
        raise ImageError(f"{name}: the image header is damaged ({_detail(exc)})") from exc
    w, h = im.size
    if w < 1 or h < 1:
        raise ImageError(f"{name}: the image claims an empty size {w}x{h}")
    if w * h > max_pixels:
        raise ImageError(
            f"{name}: the image is {w}x{h} = {w * h / 1e6:.0f} megapixels; the limit is "
            f"{max_pixels / 1e6:g} megapixels (refused before decoding, a possible decompression bomb)"
        )
    return im


def _decode(im: Image.Image, name: str) -> Image.Image:
    """Decode the first frame fully; a truncated or corrupt stream becomes ImageError."""
    try:
        im.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im.load()
    except Image.DecompressionBombError as exc:
        raise ImageError(
            f"{name}: the image is enormous and was refused (a possible decompression bomb)"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        msg = str(exc)
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            raise ImageError(f"{name}: the file is truncated (the image data ends early)") from exc
        raise ImageError(f"{name}: the image data is corrupt and cannot be decoded ({_detail(exc)})") from exc
    return im


def _header_orientation(im: Image.Image) -> object:
    """The orientation tag as the file's header states it, before decoding (None when absent or unreadable)."""
    try:
        return im.getexif().get(EXIF_ORIENTATION)
    except Exception:  # a broken EXIF block is reported by _orient
        return None


def _orient(im: Image.Image, notes: list[str], before: object = None) -> tuple[Image.Image, int]:
    """Apply the EXIF orientation tag, if any; return the image and the orientation applied (1 = none).

    ``before`` is the tag read from the header before decoding: Pillow turns TIFF pixels itself while
    decoding and drops the tag, which then still counts as the orientation applied."""
    try:
        orientation = im.getexif().get(EXIF_ORIENTATION)
    except Exception:  # a broken EXIF block must not make the image unusable
        notes.append("the EXIF block is unreadable; orientation ignored")
        return im, 1
    if orientation is None and isinstance(before, int) and 2 <= before <= 8:
        notes.append(f"rotated/flipped according to EXIF orientation {before}")
        return im, before
    if orientation in (None, 1):
        return im, 1
    if not isinstance(orientation, int) or not 2 <= orientation <= 8:
        notes.append(f"EXIF orientation {orientation!r} is not one of 1..8; ignored")
        return im, 1
    out = ImageOps.exif_transpose(im)
    notes.append(f"rotated/flipped according to EXIF orientation {orientation}")
    return (out if out is not None else im), orientation


def _high_depth_to_8bit(im: Image.Image, name: str, notes: list[str]) -> Image.Image:
    """Scale 16-bit ("I;16*"), 32-bit integer ("I") and float ("F") gray images to 8-bit "L".

    The rule is :mod:`idfy.data.pixels`'s; values that fit none of its ranges raise ImageError."""
    from .pixels import float_to_uint8, int_to_uint8  # here: pixels imports ImageError from this module

    arr = np.asarray(im)
    if im.mode == "F":
        out, note = float_to_uint8(arr, name)
    else:
        out, note = int_to_uint8(arr, name, sixteen_bit=im.mode.startswith("I;16"))
    if note:
        notes.append(note)
    return Image.fromarray(np.ascontiguousarray(out), mode="L")


def _flatten_alpha(im: Image.Image, notes: list[str]) -> Image.Image:
    """Composite images with transparency on a white background; return RGB."""
    rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    notes.append("transparent pixels composited on white")
    return Image.alpha_composite(white, rgba).convert("RGB")


def _to_mode(im: Image.Image, channels: int, name: str, notes: list[str]) -> Image.Image:
    """Convert any Pillow mode to "L" (channels=1) or "RGB" (channels=3)."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        im = _high_depth_to_8bit(im, name, notes)
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode in ("P", "L", "RGB") and "transparency" in im.info
    )
    if has_alpha:
        im = _flatten_alpha(im, notes)
    elif im.mode == "CMYK":
        im = im.convert("RGB")
        notes.append("CMYK converted to RGB")
    target = "L" if channels == 1 else "RGB"
    return im if im.mode == target else im.convert(target)


def decode_image(
    source: str | Path | bytes,
    *,
    channels: int = 3,
    max_pixels: int = 40_000_000,
    max_bytes: int = 50 * 2**20,
) -> DecodedImage:
    """Decode ``source`` (a path or the raw file bytes) like :func:`load_image`, with details.

    Returns a :class:`DecodedImage` whose ``image`` is uint8 ``(channels, H, W)`` and whose
    ``frames`` / ``notes`` / ``orientation`` say what was done (e.g. the first of 12 animation frames was
    used, float pixels were read as [0, 1], EXIF orientation 6 was applied).

    Raises:
        ImageError: see :func:`load_image`; also float pixels that are NaN / infinite or fit neither [0, 1]
            nor 0..255, and integer pixels outside 0..65535 (:mod:`idfy.data.pixels`).
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels}")
    data, name = _read_source(source, max_bytes)
    im = _open(data, name, max_pixels)
    fmt, mode = im.format or "unknown", im.mode
    frames = int(getattr(im, "n_frames", 1) or 1)
    notes: list[str] = []
    if frames > 1:
        notes.append(f"{name} is animated ({frames} frames); the first frame was used")
    before = _header_orientation(im)
    im = _decode(im, name)
    return _convert(im, channels, name, fmt, mode, frames, notes, before)


def _convert(
    im: Image.Image,
    channels: int,
    name: str,
    fmt: str,
    mode: str,
    frames: int,
    notes: list[str],
    before: object = None,
) -> DecodedImage:
    """A loaded Pillow image -> DecodedImage: EXIF orientation, mode rules, uint8 ``(C, H, W)``."""
    im, orientation = _orient(im, notes, before)
    try:
        im = _to_mode(im, channels, name, notes)
    except ImageError:
        raise
    except (OSError, ValueError) as exc:
        raise ImageError(f"{name}: the colour mode {mode} cannot be converted ({_detail(exc)})") from exc
    arr = np.asarray(im, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    tensor = torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()
    return DecodedImage(
        image=tensor, format=fmt, mode=mode, frames=frames, notes=notes, orientation=orientation
    )


def decode_pil(im: Image.Image, *, channels: int = 3, max_pixels: int = 40_000_000) -> DecodedImage:
    """An image already opened with Pillow -> :class:`DecodedImage`, by the same rules as a file.

    EXIF orientation, transparency on white, 16-bit and float pixels (:mod:`idfy.data.pixels`) are handled
    exactly as :func:`decode_image` handles them, so a picture gives the same pixels whichever way it comes.

    Raises:
        ImageError: more than ``max_pixels`` pixels, an unreadable image, or pixels that fit no range rule.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels}")
    w, h = im.size
    if w < 1 or h < 1 or w * h > max_pixels:
        raise ImageError(f"the image is {w}x{h}; it must have 1 to {max_pixels / 1e6:g} megapixels")
    frames = int(getattr(im, "n_frames", 1) or 1)
    notes = [f"the image is animated ({frames} frames); its current frame was used"] if frames > 1 else []
    before = _header_orientation(im)
    try:
        im.load()  # the caller's frame, not a seek that would move it
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise ImageError(f"the image data is corrupt and cannot be decoded ({_detail(exc)})") from exc
    return _convert(im, channels, "the image", im.format or "memory", im.mode, frames, notes, before)


def load_image(
    source: str | Path | bytes,
    *,
    channels: int = 3,
    max_pixels: int = 40_000_000,
    max_bytes: int = 50 * 2**20,
) -> Tensor:
    """Decode an image file (path or raw bytes) into a uint8 ``(channels, H, W)`` tensor.

    Raises :class:`ImageError` (a ValueError) with a clear message when the input is not an image,
    is truncated or corrupt, claims more than ``max_pixels`` pixels (checked from the header before
    decoding), or is larger than ``max_bytes``, or holds float pixels outside the rule of
    :mod:`idfy.data.pixels`. 16-bit images are scaled to 8 bits, transparency is
    composited on white, palette/CMYK/gray are converted, EXIF orientation is applied and animations
    give their first frame (use :func:`decode_image` to learn that it was animated).
    """
    return decode_image(source, channels=channels, max_pixels=max_pixels, max_bytes=max_bytes).image
