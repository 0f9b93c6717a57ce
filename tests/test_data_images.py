"""Safe image decoding (idfy.data.images)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from idfy.data import ImageError, decode_image, load_image


def _png_bytes(im: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


def _rgb_pattern(w: int = 24, h: int = 16) -> Image.Image:
    arr = np.zeros((h, w, 3), dtype=np.uint8)
    arr[..., 0] = np.arange(w, dtype=np.uint8)[None, :] * 10
    arr[..., 1] = np.arange(h, dtype=np.uint8)[:, None] * 15
    arr[..., 2] = 77
    return Image.fromarray(arr)


def test_valid_png_roundtrip_from_path_and_bytes(tmp_path: Path) -> None:
    im = _rgb_pattern()
    path = tmp_path / "a.png"
    im.save(path)
    out = load_image(path)
    assert out.dtype == torch.uint8 and out.shape == (3, 16, 24)
    assert torch.equal(out.permute(1, 2, 0), torch.from_numpy(np.array(im)))
    assert torch.equal(load_image(path.read_bytes()), out)
    gray = load_image(path, channels=1)
    assert gray.shape == (1, 16, 24)


def test_valid_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    Image.new("RGB", (40, 30), (200, 30, 60)).save(path, quality=95)
    out = load_image(path)
    assert out.shape == (3, 30, 40)
    assert (out.float().mean(dim=(1, 2)) - torch.tensor([200.0, 30.0, 60.0])).abs().max() < 4


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("hello, I am text pretending to be a PNG\n" * 5)
    with pytest.raises(ImageError, match="not an image"):
        load_image(path)
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.png")
    assert issubclass(ImageError, ValueError)


def test_truncated_jpeg(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
    data = buf.getvalue()
    with pytest.raises(ImageError, match="truncated"):
        load_image(data[: len(data) // 2])  # cut inside the pixel data
    with pytest.raises(ImageError, match="truncated"):
        load_image(data[:200])  # cut inside the header


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_huge_dimensions_refused_before_decoding() -> None:
    # A 60-byte file whose header claims 100000 x 100000 pixels (10 gigapixels) and holds no pixel data.
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")
    with pytest.raises(ImageError, match=r"enormous|megapixels"):
        load_image(bomb)
    # Below Pillow's own limit our max_pixels still applies, with a readable message.
    with pytest.raises(ImageError, match="megapixels"):
        load_image(_png_bytes(_rgb_pattern(24, 16)), max_pixels=100)


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(_png_bytes(_rgb_pattern()))
    with pytest.raises(ImageError, match="limit"):
        load_image(path, max_bytes=20)
    with pytest.raises(ImageError, match="limit"):
        load_image(path.read_bytes(), max_bytes=20)


def test_16bit_png_is_scaled_to_8bit() -> None:
    arr = np.array([[0, 257, 32768, 65535]], dtype=np.uint16)
    data = _png_bytes(Image.fromarray(arr))
    dec = decode_image(data, channels=1)
    assert dec.image.tolist() == [[[0, 1, 128, 255]]]
    assert any("16" in n for n in dec.notes)
    rgb = load_image(data)
    assert rgb.shape == (3, 1, 4) and torch.equal(rgb[0], rgb[2])


def test_rgba_is_composited_on_white() -> None:
    arr = np.zeros((2, 2, 4), dtype=np.uint8)
    arr[0, 0] = (255, 0, 0, 255)  # opaque red
    arr[0, 1] = (0, 0, 255, 0)  # fully transparent
    arr[1, 0] = (0, 0, 0, 128)  # half-transparent black
    out = load_image(_png_bytes(Image.fromarray(arr, "RGBA")))
    assert out[:, 0, 0].tolist() == [255, 0, 0]
    assert out[:, 0, 1].tolist() == [255, 255, 255]
    assert all(120 <= v <= 135 for v in out[:, 1, 0].tolist())


def test_palette_images() -> None:
    im = Image.new("P", (3, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    im.putdata([0, 1, 2])
    out = load_image(_png_bytes(im))
    assert out[:, 0, :].T.tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
    # palette with a transparent entry: index 1 becomes white
    out_t = load_image(_png_bytes(im, transparency=1))
    assert out_t[:, 0, 1].tolist() == [255, 255, 255]


def test_grayscale_and_cmyk(tmp_path: Path) -> None:
    gray = Image.new("L", (5, 4), 90)
    out = load_image(_png_bytes(gray))
    assert out.shape == (3, 4, 5) and int(out.min()) == int(out.max()) == 90
    cmyk_path = tmp_path / "c.jpg"
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(cmyk_path)  # red in CMYK
    red = load_image(cmyk_path).float().mean(dim=(1, 2))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60


def test_exif_orientation_is_applied() -> None:
    im = Image.new("RGB", (20, 10), (0, 0, 0))
    im.paste((255, 255, 255), (0, 0, 5, 10))  # white on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    dec = decode_image(buf.getvalue())
    assert dec.image.shape == (3, 20, 10)  # height and width swapped
    assert float(dec.image[:, :5, :].float().mean()) > 200  # left became top
    assert any("EXIF" in n for n in dec.notes)


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (6, 6), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    dec = decode_image(buf.getvalue())
    assert dec.animated and dec.frames == 3
    assert dec.image[:, 0, 0].tolist() == [255, 0, 0]
    assert any("first frame" in n for n in dec.notes)
    assert torch.equal(load_image(buf.getvalue()), dec.image)


def test_bad_channels_argument() -> None:
    with pytest.raises(ValueError, match="channels"):
        load_image(_png_bytes(_rgb_pattern()), channels=4)
