"""User data: class folders, CSV, YOLO, Pascal VOC and COCO (idfy.data.formats)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from PIL import Image

from idfy.data import detect_format, load_user_dataset, make_dataset

W, H = 80, 40  # fixture image size (not square, so x and y scaling are both checked)
RED, BLUE, GRAY = (230, 20, 20), (20, 20, 230), (128, 128, 128)


def _image(path: Path, rects: list[tuple[tuple[int, int, int, int], tuple[int, int, int]]] = ()) -> None:
    """Gray W x H image with filled rectangles ``((x1, y1, x2, y2), colour)`` (x2, y2 exclusive)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGB", (W, H), GRAY)
    for box, colour in rects:
        im.paste(colour, box)
    im.save(path)


def _corrupt(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not really an image file\n" * 10)


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()}


def _colour_at_box_centre(images: torch.Tensor, boxes: torch.Tensor, i: int) -> list[int]:
    size = images.shape[-1]
    cx = int((boxes[i, 0] + boxes[i, 2]) / 2 * size)
    cy = int((boxes[i, 1] + boxes[i, 3]) / 2 * size)
    return images[i, :, cy, cx].tolist()


def _near(a: list[int], b: tuple[int, int, int], tol: int = 25) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b))


# ----------------------------------------------------------------------------- class folders


def test_class_folders(tmp_path: Path) -> None:
    for i in range(3):
        _image(tmp_path / "cat" / f"c{i}.png", [((0, 0, 10, 10), RED)])
        _image(tmp_path / "dog" / f"d{i}.jpg", [((0, 0, 10, 10), BLUE)])
    _corrupt(tmp_path / "dog" / "broken.png")
    (tmp_path / "dog" / "readme.txt").write_text("not an image")
    before = _snapshot(tmp_path)
    ds = load_user_dataset(tmp_path, split="all", size=32)
    assert _snapshot(tmp_path) == before  # user files are never modified
    assert ds.task == "classify" and ds.boxes is None and ds.classes == ["cat", "dog"]
    assert ds.images.shape == (6, 3, 32, 32) and ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    reasons = dict(ds.skipped)
    assert "not an image" in reasons["dog/broken.png"] and "extension" in reasons["dog/readme.txt"]
    assert detect_format(tmp_path)[0] == "folder"


def test_class_folders_with_train_test_dirs(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("test", 2)):
        for cls in ("a", "b"):
            for i in range(count):
                _image(tmp_path / split / cls / f"{cls}{i}.png")
    train = make_dataset(str(tmp_path), split="train", size=16)
    test = make_dataset(f"folder:{tmp_path}", split="test", size=16)
    assert len(train) == 6 and len(test) == 4 and train.classes == test.classes == ["a", "b"]


def test_hash_holdout_is_disjoint_and_complete(tmp_path: Path) -> None:
    for i in range(30):
        _image(tmp_path / ("x" if i % 2 else "y") / f"img{i}.png")
    all_ = load_user_dataset(tmp_path, split="all", size=8)
    train = load_user_dataset(tmp_path, split="train", size=8)
    test = load_user_dataset(tmp_path, split="test", size=8)
    assert len(train) + len(test) == len(all_) == 30 and len(test) > 0
    assert train.classes == test.classes
    assert any("held out" in n for n in test.notes)


def test_all_items_unusable_gives_a_clear_error(tmp_path: Path) -> None:
    _corrupt(tmp_path / "a" / "one.png")
    _corrupt(tmp_path / "a" / "two.png")
    with pytest.raises(ValueError, match=r"no usable images.*one\.png.*not an image"):
        load_user_dataset(tmp_path, split="all")


# ----------------------------------------------------------------------------- CSV


def test_csv(tmp_path: Path) -> None:
    _image(tmp_path / "img" / "a.png", [((10, 5, 30, 25), RED)])
    _image(tmp_path / "img" / "b.png", [((40, 10, 70, 30), BLUE), ((2, 2, 6, 6), RED)])
    _corrupt(tmp_path / "img" / "c.png")
    rows = [
        "path,x1,y1,x2,y2,label",
        "img/a.png,10,5,30,25,red",
        "img/b.png,40,10,70,30,blue",
        "img/b.png,2,2,6,6,red",  # second, smaller object of b.png
        "img/c.png,1,1,5,5,red",  # corrupt image
        "../../etc/passwd,0,0,1,1,red",  # path traversal
        "img/missing.png,0,0,1,1,red",
        "img/a.png,ten,5,30,25,red",  # bad number
    ]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    before = _snapshot(tmp_path)
    ds = make_dataset(str(tmp_path / "labels.csv"), split="all", size=64)
    assert _snapshot(tmp_path) == before
    assert ds.task == "localize" and ds.classes == ["blue", "red"] and len(ds) == 2
    assert torch.allclose(ds.boxes[0], torch.tensor([10 / W, 5 / H, 30 / W, 25 / H]))
    assert torch.allclose(ds.boxes[1], torch.tensor([40 / W, 10 / H, 70 / W, 30 / H]))
    assert ds.labels.tolist() == [1, 0]
    assert _near(_colour_at_box_centre(ds.images, ds.boxes, 0), RED)
    assert _near(_colour_at_box_centre(ds.images, ds.boxes, 1), BLUE)
    reasons = dict(ds.skipped)
    assert "outside" in reasons["../../etc/passwd"]
    assert "not found" in reasons["img/missing.png"]
    assert "not an image" in reasons["img/c.png"]
    assert "not numbers" in reasons["labels.csv line 8"]
    assert any("img/b.png had 2 objects; used the largest (blue)" in n for n in ds.notes)
    assert detect_format(tmp_path) == ("csv", tmp_path / "labels.csv")


