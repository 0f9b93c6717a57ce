"""YOLO: ``images/**`` with ``labels/**.txt`` of ``class cx cy w h`` lines (normalized), class names from
``classes.txt`` or ``data.yaml``."""

from __future__ import annotations

import math
from pathlib import Path

from idfy.config_io import load_yaml

from .common import (
    Entry,
    Obj,
    Parsed,
    Skip,
    inside,
    is_image,
    read_text,
    reason,
    rel_key,
    split_name,
    walk_files,
    xyxy,
)

__all__ = ["parse_yolo"]


def _yolo_names(root: Path, notes: list[str]) -> list[str] | None:
    """Class names from ``classes.txt`` (root or labels/) or ``data.yaml`` / ``dataset.yaml``."""
    for txt in (root / "classes.txt", root / "labels" / "classes.txt", root / "obj.names"):
        if txt.is_file():
            names = [line.strip() for line in read_text(txt).splitlines() if line.strip()]
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
        data = load_yaml(read_text(path))  # the config boundary's limits: size, depth, no aliases
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
        raise Skip(f"not numbers ({exc})") from exc
    if cls_f < 0 or cls_f != int(cls_f):
        raise Skip(f"class id {fields[0]} is not a non-negative integer")
    cls = int(cls_f)
    if names is not None and cls >= len(names):
        raise Skip(f"class id {cls} but only {len(names)} class names")
    if not all(math.isfinite(v) for v in vals):
        raise Skip("coordinates are not finite")
    if len(vals) == 4:
        box = xyxy(vals, "cxcywh")
    elif len(vals) >= 6 and len(vals) % 2 == 0:
        xs, ys = vals[0::2], vals[1::2]
        box = (min(xs), min(ys), max(xs), max(ys))
    else:
        raise Skip(f"expected 'class cx cy w h' (5 fields), found {len(fields)} fields")
    if min(vals) < -0.01 or max(vals) > 1.01:
        raise Skip("coordinates are not normalized to 0..1")
    return cls, box


def parse_yolo(root: Path) -> Parsed:
    """YOLO layout: ``images/**.jpg`` with ``labels/**.txt`` of ``cls cx cy w h`` lines."""
    notes: list[str] = []
    names = _yolo_names(root, notes)
    images_dir, labels_dir = root / "images", root / "labels"
    split_of = _yolo_split_dirs(images_dir)
    entries: list[Entry] = []
    skipped: list[tuple[str, str]] = []
    for f in walk_files(images_dir, skipped):
        key = rel_key(root, f)
        if not is_image(f):
            continue
        rel = f.relative_to(images_dir)
        label_file = (labels_dir / rel).with_suffix(".txt")
        try:
            path = inside(root, f)
            objects = _yolo_objects(label_file, root, names, skipped)
        except Skip as exc:
            skipped.append((key, str(exc)))
            continue
        entry = Entry(key=key, path=path, objects=objects, normalized=True, split=split_of.get(rel.parts[0]))
        entries.append(entry)
    if names is None:
        top = max((int(o.label) for e in entries for o in e.objects), default=-1)
        names = [str(i) for i in range(top + 1)]
        notes.append("no classes.txt or data.yaml: class names are the numeric ids")
    for e in entries:
        for o in e.objects:
            o.label = names[int(o.label)]
    return Parsed(entries=entries, classes=list(names), task="localize", skipped=skipped, notes=notes)


def _yolo_split_dirs(images_dir: Path) -> dict[str, str]:
    """``{"train": "train", "val": "test", ...}``: top folders of ``images/`` that name a split."""
    out = {}
    for p in images_dir.iterdir():
        if p.is_dir():
            split = split_name(p.name)
            if split:
                out[p.name] = split
    return out if "train" in out.values() else {}


def _yolo_objects(
    label_file: Path, root: Path, names: list[str] | None, skipped: list[tuple[str, str]]
) -> list[Obj]:
    """Objects of one YOLO label file (labels kept as id strings); bad lines go to ``skipped``."""
    if not label_file.is_file():
        raise Skip(f"no label file {rel_key(root, label_file)} (no objects)")
    inside(root, label_file)
    try:
        text = read_text(label_file)
    except (OSError, ValueError) as exc:
        raise Skip(f"{rel_key(root, label_file)} cannot be read ({reason(exc)})") from exc
    objects = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            cls, box = _yolo_line(fields, names)
        except Skip as exc:
            skipped.append((f"{rel_key(root, label_file)} line {lineno}", str(exc)))
            continue
        objects.append(Obj(str(cls), box))
    if not objects:
        raise Skip(f"{rel_key(root, label_file)} has no valid object lines")
    return objects
