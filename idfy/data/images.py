"""Safe image decoding with Pillow.

:func:`load_image` turns a file path or raw bytes into a uint8 ``(C, H, W)`` tensor. Everything
that can go wrong with an untrusted file becomes an :class:`ImageError` whose message a person can
act on: not an image, truncated, too many pixels (checked from the header, before decoding), or
too many bytes. Unusual-but-valid images (16-bit, alpha, palette, CMYK, EXIF-rotated, animated)
are converted, not rejected.
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

__all__ = ["IMAGE_EXTENSIONS", "DecodedImage", "ImageError", "decode_image", "load_image"]

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm", ".jfif"}
)
_HINT = "supported: JPEG, PNG, BMP, GIF, WebP, TIFF, PPM/PGM"


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
    """

    image: Tensor
    format: str
    mode: str
    frames: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def animated(self) -> bool:
        """True when the file holds several frames (the first one was used)."""
        return self.frames > 1


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


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
        size = path.stat().st_size
        if size > max_bytes:
            raise ImageError(f"{name}: the file is {_mb(size)}; the limit is {_mb(max_bytes)}")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
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
            f"{name}: the image is enormous; refused before decoding as a possible decompression bomb ({exc})"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageError(f"{name}: not an image, or an image format that cannot be read ({_HINT})") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if "truncated" in str(exc).lower():
            raise ImageError(f"{name}: the file is truncated (it ends inside the image header)") from exc
        raise ImageError(f"{name}: the image header is damaged ({exc})") from exc
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
        raise ImageError(f"{name}: the image is enormous and was refused ({exc})") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        msg = str(exc)
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            raise ImageError(f"{name}: the file is truncated (the image data ends early)") from exc
        raise ImageError(f"{name}: the image data is corrupt and cannot be decoded ({msg})") from exc
    return im


def _orient(im: Image.Image, notes: list[str]) -> Image.Image:
    """Apply the EXIF orientation tag, if any."""
    try:
        orientation = im.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not make the image unusable
        notes.append("the EXIF block is unreadable; orientation ignored")
        return im
    if orientation in (None, 1):
        return im
    out = ImageOps.exif_transpose(im)
    notes.append(f"rotated/flipped according to EXIF orientation {orientation}")
    return out if out is not None else im


def _high_depth_to_8bit(im: Image.Image, notes: list[str]) -> Image.Image:
    """Scale 16-bit ("I;16*", "I") and float ("F") gray images to 8-bit "L"."""
    arr = np.asarray(im)
    if im.mode.startswith("I;16") or (im.mode == "I" and arr.size and int(arr.max()) > 255):
        a = np.clip(arr.astype(np.int64), 0, 65535)
        out = ((a * 255 + 32767) // 65535).astype(np.uint8)
        notes.append(f"{im.mode} image scaled from 16 to 8 bits")
    elif im.mode == "F":
        a = np.nan_to_num(arr.astype(np.float64), nan=0.0)
        scale = 255.0 if a.size and float(a.max()) <= 1.0 else 1.0
        out = np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)
        notes.append("floating-point image converted to 8 bits")
    else:
        out = np.clip(arr, 0, 255).astype(np.uint8)
    return Image.fromarray(out, mode="L")


def _flatten_alpha(im: Image.Image, notes: list[str]) -> Image.Image:
    """Composite images with transparency on a white background; return RGB."""
    rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    notes.append("transparent pixels composited on white")
    return Image.alpha_composite(white, rgba).convert("RGB")


def _to_mode(im: Image.Image, channels: int, notes: list[str]) -> Image.Image:
    """Convert any Pillow mode to "L" (channels=1) or "RGB" (channels=3)."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        im = _high_depth_to_8bit(im, notes)
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
    ``frames`` / ``notes`` say what was done (e.g. the first of 12 animation frames was used).
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
    im = _decode(im, name)
    im = _orient(im, notes)
    try:
        im = _to_mode(im, channels, notes)
    except (OSError, ValueError) as exc:
        raise ImageError(f"{name}: the colour mode {mode} cannot be converted ({exc})") from exc
    arr = np.asarray(im, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    tensor = torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()
    return DecodedImage(image=tensor, format=fmt, mode=mode, frames=frames, notes=notes)


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
    decoding), or is larger than ``max_bytes``. 16-bit images are scaled to 8 bits, transparency is
    composited on white, palette/CMYK/gray are converted, EXIF orientation is applied and animations
    give their first frame (use :func:`decode_image` to learn that it was animated).
    """
    return decode_image(source, channels=channels, max_pixels=max_pixels, max_bytes=max_bytes).image
