"""Boxes that mean what they say: EXIF orientation, declared sizes, COCO crowd regions (idfy.data.formats).

Expected boxes are measured from the pixels idfy trains on (where the red rectangle ends up after decoding
and resizing), never from the transform under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from idfy.data import decode_image, load_user_dataset
from idfy.data.orientation import orient_box

DATA = Path(__file__).resolve().parent / "data"
SW, SH = 60, 40  # stored (pre-EXIF) size
RECT = (4, 6, 20, 16)  # red rectangle in stored pixels, x2 / y2 exclusive (off-centre: every turn shows)
SIZE = 60
TOL = 2.5 / SIZE


def _jpeg(path: Path, orientation: int, size: tuple[int, int] = (SW, SH)) -> None:
    """A picture with the red rectangle in its stored pixels and an orientation tag (by the file suffix:
    JPEG / PNG / WebP carry an EXIF block, TIFF the tag in its own header)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGB", size, (128, 128, 128))
    im.paste((230, 20, 20), RECT)
    if path.suffix == ".tif":
        im.save(path, "TIFF", tiffinfo={0x0112: orientation})
        return
    exif = Image.Exif()
    exif[0x0112] = orientation
    kind = {".png": "PNG", ".webp": "WEBP"}.get(path.suffix, "JPEG")
    im.save(path, kind, exif=exif.tobytes(), **({"lossless": True} if kind == "WEBP" else {}))


def _red_box(image: torch.Tensor) -> torch.Tensor:
    """Normalized (x1, y1, x2, y2) of the red pixels of a uint8 (3, H, W) image."""
    img = image.int()
    red = (img[0] > 150) & (img[1] < 90) & (img[2] < 90)
    ys, xs = torch.nonzero(red, as_tuple=True)
    h, w = red.shape
    return torch.tensor([xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h]).float()


def _voc(root: Path, name: str, size: tuple[int, int], box: tuple[int, int, int, int]) -> None:
    """VOC xml for ``name`` declaring ``size`` (W, H); ``box`` in pixels, x2 / y2 exclusive."""
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    x1, y1, x2, y2 = box
    (root / "Annotations" / f"{Path(name).stem}.xml").write_text(
        f"<annotation><filename>{name}</filename><size><width>{size[0]}</width><height>{size[1]}</height>"
        f"</size><object><name>red</name><bndbox><xmin>{x1 + 1}</xmin><ymin>{y1 + 1}</ymin><xmax>{x2}</xmax>"
        f"<ymax>{y2}</ymax></bndbox></object></annotation>"
    )


def test_the_case_box_turns_with_the_image() -> None:
    ds = load_user_dataset(DATA / "exif-voc-box", size=SIZE)
    # the square sits at the stored top-left; shown turned 90° clockwise it is at the top-right
    assert ds.boxes[0].tolist() == pytest.approx([0.75, 0.0, 1.0, 10 / 60], abs=1e-4)
    assert torch.allclose(ds.boxes[0], _red_box(ds.images[0]), atol=TOL)
    assert any("turned with the image (EXIF orientation 6" in n for n in ds.notes)
    assert not any("scaled" in n for n in ds.notes)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_voc_box_on_the_stored_frame_follows_every_orientation(tmp_path: Path, orientation: int) -> None:
    _jpeg(tmp_path / "JPEGImages" / "a.jpg", orientation)
    _voc(tmp_path, "a.jpg", (SW, SH), RECT)
    ds = load_user_dataset(tmp_path, "voc", size=SIZE)
    assert len(ds) == 1 and not ds.skipped
    assert torch.allclose(ds.boxes[0], _red_box(ds.images[0]), atol=TOL)
    turned = any("turned with the image" in n for n in ds.notes)
    assert turned == (orientation != 1)


@pytest.mark.parametrize("suffix", [".tif", ".png", ".webp"])
@pytest.mark.parametrize("orientation", [3, 6])
def test_orientation_in_tiff_png_and_webp(tmp_path: Path, suffix: str, orientation: int) -> None:
    # Pillow turns TIFF pixels itself while decoding and drops the tag; the box must still turn
    _jpeg(tmp_path / "JPEGImages" / f"a{suffix}", orientation)
    _voc(tmp_path, f"a{suffix}", (SW, SH), RECT)
    ds = load_user_dataset(tmp_path, "voc", size=SIZE)
    assert len(ds) == 1, ds.skipped
    assert torch.allclose(ds.boxes[0], _red_box(ds.images[0]), atol=TOL)


