"""User datasets: class folders, CSV, YOLO, Pascal VOC and COCO.

Every format is read into the same in-memory :class:`ImageSet`, one object per image (when an image
has several, the largest box is used and a note says so). Images are decoded with
:func:`decode_image` and resized to ``size x size`` (plain resize; boxes are normalized so they simply
stay valid). Problems with single items never stop the load: a corrupt image, a bad label line or a
path that leaves the dataset folder is *skipped* and recorded in ``ImageSet.skipped`` as
``(file name, reason)``; every item whose box was changed (turned with the image, clipped) gets a note in
``ImageSet.notes``. User files are only ever read.

Boxes and EXIF orientation (the image is always shown as its EXIF tag says, see :mod:`.orientation`):

* VOC and COCO declare the image size. When it is the size of the *stored* pixels, the box was drawn on
  them and is turned / mirrored with the image (all eight orientations); when it is the *displayed* size,
  the box is kept; when it is neither, the item is skipped with both sizes as the reason (scaling a box
  into another frame is never right). Orientations 2-4 and square images leave both sizes equal: the box
  is then read in the stored frame, where COCO's and VOC's tools draw it.
* YOLO's normalized boxes are read in the displayed frame, the frame the YOLO tools train on (they apply
  the EXIF orientation when reading the image); CSV pixel boxes and VOC / COCO without a size are read in
  the displayed frame too. A note names every such item whose image carried an orientation.

COCO crowd annotations (``iscrowd: 1``) mark a group of objects that COCO leaves out of training and
scoring; they are never used as the object, and an image with nothing else is skipped.

Splits: ``"all"`` is every usable item. ``"train"`` / ``"test"`` use the layout's own split when it
has one (``train/`` and ``test/``/``val/`` folders, YOLO ``images/train``, VOC ``ImageSets/Main``,
a CSV ``split`` column); otherwise a fixed 20% of the files, chosen by a hash of their path, is held
out as ``test`` (the same files on every run and machine).
"""

from __future__ import annotations

import csv
import json
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from idfy.config_io import load_yaml

from ..base import ImageSet, convert_channels, resize_images, stable_holdout
from ..images import IMAGE_EXTENSIONS, ImageError, decode_image
from ..orientation import orient_box, stored_size

__all__ = ["HOLDOUT_PERCENT", "USER_FORMATS", "detect_format", "load_user_dataset"]

USER_FORMATS = ("folder", "csv", "yolo", "voc", "coco")
SPLITS = ("train", "test", "all")
HOLDOUT_PERCENT = 20
_TEST_DIR_NAMES = ("test", "val", "valid", "validation")
_MAX_TEXT_BYTES = 512 * 2**20
_MAX_ITEM_NOTES = 20


class _Skip(Exception):
    """An item that cannot be used; the message is the reason recorded in ``skipped``."""


@dataclass
class _Obj:
    """One annotated object: class name and box ``(x1, y1, x2, y2)`` (pixels unless ``normalized``)."""

    label: str
    box: tuple[float, float, float, float]

    @property
    def area(self) -> float:
        return max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1])


@dataclass
class _Entry:
    """One image to load. ``label`` for class folders; ``objects`` for detection formats."""

    key: str
    path: Path
    label: str | None = None
    objects: list[_Obj] = field(default_factory=list)
    normalized: bool = False
    declared_size: tuple[float, float] | None = None  # (W, H) written in the annotation
    split: str | None = None  # the layout's own split ("train" / "test"), if any


@dataclass
class _Parsed:
    """What a format parser found: entries (all splits), class names, and what it skipped / noticed."""

    entries: list[_Entry]
    classes: list[str]
    task: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- paths


def _walk_files(directory: Path, skipped: list[tuple[str, str]]) -> list[Path]:
    """All non-hidden files below ``directory`` (symlinked folders are not entered), sorted; a folder that
    cannot be listed is recorded in ``skipped``."""
    found = []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename).name if exc.filename else str(directory)
        skipped.append((where, f"folder cannot be read ({exc.strerror or type(exc).__name__})"))

    for here, dirs, files in os.walk(directory, onerror=unreadable, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(here) / f for f in sorted(files) if not f.startswith(".")]
    return found


