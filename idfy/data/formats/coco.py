"""COCO detection JSON: ``images``, ``annotations`` (``bbox`` = ``[x, y, w, h]``, ``iscrowd``) and
``categories``."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .common import Entry, Obj, Parsed, Skip, read_text, resolve_rel, xyxy

__all__ = ["parse_coco"]


def _coco_root(json_path: Path) -> Path:
    parent = json_path.parent.resolve()
    return parent.parent if parent.name == "annotations" else parent


def _coco_load(json_path: Path) -> dict:
    try:
        data = json.loads(read_text(json_path))
    except (json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"{json_path.name}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) for k in ("images", "annotations")
    ):
        raise ValueError(
            f"{json_path.name}: not COCO detection data (needs 'images' and 'annotations' lists)"
        )
    if not isinstance(data.get("categories"), list) or not data["categories"]:
        raise ValueError(f"{json_path.name}: a COCO file needs a non-empty 'categories' list")
    return data


def _coco_categories(data: dict, name: str) -> dict[int, str]:
    cats: dict[int, str] = {}
    for c in data["categories"]:
        if not isinstance(c, dict) or not isinstance(c.get("id"), int):
            raise ValueError(f"{name}: every category needs an integer 'id' and a 'name'")
        cats[c["id"]] = str(c.get("name", c["id"]))
    return cats


def _coco_box(ann: dict) -> tuple[float, float, float, float]:
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise Skip("'bbox' must be [x, y, width, height]")
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise Skip("'bbox' values are not numbers") from exc
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise Skip(f"'bbox' {bbox} is empty or not finite")
    return xyxy((x, y, w, h), "xywh")


def _coco_crowd(ann: dict) -> bool:
    """COCO's ``iscrowd`` flag (absent = 0); anything but 0 / 1 is an error, not a guess."""
    flag = ann.get("iscrowd")
    if flag is None or (isinstance(flag, (int, float)) and flag in (0, 1)):
        return bool(flag)
    raise Skip(f"'iscrowd' must be 0 or 1; got {flag!r}")


def _coco_annotations(data: dict, cats: dict[int, str], skipped: list[tuple[str, str]]) -> dict[object, list]:
    """Valid annotations grouped by image id: ``{image_id: [(crowd, Obj), ...]}``."""
    by_image: dict[object, list] = {}
    for i, ann in enumerate(data["annotations"]):
        where = f"annotation {ann.get('id', i) if isinstance(ann, dict) else i}"
        try:
            if not isinstance(ann, dict):
                raise Skip("not an object")
            if ann.get("category_id") not in cats:
                raise Skip(f"unknown category_id {ann.get('category_id')!r}")
            crowd = _coco_crowd(ann)
            obj = Obj(cats[ann["category_id"]], _coco_box(ann))
        except Skip as exc:
            skipped.append((where, str(exc)))
            continue
        key = ann.get("image_id")
        if not isinstance(key, (int, str)):
            skipped.append((where, f"'image_id' {key!r} is not an id"))
            continue
        by_image.setdefault(key, []).append((crowd, obj))
    return by_image


def parse_coco(json_path: Path) -> Parsed:
    """COCO detection json: ``images``, ``annotations`` (bbox ``[x, y, w, h]``), ``categories``."""
    root = _coco_root(json_path)
    data = _coco_load(json_path)
    cats = _coco_categories(data, json_path.name)
    skipped: list[tuple[str, str]] = []
    by_image = _coco_annotations(data, cats, skipped)
    stem_dir = json_path.stem.split("_")[-1]
    bases = [json_path.parent.resolve(), root / "images", root / stem_dir]
    entries = []
    crowds = 0
    seen: set[object] = set()
    for img in data["images"]:
        if not isinstance(img, dict) or not isinstance(img.get("file_name"), str):
            skipped.append((str(img)[:60], "image record without a 'file_name'"))
            continue
        fname = img["file_name"]
        image_id = img.get("id")
        seen.add(image_id if isinstance(image_id, (int, str)) else None)
        anns = by_image.get(image_id, []) if isinstance(image_id, (int, str)) else []
        plain = [o for crowd, o in anns if not crowd]
        crowds += len(anns) - len(plain)
        if not plain:
            why = "only crowd regions (iscrowd=1), which are not objects" if anns else "no annotations"
            skipped.append((fname, why))
            continue
        try:
            path = resolve_rel(root, fname, bases)
        except Skip as exc:
            skipped.append((fname, str(exc)))
            continue
        w, h = img.get("width"), img.get("height")
        declared = (
            (float(w), float(h)) if isinstance(w, (int, float)) and isinstance(h, (int, float)) else None
        )
        if declared and (declared[0] <= 0 or declared[1] <= 0):
            declared = None
        entries.append(Entry(key=fname, path=path, objects=plain, declared_size=declared))
    for image_id, anns in by_image.items():
        if image_id not in seen:
            skipped.append(
                (f"image_id {image_id!r}", f"{len(anns)} annotations for an image not in 'images'")
            )
    classes = [cats[k] for k in sorted(cats)]
    notes = []
    if crowds:
        notes.append(
            f"{crowds} crowd regions (iscrowd=1) left out: COCO marks groups of objects that way, not objects"
        )
    return Parsed(entries=entries, classes=classes, task="localize", skipped=skipped, notes=notes)