@pytest.mark.parametrize("orientation", [2, 3, 5, 6, 7, 8])
def test_coco_box_on_the_stored_frame_follows_the_orientation(tmp_path: Path, orientation: int) -> None:
    _jpeg(tmp_path / "images" / "a.jpg", orientation)
    x1, y1, x2, y2 = RECT
    coco = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": SW, "height": SH}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [x1, y1, x2 - x1, y2 - y1]}],
        "categories": [{"id": 1, "name": "red"}],
    }
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    ds = load_user_dataset(tmp_path / "coco.json", size=SIZE)
    assert torch.allclose(ds.boxes[0], _red_box(ds.images[0]), atol=TOL)


def test_box_on_the_displayed_frame_is_kept(tmp_path: Path) -> None:
    _jpeg(tmp_path / "JPEGImages" / "a.jpg", 6)
    shown = decode_image(tmp_path / "JPEGImages" / "a.jpg").image  # (3, 60, 40): turned
    h, w = shown.shape[1:]
    b = _red_box(shown)
    box = (round(float(b[0]) * w), round(float(b[1]) * h), round(float(b[2]) * w), round(float(b[3]) * h))
    _voc(tmp_path, "a.jpg", (w, h), box)  # declared 40x60: the annotation was made on the turned image
    ds = load_user_dataset(tmp_path, "voc", size=SIZE)
    assert torch.allclose(ds.boxes[0], _red_box(ds.images[0]), atol=TOL)
    assert not any("turned" in n for n in ds.notes)


def test_declared_size_that_fits_neither_frame_skips_the_item(tmp_path: Path) -> None:
    _jpeg(tmp_path / "JPEGImages" / "a.jpg", 6)
    _jpeg(tmp_path / "JPEGImages" / "b.jpg", 1)
    _voc(tmp_path, "a.jpg", (120, 80), RECT)  # neither 60x40 (stored) nor 40x60 (shown)
    _voc(tmp_path, "b.jpg", (SW, SH), RECT)
    ds = load_user_dataset(tmp_path, "voc", size=SIZE)
    assert len(ds) == 1
    reason = dict(ds.skipped)["JPEGImages/a.jpg"]
    assert "declares the image 120x80" in reason and "40x60" in reason and "EXIF orientation 6" in reason


def test_yolo_and_csv_boxes_are_read_in_the_displayed_frame(tmp_path: Path) -> None:
    _jpeg(tmp_path / "yolo" / "images" / "a.jpg", 8)
    shown = decode_image(tmp_path / "yolo" / "images" / "a.jpg").image
    x1, y1, x2, y2 = _red_box(shown).tolist()
    (tmp_path / "yolo" / "labels").mkdir()
    (tmp_path / "yolo" / "labels" / "a.txt").write_text(
        f"0 {(x1 + x2) / 2:.5f} {(y1 + y2) / 2:.5f} {x2 - x1:.5f} {y2 - y1:.5f}\n"
    )
    (tmp_path / "yolo" / "classes.txt").write_text("red\n")
    ds = load_user_dataset(tmp_path / "yolo", size=SIZE)
    assert torch.allclose(ds.boxes[0], _red_box(ds.images[0]), atol=TOL)
    assert any("EXIF orientation 8; normalized box read in the displayed frame" in n for n in ds.notes)

    _jpeg(tmp_path / "csv" / "a.jpg", 8)
    h, w = shown.shape[1:]
    px = f"{x1 * w:.0f},{y1 * h:.0f},{x2 * w:.0f},{y2 * h:.0f}"
    (tmp_path / "csv" / "boxes.csv").write_text(f"path,x1,y1,x2,y2,label\na.jpg,{px},red\n")
    ds = load_user_dataset(tmp_path / "csv" / "boxes.csv", size=SIZE)
    assert torch.allclose(ds.boxes[0], _red_box(ds.images[0]), atol=TOL)
    assert any("no image size declared, box read in the displayed frame" in n for n in ds.notes)


def test_orient_box_round_trip() -> None:
    box = (0.1, 0.2, 0.4, 0.3)
    inverse = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
    for o, back in inverse.items():
        assert orient_box(orient_box(box, o), back) == pytest.approx(box)
    with pytest.raises(ValueError, match=r"1\.\.8"):
        orient_box(box, 9)


