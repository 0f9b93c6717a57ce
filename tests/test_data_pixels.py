"""Float and wide-integer pixels mean what they say: [0, 1] within 0.01, else 0..255, else a one-line
error.

Files decoded by ``decode_image`` (float TIFFs, 32-bit integer images) and arrays or tensors given to
prediction follow the same rule; nothing is clamped silently.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import idfy
from idfy.data import ImageError, decode_image
from idfy.data.pixels import float_to_uint8, int_to_uint8, pixels_to_uint8
from idfy.predict import Predictor, to_uint8_chw

DATA = Path(__file__).resolve().parent / "data" / "float-image-range"


def _tiff(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "TIFF")
    return buf.getvalue()


def _ramp(scale: float = 1.0) -> np.ndarray:
    """A (16, 32) float32 ramp 0..scale."""
    return (np.tile(np.linspace(0.0, 1.0, 32, dtype=np.float32), (16, 1)) * scale).astype(np.float32)


# --------------------------------------------------------------------------- the case's TIFFs


def test_the_case_overshoot_tiff_reads_like_the_exact_one() -> None:
    exact = decode_image(DATA / "f_01.tif")
    over = decode_image(DATA / "f_overshoot.tif")
    assert float(exact.image.float().mean()) == pytest.approx(127.5, abs=1.0)
    # one pixel at 1.0001 once made the whole image read as 0..255 (mean 0.5, black)
    assert float(over.image.float().mean()) == pytest.approx(float(exact.image.float().mean()), abs=1.0)
    assert any("read as [0, 1]" in n for n in over.notes) and any("clipped" in n for n in over.notes)
    assert any("read as [0, 1]" in n for n in exact.notes)


def test_float_tiff_in_0_255_is_read_as_0_255() -> None:
    dec = decode_image(_tiff(_ramp(255.0)), channels=1)
    assert int(dec.image.min()) == 0 and int(dec.image.max()) == 255
    assert any("read as 0..255" in n for n in dec.notes)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (_ramp() - 0.5, "fits neither"),  # negative values
        (_ramp(300.0), "fits neither"),  # above 255.5
        (_ramp(1.5), "fits neither"),  # too bright for [0, 1], too dark for 0..255
        (np.where(_ramp() > 0.5, np.nan, _ramp()).astype(np.float32), "NaN or infinite"),
        (np.where(_ramp() > 0.5, np.inf, _ramp()).astype(np.float32), "NaN or infinite"),
    ],
    ids=["negative", "above-255", "peak-1.5", "nan", "inf"],
)
def test_float_tiff_outside_both_rules_is_a_one_line_error(values: np.ndarray, words: str) -> None:
    with pytest.raises(ImageError, match=words) as info:
        decode_image(_tiff(values))
    assert "\n" not in str(info.value)


def test_32bit_integer_image_out_of_range_is_refused_not_clipped() -> None:
    arr = np.array([[-5, 0, 100, 200]], dtype=np.int32)
    with pytest.raises(ImageError, match=r"-5\.\.200"):
        decode_image(_tiff(arr))


# --------------------------------------------------------------------------- the rule itself


def test_rule_boundaries() -> None:
    assert float_to_uint8(np.array([-0.01, 1.01]))[0].tolist() == [0, 255]
    assert float_to_uint8(np.array([0.0, 2.0]))[0].tolist() == [0, 2]  # the smallest 0..255 peak
    assert float_to_uint8(np.array([-0.5, 255.5]))[0].tolist() == [0, 255]
    for bad in ([-0.02, 1.0], [0.0, 1.02], [-0.6, 200.0], [0.0, 255.6]):
        with pytest.raises(ImageError):
            float_to_uint8(np.array(bad))
    assert int_to_uint8(np.array([0, 255], dtype=np.int64))[0].tolist() == [0, 255]
    assert int_to_uint8(np.array([0, 65535], dtype=np.int64))[0].tolist() == [0, 255]
    assert int_to_uint8(np.array([0, 255], dtype=np.uint16))[0].tolist() == [0, 1]  # the dtype says 16-bit
    assert int_to_uint8(np.array([0, 255], dtype=">u2"))[0].tolist() == [0, 1]  # in either byte order
    with pytest.raises(ImageError, match="not numbers"):
        pixels_to_uint8(np.array([["a"]]))


# --------------------------------------------------------------------------- arrays given to prediction

_U8 = (np.arange(16 * 24 * 3).reshape(16, 24, 3) * 7 % 256).astype(np.uint8)


@pytest.mark.parametrize(
    "array",
    [
        _U8.astype(np.float32) / 255.0,
        np.clip(_U8.astype(np.float32) / 255.0 + np.float32(0.004), 0, 1.004),  # overshoot by rounding
        _U8.astype(np.float64),  # 0..255 floats, once clamped to a white image
        _U8.astype(np.int64),  # 0..255 integers, once read as [0, 1] and clamped to white
    ],
    ids=["unit", "unit-overshoot", "float-0-255", "int64-0-255"],
)
def test_arrays_for_prediction_read_like_the_uint8_image(array: np.ndarray) -> None:
    expected = torch.from_numpy(_U8).permute(2, 0, 1)
    got = to_uint8_chw(array, 3)
    assert (got.int() - expected.int()).abs().max() <= 1
    got_t = to_uint8_chw(torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))), 3)
    assert torch.equal(got_t, got)


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (_U8.astype(np.float32) / 255.0 - 0.2, "fits neither"),
        (_U8.astype(np.float32) * 2.0, "fits neither"),
        (np.full((8, 8), np.nan, dtype=np.float32), "NaN or infinite"),
        (np.full((8, 8), -np.inf, dtype=np.float32), "NaN or infinite"),
        (np.full((8, 8), -1, dtype=np.int16), "integer pixel values"),
    ],
    ids=["negative", "above-255", "nan", "minus-inf", "negative-int"],
)
def test_bad_arrays_for_prediction_raise_image_error(array: np.ndarray, words: str) -> None:
    with pytest.raises(ImageError, match=words):
        to_uint8_chw(array, 3)
    chw = array.transpose(2, 0, 1) if array.ndim == 3 else array
    with pytest.raises(ImageError, match=words):
        to_uint8_chw(torch.from_numpy(np.ascontiguousarray(chw)), 1)


def test_predictor_reads_float_arrays_by_the_rule_and_says_so(one_torch_thread: None) -> None:
    cfg = idfy.load_preset("tiny").replace(num_classes=2)
    cfg = cfg.set("input.size", [32, 32])
    torch.manual_seed(0)
    predictor = Predictor.from_model(idfy.build_model(cfg).eval(), ["a", "b"])
    ref = predictor.predict(_U8, stage_views=False)
    for arr, note in ((_U8.astype(np.float32), "0..255"), (_U8.astype(np.float32) / 255, "[0, 1]")):
        p = predictor.predict(arr, stage_views=False)
        assert p.probs == pytest.approx(ref.probs, abs=1e-4)
        assert any(note in n for n in p.notes) and p.to_dict()["notes"] == p.notes
    with pytest.raises(ImageError, match="NaN"):
        predictor.predict(np.full((16, 16, 3), np.nan, dtype=np.float32))


def test_pil_images_follow_the_same_rules_as_files() -> None:
    from idfy.data.images import decode_pil

    turned = Image.new("RGB", (20, 10), (0, 0, 0))
    turned.paste((255, 255, 255), (0, 0, 5, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    turned.save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    opened = Image.open(io.BytesIO(buf.getvalue()))
    assert torch.equal(to_uint8_chw(opened, 3), decode_image(buf.getvalue()).image)  # turned like the file
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert to_uint8_chw(rgba, 3).unique().tolist() == [255]  # transparent is white, as for a file
    floats = Image.fromarray(_ramp(255.0))
    notes: list[str] = []
    assert int(to_uint8_chw(floats, 1, notes).max()) == 255 and notes == ["float pixels read as 0..255"]
    with pytest.raises(ImageError, match="fits neither"):
        decode_pil(Image.fromarray(_ramp(1.5)))


def test_rgba_arrays_are_composited_on_white_like_files() -> None:
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red; the rest fully transparent
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    notes: list[str] = []
    got = to_uint8_chw(rgba, 3, notes)
    assert torch.equal(got, decode_image(buf.getvalue()).image)  # once: transparent pixels came out black
    assert got[:, 1, 1].tolist() == [255, 255, 255] and "composited on white" in notes[-1]
    as_float = to_uint8_chw(rgba.astype(np.float32) / 255.0, 3)
    assert torch.equal(as_float, got)