def _inside(root: Path, candidate: Path) -> Path:
    """Resolve ``candidate``; raise _Skip unless it is an existing file inside ``root`` (resolved)."""
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise _Skip("the path points outside the dataset folder; not followed")
    if not resolved.is_file():
        raise _Skip("image file not found")
    return resolved


def _resolve_rel(root: Path, rel: str, bases: Iterable[Path] = ()) -> Path:
    """Find the file named ``rel`` relative to ``root`` (or one of ``bases``), never outside ``root``."""
    rel = rel.strip()
    if not rel or "\x00" in rel:
        raise _Skip("empty or invalid path")
    first: _Skip | None = None
    for base in (root, *bases):
        try:
            return _inside(root, base / rel)
        except _Skip as exc:
            first = first or exc
    raise first if first else _Skip("image file not found")


def _rel_key(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _reason(exc: BaseException) -> str:
    """``exc`` as a short one-line reason (an OSError by its plain description)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split())[:120] or type(exc).__name__


def _read_text(path: Path) -> str:
    if path.stat().st_size > _MAX_TEXT_BYTES:
        raise ValueError(f"{path.name} is larger than {_MAX_TEXT_BYTES // 2**20} MB")
    return path.read_text(encoding="utf-8-sig", errors="replace")


def _sort_labels(labels: Iterable[str]) -> list[str]:
    """Unique labels, numerically sorted when all are integers, else alphabetically."""
    unique = set(labels)
    if unique and all(lab.lstrip("-").isdigit() for lab in unique):
        return sorted(unique, key=int)
    return sorted(unique)


# ----------------------------------------------------------------------------- class folders


def _split_dirs(root: Path) -> dict[str, Path]:
    """``{"train": dir, "test": dir}`` when ``root`` holds split folders of class folders, else ``{}``."""
    train = root / "train"
    if not train.is_dir() or not any(p.is_dir() for p in train.iterdir()):
        return {}
    out = {"train": train}
    for name in _TEST_DIR_NAMES:
        if (root / name).is_dir():
            out["test"] = root / name
            break
    return out


def _parse_folder(root: Path) -> _Parsed:
    """Class-folder layout ``root/<class>/*.jpg`` (optionally under ``train/`` and ``test/``)."""
    splits = _split_dirs(root)
    groups = list(splits.items()) if splits else [(None, root)]
    entries: list[_Entry] = []
    skipped: list[tuple[str, str]] = []
    for split, base in groups:
        for class_dir in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for f in _walk_files(class_dir, skipped):
                key = _rel_key(root, f)
                if not _is_image(f):
                    skipped.append((key, f"not an image file extension ({f.suffix or 'none'})"))
                    continue
                try:
                    path = _inside(root, f)
                except _Skip as exc:
                    skipped.append((key, str(exc)))
                    continue
                entries.append(_Entry(key=key, path=path, label=class_dir.name, split=split))
    if not entries:
        raise ValueError(
            f"{root}: no images found in class sub-folders (expected {root}/<class name>/<image>, "
            "optionally under train/ and test/)"
        )
    classes = sorted({e.label for e in entries if e.label is not None})
    notes = [f"class folders: {len(classes)} classes" + (" with train/test folders" if splits else "")]
    return _Parsed(entries=entries, classes=classes, task="classify", skipped=skipped, notes=notes)


# ----------------------------------------------------------------------------- CSV


_CSV_COLUMNS = ("path", "x1", "y1", "x2", "y2", "label")


def _parse_csv(csv_path: Path) -> _Parsed:
    """CSV with header ``path,x1,y1,x2,y2,label`` (pixel coordinates; paths relative to the CSV).

    An optional ``split`` column (train / test / val) gives the split. When every coordinate of the file
    lies in [0, 1] and some are fractions, they are read as normalized coordinates (with a note): as pixels
    they would all be boxes inside the first pixel."""
    root = csv_path.parent.resolve()
    reader = csv.reader(_read_text(csv_path).splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in _CSV_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"{csv_path.name}: the header must name the columns {','.join(_CSV_COLUMNS)}; "
            f"missing {', '.join(missing)} (found: {','.join(header) or 'nothing'})"
        )
    col = {name: header.index(name) for name in header}
    by_path: dict[str, _Entry] = {}
    skipped: list[tuple[str, str]] = []
    for lineno, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{csv_path.name} line {lineno}"
        try:
            rel, obj, split = _csv_row(row, col)
        except _Skip as exc:
            skipped.append((where, str(exc)))
            continue
        if rel not in by_path:
            try:
                by_path[rel] = _Entry(key=rel, path=_resolve_rel(root, rel), split=split)
            except _Skip as exc:
                skipped.append((rel, str(exc)))
                continue
        by_path[rel].objects.append(obj)
    entries = list(by_path.values())
    classes = _sort_labels(o.label for e in entries for o in e.objects)
    notes = []
    values = [v for e in entries for o in e.objects for v in o.box]
    if values and all(0.0 <= v <= 1.0 for v in values) and any(v != int(v) for v in values):
        for e in entries:
            e.normalized = True
        notes.append(
            f"{csv_path.name}: every coordinate lies in [0, 1] and some are fractions; read as normalized "
            "coordinates, not pixels"
        )
    return _Parsed(entries=entries, classes=classes, task="localize", skipped=skipped, notes=notes)


def _csv_row(row: list[str], col: dict[str, int]) -> tuple[str, _Obj, str | None]:
    """One CSV row -> (path, object, split); raise _Skip naming the problem."""
    if len(row) < len(col):
        raise _Skip(f"expected {len(col)} fields, found {len(row)}")
    rel = row[col["path"]].strip()
    label = row[col["label"]].strip()
    if not rel or not label:
        raise _Skip("empty path or label")
    try:
        x1, y1, x2, y2 = (float(row[col[c]]) for c in ("x1", "y1", "x2", "y2"))
    except ValueError as exc:
        raise _Skip(f"box coordinates are not numbers ({exc})") from exc
    box = (x1, y1, x2, y2)
    if not all(math.isfinite(v) for v in box):
        raise _Skip("box coordinates are not finite")
    split = None
    if "split" in col:
        split = _split_name(row[col["split"]])
    return rel, _Obj(label, box), split


def _split_name(value: str) -> str | None:
    v = value.strip().lower()
    if v == "train":
        return "train"
    if v in _TEST_DIR_NAMES:
        return "test"
    return None


# ----------------------------------------------------------------------------- YOLO


def _yolo_names(root: Path, notes: list[str]) -> list[str] | None:
    """Class names from ``classes.txt`` (root or labels/) or ``data.yaml`` / ``dataset.yaml``."""
    for txt in (root / "classes.txt", root / "labels" / "classes.txt", root / "obj.names"):
        if txt.is_file():
            names = [line.strip() for line in _read_text(txt).splitlines() if line.strip()]
            if names:
                return names
    for yml in (root / "data.yaml", root / "dataset.yaml", root / "data.yml"):
        if yml.is_file():
            names = _yaml_names(yml, notes)
            if names:
                return names
    return None


def _yaml_names(path: Path, notes: list[str]) -> list[str] | None:
    try:
        data = load_yaml(_read_text(path))  # the config boundary's limits: size, depth, no aliases
    except ValueError as exc:  # ConfigError is a ValueError
        problem = " ".join(str(exc).split())[:100]
        notes.append(f"{path.name} could not be read ({problem}); class names are the numeric ids")
        return None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        try:
            items = sorted((int(k), str(v)) for k, v in names.items())
        except (TypeError, ValueError):
            return None
        if [k for k, _ in items] != list(range(len(items))):
            notes.append(f"{path.name}: class ids in 'names' are not 0..{len(items) - 1}; ignored")
            return None
        return [v for _, v in items]
    if isinstance(names, list):
        return [str(v) for v in names]
    return None


def _yolo_line(fields: list[str], names: list[str] | None) -> tuple[int, tuple[float, float, float, float]]:
    """``cls cx cy w h`` (or ``cls x y x y ...`` polygon) -> (class id, normalized xyxy)."""
    try:
        cls_f = float(fields[0])
        vals = [float(v) for v in fields[1:]]
    except ValueError as exc:
        raise _Skip(f"not numbers ({exc})") from exc
    if cls_f < 0 or cls_f != int(cls_f):
        raise _Skip(f"class id {fields[0]} is not a non-negative integer")
    cls = int(cls_f)
    if names is not None and cls >= len(names):
        raise _Skip(f"class id {cls} but only {len(names)} class names")
    if not all(math.isfinite(v) for v in vals):
        raise _Skip("coordinates are not finite")
    if len(vals) == 4:
        cx, cy, w, h = vals
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    elif len(vals) >= 6 and len(vals) % 2 == 0:
        xs, ys = vals[0::2], vals[1::2]
        box = (min(xs), min(ys), max(xs), max(ys))
    else:
        raise _Skip(f"expected 'class cx cy w h' (5 fields), found {len(fields)} fields")
    if min(vals) < -0.01 or max(vals) > 1.01:
        raise _Skip("coordinates are not normalized to 0..1")
    return cls, box


def _parse_yolo(root: Path) -> _Parsed:
    """YOLO layout: ``images/**.jpg`` with ``labels/**.txt`` of ``cls cx cy w h`` lines."""
    notes: list[str] = []
    names = _yolo_names(root, notes)
    images_dir, labels_dir = root / "images", root / "labels"
    split_of = _yolo_split_dirs(images_dir)
    entries: list[_Entry] = []
    skipped: list[tuple[str, str]] = []
    for f in _walk_files(images_dir, skipped):
        key = _rel_key(root, f)
        if not _is_image(f):
            continue
        rel = f.relative_to(images_dir)
        label_file = (labels_dir / rel).with_suffix(".txt")
        try:
            path = _inside(root, f)
            objects = _yolo_objects(label_file, root, names, skipped)
        except _Skip as exc:
            skipped.append((key, str(exc)))
            continue
        entry = _Entry(key=key, path=path, objects=objects, normalized=True, split=split_of.get(rel.parts[0]))
        entries.append(entry)
    if names is None:
        top = max((int(o.label) for e in entries for o in e.objects), default=-1)
        names = [str(i) for i in range(top + 1)]
        notes.append("no classes.txt or data.yaml: class names are the numeric ids")
    for e in entries:
        for o in e.objects:
            o.label = names[int(o.label)]
    return _Parsed(entries=entries, classes=list(names), task="localize", skipped=skipped, notes=notes)


def _yolo_split_dirs(images_dir: Path) -> dict[str, str]:
    """``{"train": "train", "val": "test", ...}``: top folders of ``images/`` that name a split."""
    out = {}
    for p in images_dir.iterdir():
        if p.is_dir():
            split = _split_name(p.name)
            if split:
                out[p.name] = split
    return out if "train" in out.values() else {}


def _yolo_objects(
    label_file: Path, root: Path, names: list[str] | None, skipped: list[tuple[str, str]]
) -> list[_Obj]:
    """Objects of one YOLO label file (labels kept as id strings); bad lines go to ``skipped``."""
    if not label_file.is_file():
        raise _Skip(f"no label file {_rel_key(root, label_file)} (no objects)")
    _inside(root, label_file)
    try:
        text = _read_text(label_file)
    except (OSError, ValueError) as exc:
        raise _Skip(f"{_rel_key(root, label_file)} cannot be read ({_reason(exc)})") from exc
    objects = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            cls, box = _yolo_line(fields, names)
        except _Skip as exc:
            skipped.append((f"{_rel_key(root, label_file)} line {lineno}", str(exc)))
            continue
        objects.append(_Obj(str(cls), box))
    if not objects:
        raise _Skip(f"{_rel_key(root, label_file)} has no valid object lines")
    return objects


# ----------------------------------------------------------------------------- Pascal VOC


def _voc_split_lists(root: Path) -> dict[str, set[str]]:
    """Image ids per split from ``ImageSets/Main/{train,trainval,test,val}.txt``, if present."""
    main = root / "ImageSets" / "Main"
    out: dict[str, set[str]] = {}
    for split, files in (("train", ("train.txt", "trainval.txt")), ("test", ("test.txt", "val.txt"))):
        for name in files:
            if (main / name).is_file():
                out[split] = {ln.split()[0] for ln in _read_text(main / name).splitlines() if ln.strip()}
                break
    return out if "train" in out else {}


def _voc_number(node: ET.Element, tag: str) -> float:
    text = node.findtext(tag)
    if text is None:
        raise _Skip(f"missing <{tag}>")
    try:
        value = float(text)
    except ValueError as exc:
        raise _Skip(f"<{tag}> is not a number: {text.strip()!r}") from exc
    if not math.isfinite(value):
        raise _Skip(f"<{tag}> is not finite")
    return value


def _voc_image(root: Path, xml_path: Path, tree: ET.Element) -> Path:
    """The image an annotation refers to: ``<filename>`` next to the xml, in JPEGImages/, images/,
    or the root; else a file with the xml's stem."""
    bases = [xml_path.parent, root / "JPEGImages", root / "images"]
    filename = (tree.findtext("filename") or "").strip()
    if filename:
        try:
            return _resolve_rel(root, filename, bases)
        except _Skip as exc:
            if "outside" in str(exc):
                raise
    for base in bases:
        for ext in (".jpg", ".jpeg", ".png", ".bmp"):
            cand = base / (xml_path.stem + ext)
            if cand.exists():
                return _inside(root, cand)
    raise _Skip(f"image {filename or xml_path.stem!r} not found")


def _voc_entry(root: Path, xml_path: Path, skipped: list[tuple[str, str]]) -> _Entry:
    """Parse one VOC xml into an entry; bad objects are recorded and left out."""
    key = _rel_key(root, xml_path)
    try:
        tree = ET.fromstring(_read_text(xml_path))
    except (ET.ParseError, ValueError, OSError) as exc:
        raise _Skip(f"unreadable XML ({_reason(exc)})") from exc
    path = _voc_image(root, xml_path, tree)
    objects = []
    for i, node in enumerate(tree.iter("object"), start=1):
        try:
            name = (node.findtext("name") or "").strip()
            bb = node.find("bndbox")
            if not name or bb is None:
                raise _Skip("missing <name> or <bndbox>")
            xmin, ymin, xmax, ymax = (_voc_number(bb, t) for t in ("xmin", "ymin", "xmax", "ymax"))
        except _Skip as exc:
            skipped.append((f"{key} object {i}", str(exc)))
            continue
        # VOC pixel indices are 1-based and inclusive: the box covers [xmin - 1, xmax).
        objects.append(_Obj(name, (xmin - 1, ymin - 1, xmax, ymax)))
    if not objects:
        raise _Skip("no valid <object> in the annotation")
    size = tree.find("size")
    declared = None
    if size is not None:
        try:
            declared = (_voc_number(size, "width"), _voc_number(size, "height"))
        except _Skip:
            declared = None
        if declared and (declared[0] <= 0 or declared[1] <= 0):
            declared = None
    return _Entry(key=_rel_key(root, path), path=path, objects=objects, declared_size=declared)


def _parse_voc(root: Path) -> _Parsed:
    """Pascal VOC: one ``.xml`` per image (anywhere below ``root``, e.g. ``Annotations/``)."""
    lists = _voc_split_lists(root)
    entries: list[_Entry] = []
    skipped: list[tuple[str, str]] = []
    for xml_path in _walk_files(root, skipped):
        if xml_path.suffix.lower() != ".xml":
            continue
        try:
            entry = _voc_entry(root, xml_path, skipped)
        except _Skip as exc:
            skipped.append((_rel_key(root, xml_path), str(exc)))
            continue
        if lists:
            stem = xml_path.stem
            entry.split = (
                "train" if stem in lists["train"] else "test" if stem in lists.get("test", ()) else "none"
            )
        entries.append(entry)
    classes = _sort_labels(o.label for e in entries for o in e.objects)
    notes = ["VOC boxes read as 1-based inclusive pixel coordinates"]
    return _Parsed(entries=entries, classes=classes, task="localize", skipped=skipped, notes=notes)


# ----------------------------------------------------------------------------- COCO


def _coco_root(json_path: Path) -> Path:
    parent = json_path.parent.resolve()
    return parent.parent if parent.name == "annotations" else parent


def _coco_load(json_path: Path) -> dict:
    try:
        data = json.loads(_read_text(json_path))
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
        raise _Skip("'bbox' must be [x, y, width, height]")
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise _Skip("'bbox' values are not numbers") from exc
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise _Skip(f"'bbox' {bbox} is empty or not finite")
    return x, y, x + w, y + h


def _coco_crowd(ann: dict) -> bool:
    """COCO's ``iscrowd`` flag (absent = 0); anything but 0 / 1 is an error, not a guess."""
    flag = ann.get("iscrowd")
    if flag is None or (isinstance(flag, (int, float)) and flag in (0, 1)):
        return bool(flag)
    raise _Skip(f"'iscrowd' must be 0 or 1; got {flag!r}")


def _coco_annotations(data: dict, cats: dict[int, str], skipped: list[tuple[str, str]]) -> dict[object, list]:
    """Valid annotations grouped by image id: ``{image_id: [(crowd, _Obj), ...]}``."""
    by_image: dict[object, list] = {}
    for i, ann in enumerate(data["annotations"]):
        where = f"annotation {ann.get('id', i) if isinstance(ann, dict) else i}"
        try:
            if not isinstance(ann, dict):
                raise _Skip("not an object")
            if ann.get("category_id") not in cats:
                raise _Skip(f"unknown category_id {ann.get('category_id')!r}")
            crowd = _coco_crowd(ann)
            obj = _Obj(cats[ann["category_id"]], _coco_box(ann))
        except _Skip as exc:
            skipped.append((where, str(exc)))
            continue
        key = ann.get("image_id")
        if not isinstance(key, (int, str)):
            skipped.append((where, f"'image_id' {key!r} is not an id"))
            continue
        by_image.setdefault(key, []).append((crowd, obj))
    return by_image


def _parse_coco(json_path: Path) -> _Parsed:
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
            path = _resolve_rel(root, fname, bases)
        except _Skip as exc:
            skipped.append((fname, str(exc)))
            continue
        w, h = img.get("width"), img.get("height")
        declared = (
            (float(w), float(h)) if isinstance(w, (int, float)) and isinstance(h, (int, float)) else None
        )
        if declared and (declared[0] <= 0 or declared[1] <= 0):
            declared = None
        entries.append(_Entry(key=fname, path=path, objects=plain, declared_size=declared))
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
    return _Parsed(entries=entries, classes=classes, task="localize", skipped=skipped, notes=notes)


# ----------------------------------------------------------------------------- detection


def _single(paths: list[Path]) -> Path | None:
    return paths[0] if len(paths) == 1 else None


def detect_format(path: str | Path) -> tuple[str, Path]:
    """Guess the user-data format of ``path``; return ``(format, file or folder to read)``.

    Files: ``.csv`` -> csv, ``.json`` -> coco, ``data.yaml`` -> yolo (its folder). Folders: ``images/`` +
    ``labels/`` -> yolo; ``.xml`` files -> voc; exactly one ``.csv`` -> csv; exactly one ``.json``
    (also in ``annotations/``) -> coco; sub-folders of images -> folder.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if p.is_file():
        suffix = p.suffix.lower()
        if suffix == ".csv":
            return "csv", p
        if suffix == ".json":
            return "coco", p
        if suffix in (".yaml", ".yml"):
            return "yolo", p.parent
        raise ValueError(f"{p.name}: cannot tell the dataset format from a {suffix or 'extensionless'} file")
    if (p / "images").is_dir() and (p / "labels").is_dir():
        return "yolo", p
    if any(q.suffix.lower() == ".xml" for d in (p, p / "Annotations") if d.is_dir() for q in d.iterdir()):
        return "voc", p
    csv_file = _single(sorted(p.glob("*.csv")))
    if csv_file:
        return "csv", csv_file
    json_file = _single(sorted(p.glob("*.json"))) or (
        _single(sorted((p / "annotations").glob("*.json"))) if (p / "annotations").is_dir() else None
    )
    if json_file:
        return "coco", json_file
    if any(d.is_dir() and not d.name.startswith(".") for d in p.iterdir()):
        return "folder", p
    raise ValueError(
        f"{p}: cannot tell the dataset format. Expected class sub-folders of images, a .csv "
        "(path,x1,y1,x2,y2,label), a COCO .json, Pascal VOC .xml files, or YOLO images/ + labels/ folders"
    )


_PARSERS: dict[str, Callable[[Path], _Parsed]] = {
    "folder": _parse_folder,
    "csv": _parse_csv,
    "yolo": _parse_yolo,
    "voc": _parse_voc,
    "coco": _parse_coco,
}


def _check_target(fmt: str, target: Path) -> Path:
    """Validate that ``target`` has the right kind (file or folder) for ``fmt``; return it resolved."""
    target = target.expanduser()
    if not target.exists():
        raise FileNotFoundError(f"{fmt}: {target}: no such file or folder")
    wants_file = fmt in ("csv", "coco")
    if wants_file and target.is_dir():
        found = sorted(target.glob("*.csv" if fmt == "csv" else "*.json"))
        if len(found) != 1:
            raise ValueError(f"{fmt}: {target} is a folder; give the {fmt} file itself")
        target = found[0]
    if not wants_file and target.is_file():
        if fmt == "yolo" and target.suffix.lower() in (".yaml", ".yml"):
            return target.parent.resolve()
        raise ValueError(f"{fmt}: {target} is a file; give the dataset folder")
    if fmt == "yolo" and not (target / "images").is_dir():
        raise ValueError(f"yolo: {target} has no images/ folder (expected images/ and labels/)")
    return target.resolve()


# ----------------------------------------------------------------------------- loading


def _select_split(parsed: _Parsed, split: str) -> tuple[list[_Entry], str]:
    """Entries of ``split`` and a note saying how the split was made."""
    if split == "all":
        return parsed.entries, "all items"
    if any(e.split is not None for e in parsed.entries):
        how = "the dataset's own train/test split"
        neither = sum(e.split not in ("train", "test") for e in parsed.entries)
        if neither:
            how += f" ({neither} items are in neither and left out)"
        return [e for e in parsed.entries if e.split == split], how
    chosen = [e for e in parsed.entries if stable_holdout(e.key, HOLDOUT_PERCENT) == (split == "test")]
    return chosen, f"{HOLDOUT_PERCENT}% of the files held out as 'test' by a hash of their path"


def _pick_object(entry: _Entry, multi: list[str]) -> _Obj:
    """The largest object of ``entry``; several objects add a note."""
    best = max(entry.objects, key=lambda o: o.area)
    if len(entry.objects) > 1:
        multi.append(f"{entry.key} had {len(entry.objects)} objects; used the largest ({best.label})")
    return best


def _frame(
    entry: _Entry, width: int, height: int, orientation: int, notes: list[str]
) -> tuple[float, float, bool]:
    """``(W, H, turn)``: the frame ``entry``'s boxes are written in (the module docstring's rule; ``1 x 1``
    for normalized boxes) and whether they must be turned with the EXIF orientation. _Skip when the
    declared size fits neither the stored nor the displayed image."""
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
    raise _Skip(
        f"the annotation declares the image {dw}x{dh} but it is {width}x{height}{stored}; the boxes "
        "cannot be placed, correct the annotation's size"
    )


def _normalized_box(
    entry: _Entry, obj: _Obj, width: int, height: int, orientation: int, notes: list[str]
) -> tuple[float, ...]:
    """Box of ``obj`` normalized to the displayed ``width x height`` image and clipped to it.

    Boxes more than a pixel outside the image are clipped with a note; _Skip when nothing is left."""
    w, h, turn = _frame(entry, width, height, orientation, notes)
    x1, y1, x2, y2 = obj.box
    box = (x1 / w, y1 / h, x2 / w, y2 / h)
    if turn:
        box = orient_box(box, orientation)
    clipped = tuple(min(max(v, 0.0), 1.0) for v in box)
    if clipped[2] - clipped[0] <= 1e-6 or clipped[3] - clipped[1] <= 1e-6:
        raise _Skip(f"the box {obj.box} is empty or outside the image")
    if any(abs(a - b) * side > 1.0 for a, b, side in zip(box, clipped, (width, height, width, height))):
        notes.append(f"{entry.key}: the box {obj.box} reaches more than a pixel outside the image; clipped")
    return clipped


def _load_entries(
    entries: list[_Entry], parsed: _Parsed, size: int, channels: int
) -> tuple[list[torch.Tensor], list[int], list[tuple[float, ...]], list[tuple[str, str]], list[str]]:
    """Decode, resize and label every entry; failures become skips, every change a note."""
    index = {name: i for i, name in enumerate(parsed.classes)}
    images, labels, boxes = [], [], []
    skipped: list[tuple[str, str]] = []
    altered: list[str] = []
    multi: list[str] = []
    decoded_notes: dict[str, list[str]] = {}
    for e in entries:
        try:
            dec = decode_image(e.path, channels=channels)
            img = dec.image
            if parsed.task == "localize":
                obj = _pick_object(e, multi)
                box = _normalized_box(e, obj, img.shape[2], img.shape[1], dec.orientation, altered)
                label = obj.label
            else:
                box, label = (), e.label or ""
        except (ImageError, _Skip) as exc:
            skipped.append((e.key, str(exc)))
            continue
        for note in dec.notes:
            decoded_notes.setdefault(note, []).append(e.key)
        images.append(resize_images(img.unsqueeze(0), size))
        labels.append(index[label])
        boxes.append(box)
    notes = [
        f"{keys[0]}: {note}" if len(keys) == 1 else f"{len(keys)} images: {note} (first: {keys[0]})"
        for note, keys in decoded_notes.items()
    ]
    notes = _capped(notes, "more kinds of image conversion")
    notes += _capped(altered, "more boxes changed")
    notes += _capped(multi, "more images with several objects (largest used)")
    return images, labels, boxes, skipped, notes


def _capped(notes: list[str], what: str) -> list[str]:
    """The first ``_MAX_ITEM_NOTES`` of ``notes``, then one line counting the rest."""
    if len(notes) <= _MAX_ITEM_NOTES:
        return notes
    return [*notes[:_MAX_ITEM_NOTES], f"... and {len(notes) - _MAX_ITEM_NOTES} {what}"]


def _empty_error(name: str, split: str, n_entries: int, skipped: list[tuple[str, str]]) -> ValueError:
    reasons = "; ".join(f"{f}: {r}" for f, r in skipped[:5])
    why = f"{len(skipped)} items were skipped" + (f" (first: {reasons})" if reasons else "")
    hint = "" if split == "all" or n_entries else f"; split '{split}' is empty, try split='all'"
    return ValueError(f"{name}: no usable images for split '{split}'. {why}{hint}")


def load_user_dataset(
    source: str | Path,
    fmt: str | None = None,
    *,
    split: str = "all",
    size: int = 64,
    n: int | None = None,
    seed: int = 0,
    channels: int | None = None,
) -> ImageSet:
    """Read a user dataset into an :class:`ImageSet` of uint8 ``(N, C, size, size)`` images.

    Args:
        source: a folder or annotation file.
        fmt: one of :data:`USER_FORMATS`; None detects it (see :func:`detect_format`).
        split: ``"train"``, ``"test"`` or ``"all"`` (see the module docstring).
        size: output side in pixels (plain resize; boxes are normalized).
        n: load at most ``n`` items (a seeded random subset, in file order).
        seed: seeds the subset choice.
        channels: 1 or 3 (default 3).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)} for user data; got {split!r}")
    if size < 1:
        raise ValueError(f"size must be >= 1; got {size}")
    if fmt is not None and fmt not in _PARSERS:
        raise ValueError(f"unknown user-data format {fmt!r}; valid: {', '.join(USER_FORMATS)}")
    try:
        fmt, target = detect_format(source) if fmt is None else (fmt, Path(source))
        target = _check_target(fmt, target)
        parsed = _PARSERS[fmt](target)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and not exc.filename:
            raise  # idfy's own "no such file or folder", already one line
        raise ValueError(f"{exc.filename or source}: cannot be read ({_reason(exc)})") from None
    entries, how = _select_split(parsed, split)
    entries = sorted(entries, key=lambda e: e.key)
    name = f"{fmt}:{target}"
    notes = [*parsed.notes, f"split '{split}': {how}"]
    if n is not None and n < len(entries):
        if n < 1:
            raise ValueError(f"n must be >= 1; got {n}")
        keep = torch.randperm(len(entries), generator=torch.Generator().manual_seed(seed))[:n].sort().values
        entries = [entries[i] for i in keep.tolist()]
        notes.append(f"a random subset of {n} items (seed {seed})")
    images, labels, boxes, skipped, load_notes = _load_entries(entries, parsed, size, channels or 3)
    skipped = parsed.skipped + skipped
    if not images:
        raise _empty_error(name, split, len(entries), skipped)
    return ImageSet(
        images=convert_channels(torch.cat(images), channels),
        labels=torch.tensor(labels, dtype=torch.int64),
        boxes=torch.tensor(boxes, dtype=torch.float32) if parsed.task == "localize" else None,
        classes=list(parsed.classes),
        task=parsed.task,
        name=name if split == "all" else f"{name} [{split}]",
        skipped=skipped,
        notes=notes + load_notes,
    )