def test_box_clipped_to_the_image_is_reported(tmp_path: Path) -> None:
    _jpeg(tmp_path / "JPEGImages" / "a.jpg", 1)
    _voc(tmp_path, "a.jpg", (SW, SH), (4, 6, 75, 16))  # 15 pixels past the right edge
    ds = load_user_dataset(tmp_path, "voc", size=SIZE)
    assert ds.boxes[0, 2] == 1.0
    assert any("outside the image; clipped" in n for n in ds.notes)


# --------------------------------------------------------------------------- COCO crowd regions


def _coco_crowd(tmp_path: Path, anns: list[dict]) -> Path:
    for name in ("a.png", "b.png"):
        im = Image.new("RGB", (SW, SH), (128, 128, 128))
        im.paste((230, 20, 20), RECT)
        im.save(tmp_path / name)
    coco = {
        "images": [
            {"id": 1, "file_name": "a.png", "width": SW, "height": SH},
            {"id": 2, "file_name": "b.png", "width": SW, "height": SH},
        ],
        "annotations": anns,
        "categories": [{"id": 1, "name": "red"}, {"id": 2, "name": "people"}],
    }
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    return tmp_path / "coco.json"


def test_coco_crowd_regions_are_not_objects(tmp_path: Path) -> None:
    x1, y1, x2, y2 = RECT
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [x1, y1, x2 - x1, y2 - y1], "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [0, 0, 60, 40], "iscrowd": 1},  # larger, a crowd
        {"id": 3, "image_id": 2, "category_id": 2, "bbox": [0, 0, 30, 30], "iscrowd": 1},  # only a crowd
        {"id": 4, "image_id": 2, "category_id": 1, "bbox": [0, 0, 5, 5], "iscrowd": "1"},  # not 0 / 1
        {"id": 5, "image_id": 77, "category_id": 1, "bbox": [0, 0, 5, 5]},  # no such image
    ]
    ds = load_user_dataset(_coco_crowd(tmp_path, anns), size=SIZE)
    assert len(ds) == 1 and ds.classes[int(ds.labels[0])] == "red"
    assert torch.allclose(ds.boxes[0], _red_box(ds.images[0]), atol=TOL)  # not the crowd's whole image
    reasons = dict(ds.skipped)
    assert "only crowd regions (iscrowd=1)" in reasons["b.png"]
    assert "'iscrowd' must be 0 or 1" in reasons["annotation 4"]
    assert "not in 'images'" in reasons["image_id 77"]
    assert any("2 crowd regions (iscrowd=1) left out" in n for n in ds.notes)
    assert not any("had 2 objects" in n for n in ds.notes)  # the crowd never competed for "largest"


# --------------------------------------------------------------------------- unreadable files: one line each


def test_unreadable_files_are_one_line_reasons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a.png", "b.png"):
        Image.new("RGB", (SW, SH), (128, 128, 128)).save(tmp_path / name)
    (tmp_path / "boxes.csv").write_text("path,x1,y1,x2,y2,label\na.png,1,1,9,9,x\nb.png,1,1,9,9,x\n")
    real_open = Path.open

    def deny(self: Path, *args, **kwargs):  # root ignores file modes, so refuse by hand
        if self.name in ("b.png", "boxes.csv"):
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(ValueError) as info:
        load_user_dataset(tmp_path / "boxes.csv")
    assert str(info.value).endswith("boxes.csv: cannot be read (Permission denied)")

    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: real_open(tmp_path / "boxes.csv").read())
    ds = load_user_dataset(tmp_path / "boxes.csv", size=SIZE)
    assert len(ds) == 1 and dict(ds.skipped)["b.png"] == "b.png: the file cannot be read (Permission denied)"


def test_csv_with_normalized_coordinates_is_read_as_normalized(tmp_path: Path) -> None:
    im = Image.new("RGB", (SW, SH), (128, 128, 128))
    im.paste((230, 20, 20), RECT)
    im.save(tmp_path / "a.png")
    x1, y1, x2, y2 = RECT
    (tmp_path / "boxes.csv").write_text(
        f"path,x1,y1,x2,y2,label\na.png,{x1 / SW},{y1 / SH},{x2 / SW},{y2 / SH},red\n"
    )
    ds = load_user_dataset(tmp_path / "boxes.csv", size=SIZE)  # once a box inside the first pixel
    assert torch.allclose(ds.boxes[0], _red_box(ds.images[0]), atol=TOL)
    assert any("read as normalized coordinates" in n for n in ds.notes)