def test_csv_bad_header(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("file,left,top\nimg.png,1,2\n")
    with pytest.raises(ValueError, match="missing"):
        make_dataset(f"csv:{tmp_path / 'x.csv'}", split="all")


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlink_out_of_the_root_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    _image(outside, [((0, 0, 5, 5), RED)])
    root = tmp_path / "data"
    _image(root / "ok.png", [((0, 0, 5, 5), RED)])
    (root / "link.png").symlink_to(outside)
    (root / "d.csv").write_text("path,x1,y1,x2,y2,label\nok.png,0,0,5,5,r\nlink.png,0,0,5,5,r\n")
    ds = make_dataset(str(root / "d.csv"), split="all", size=16)
    assert len(ds) == 1 and "outside" in dict(ds.skipped)["link.png"]


# ----------------------------------------------------------------------------- YOLO


def _yolo_tree(root: Path) -> None:
    _image(root / "images" / "a.png", [((20, 10, 60, 30), RED)])  # centre (40, 20), size 40 x 20
    _image(root / "images" / "b.png", [((0, 0, 20, 20), BLUE)])
    _image(root / "images" / "c.png")
    _corrupt(root / "images" / "d.png")
    (root / "labels").mkdir()
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "labels" / "b.txt").write_text("1 0.125 0.25 0.25 0.5\nthis is not a label\n7 0.5 0.5 0.1 0.1\n")
    (root / "labels" / "d.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    # c.png has no label file


def test_yolo_with_classes_txt(tmp_path: Path) -> None:
    _yolo_tree(tmp_path)
    (tmp_path / "classes.txt").write_text("red\nblue\n")
    ds = make_dataset(str(tmp_path), split="all", size=32)
    assert ds.classes == ["red", "blue"] and ds.labels.tolist() == [0, 1]
    assert torch.allclose(ds.boxes[0], torch.tensor([0.25, 0.25, 0.75, 0.75]))
    assert torch.allclose(ds.boxes[1], torch.tensor([0.0, 0.0, 0.25, 0.5]))
    assert _near(_colour_at_box_centre(ds.images, ds.boxes, 0), RED)
    reasons = dict(ds.skipped)
    assert "no label file" in reasons["images/c.png"]
    assert "not an image" in reasons["images/d.png"]
    assert "labels/b.txt line 2" in reasons and "class id 7" in reasons["labels/b.txt line 3"]
    assert detect_format(tmp_path)[0] == "yolo"


def test_yolo_names_from_data_yaml_and_split_dirs(tmp_path: Path) -> None:
    for split in ("train", "val"):
        _image(tmp_path / "images" / split / "a.png", [((20, 10, 60, 30), RED)])
        (tmp_path / "labels" / split).mkdir(parents=True)
        (tmp_path / "labels" / split / "a.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (tmp_path / "data.yaml").write_text("names:\n  0: cat\n  1: dog\n")
    train = make_dataset(f"yolo:{tmp_path}", split="train", size=16)
    test = make_dataset(f"yolo:{tmp_path / 'data.yaml'}", split="test", size=16)
    assert train.classes == ["cat", "dog"] and len(train) == 1 and len(test) == 1
    assert train.labels.tolist() == [1]


# ----------------------------------------------------------------------------- Pascal VOC


def _voc_xml(filename: str, objects: list[tuple[str, tuple[int, int, int, int]]]) -> str:
    objs = "".join(
        f"<object><name>{n}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
        for n, b in objects
    )
    return (
        f"<annotation><filename>{filename}</filename><size><width>{W}</width><height>{H}</height>"
        f"<depth>3</depth></size>{objs}</annotation>"
    )


def test_voc(tmp_path: Path) -> None:
    _image(tmp_path / "JPEGImages" / "a.png", [((10, 5, 30, 25), RED), ((50, 2, 78, 38), BLUE)])
    _image(tmp_path / "JPEGImages" / "b.png", [((0, 0, 8, 8), RED)])
    ann = tmp_path / "Annotations"
    ann.mkdir()
    # VOC pixel indices are 1-based and inclusive: pixels 10..29 are written as xmin=11, xmax=30.
    (ann / "a.xml").write_text(_voc_xml("a.png", [("red", (11, 6, 30, 25)), ("blue", (51, 3, 78, 38))]))
    (ann / "b.xml").write_text(_voc_xml("b.png", [("red", (1, 1, 8, 8))]))
    (ann / "c.xml").write_text("<annotation><filename>c.png</filename>")  # broken xml
    (ann / "d.xml").write_text(_voc_xml("../../../etc/passwd", [("red", (1, 1, 2, 2))]))
    ds = make_dataset(str(tmp_path), split="all", size=40)
    assert ds.classes == ["blue", "red"] and len(ds) == 2
    assert torch.allclose(ds.boxes[0], torch.tensor([50 / W, 2 / H, 78 / W, 38 / H]))  # the largest
    assert ds.labels.tolist() == [0, 1]
    assert torch.allclose(ds.boxes[1], torch.tensor([0, 0, 8 / W, 8 / H]))
    assert _near(_colour_at_box_centre(ds.images, ds.boxes, 0), BLUE)
    reasons = dict(ds.skipped)
    assert "XML" in reasons["Annotations/c.xml"] and "outside" in reasons["Annotations/d.xml"]
    assert any("had 2 objects; used the largest (blue)" in n for n in ds.notes)
    assert detect_format(tmp_path)[0] == "voc"


# ----------------------------------------------------------------------------- COCO


def test_coco(tmp_path: Path) -> None:
    _image(tmp_path / "images" / "a.png", [((10, 5, 30, 25), RED)])
    _image(tmp_path / "images" / "b.png", [((40, 10, 70, 30), BLUE), ((0, 0, 4, 4), RED)])
    _image(tmp_path / "images" / "c.png")
    _corrupt(tmp_path / "images" / "d.png")
    coco = {
        "images": [
            {"id": 1, "file_name": "a.png", "width": W, "height": H},
            {"id": 2, "file_name": "b.png", "width": W, "height": H},
            {"id": 3, "file_name": "c.png", "width": W, "height": H},
            {"id": 4, "file_name": "d.png", "width": W, "height": H},
        ],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 7, "bbox": [10, 5, 20, 20]},
            {"id": 11, "image_id": 2, "category_id": 9, "bbox": [40, 10, 30, 20]},
            {"id": 12, "image_id": 2, "category_id": 7, "bbox": [0, 0, 4, 4]},
            {"id": 13, "image_id": 4, "category_id": 7, "bbox": [0, 0, 4, 4]},
            {"id": 14, "image_id": 1, "category_id": 99, "bbox": [0, 0, 4, 4]},
            {"id": 15, "image_id": 3, "category_id": 7, "bbox": [0, 0, 0, 4]},
        ],
        "categories": [{"id": 7, "name": "red"}, {"id": 9, "name": "blue"}],
    }
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances.json").write_text(json.dumps(coco))
    ds = make_dataset(str(tmp_path), split="all", size=48)
    assert ds.classes == ["red", "blue"] and ds.labels.tolist() == [0, 1]
    assert torch.allclose(ds.boxes[0], torch.tensor([10 / W, 5 / H, 30 / W, 25 / H]))
    assert torch.allclose(ds.boxes[1], torch.tensor([40 / W, 10 / H, 70 / W, 30 / H]))
    assert _near(_colour_at_box_centre(ds.images, ds.boxes, 1), BLUE)
    reasons = dict(ds.skipped)
    assert "unknown category" in reasons["annotation 14"] and "empty" in reasons["annotation 15"]
    assert "no annotations" in reasons["c.png"] and "not an image" in reasons["d.png"]
    assert any("b.png had 2 objects" in n for n in ds.notes)
    assert detect_format(tmp_path)[0] == "coco"


def test_coco_rejects_other_json(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="COCO"):
        make_dataset(f"coco:{tmp_path / 'x.json'}", split="all")


def test_subset_n_and_channels(tmp_path: Path) -> None:
    for i in range(6):
        _image(tmp_path / "k" / f"{i}.png")
    ds = load_user_dataset(tmp_path, split="all", size=12, n=4, seed=1, channels=1)
    assert ds.images.shape == (4, 1, 12, 12)
    again = load_user_dataset(tmp_path, split="all", size=12, n=4, seed=1, channels=1)
    assert torch.equal(ds.images, again.images)


def test_unknown_layout(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("nothing here")
    with pytest.raises(ValueError, match="cannot tell"):
        detect_format(tmp_path)


@pytest.mark.parametrize(
    ("fmt", "box", "want"),
    [
        ("cxcywh", (0.3, 0.55, 0.2, 0.3), (0.3 - 0.2 / 2, 0.55 - 0.3 / 2, 0.3 + 0.2 / 2, 0.55 + 0.3 / 2)),
        ("xywh", (10.5, 20.25, 30.1, 40.7), (10.5, 20.25, 10.5 + 30.1, 20.25 + 40.7)),
    ],
)
def test_box_conversion_gives_the_numbers_python_floats_give(fmt: str, box: tuple, want: tuple) -> None:
    from idfy.data.formats.common import xyxy

    assert xyxy(box, fmt) == want  # exact: YOLO and COCO boxes are the same as before torchvision did it
