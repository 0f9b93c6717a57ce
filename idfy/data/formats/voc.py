"""Pascal VOC: one ``.xml`` per image (1-based inclusive pixel boxes), splits from ``ImageSets/Main``."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from .common import (
    Entry,
    Obj,
    Parsed,
    Skip,
    inside,
    read_text,
    reason,
    rel_key,
    resolve_rel,
    sort_labels,
    walk_files,
)

__all__ = ["parse_voc"]


def _voc_split_lists(root: Path) -> dict[str, set[str]]:
    """Image ids per split from ``ImageSets/Main/{train,trainval,test,val}.txt``, if present."""
    main = root / "ImageSets" / "Main"
    out: dict[str, set[str]] = {}
    for split, files in (("train", ("train.txt", "trainval.txt")), ("test", ("test.txt", "val.txt"))):
        for name in files:
            if (main / name).is_file():
                out[split] = {ln.split()[0] for ln in read_text(main / name).splitlines() if ln.strip()}
                break
    return out if "train" in out else {}


def _voc_number(node: ET.Element, tag: str) -> float:
    text = node.findtext(tag)
    if text is None:
        raise Skip(f"missing <{tag}>")
    try:
        value = float(text)
    except ValueError as exc:
        raise Skip(f"<{tag}> is not a number: {text.strip()!r}") from exc
    if not math.isfinite(value):
        raise Skip(f"<{tag}> is not finite")
    return value


def _voc_image(root: Path, xml_path: Path, tree: ET.Element) -> Path:
    """The image an annotation refers to: ``<filename>`` next to the xml, in JPEGImages/, images/,
    or the root; else a file with the xml's stem."""
    bases = [xml_path.parent, root / "JPEGImages", root / "images"]
    filename = (tree.findtext("filename") or "").strip()
    if filename:
        try:
            return resolve_rel(root, filename, bases)
        except Skip as exc:
            if "outside" in str(exc):
                raise
    for base in bases:
        for ext in (".jpg", ".jpeg", ".png", ".bmp"):
            cand = base / (xml_path.stem + ext)
            if cand.exists():
                return inside(root, cand)
    raise Skip(f"image {filename or xml_path.stem!r} not found")


def _voc_entry(root: Path, xml_path: Path, skipped: list[tuple[str, str]]) -> Entry:
    """Parse one VOC xml into an entry; bad objects are recorded and left out."""
    key = rel_key(root, xml_path)
    try:
        tree = ET.fromstring(read_text(xml_path))
    except (ET.ParseError, ValueError, OSError) as exc:
        raise Skip(f"unreadable XML ({reason(exc)})") from exc
    path = _voc_image(root, xml_path, tree)
    objects = []
    for i, node in enumerate(tree.iter("object"), start=1):
        try:
            name = (node.findtext("name") or "").strip()
            bb = node.find("bndbox")
            if not name or bb is None:
                raise Skip("missing <name> or <bndbox>")
            xmin, ymin, xmax, ymax = (_voc_number(bb, t) for t in ("xmin", "ymin", "xmax", "ymax"))
        except Skip as exc:
            skipped.append((f"{key} object {i}", str(exc)))
            continue
        # VOC pixel indices are 1-based and inclusive: the box covers [xmin - 1, xmax).
        objects.append(Obj(name, (xmin - 1, ymin - 1, xmax, ymax)))
    if not objects:
        raise Skip("no valid <object> in the annotation")
    size = tree.find("size")
    declared = None
    if size is not None:
        try:
            declared = (_voc_number(size, "width"), _voc_number(size, "height"))
        except Skip:
            declared = None
        if declared and (declared[0] <= 0 or declared[1] <= 0):
            declared = None
    return Entry(key=rel_key(root, path), path=path, objects=objects, declared_size=declared)


def parse_voc(root: Path) -> Parsed:
    """Pascal VOC: one ``.xml`` per image (anywhere below ``root``, e.g. ``Annotations/``)."""
    lists = _voc_split_lists(root)
    entries: list[Entry] = []
    skipped: list[tuple[str, str]] = []
    for xml_path in walk_files(root, skipped):
        if xml_path.suffix.lower() != ".xml":
            continue
        try:
            entry = _voc_entry(root, xml_path, skipped)
        except Skip as exc:
            skipped.append((rel_key(root, xml_path), str(exc)))
            continue
        if lists:
            stem = xml_path.stem
            entry.split = (
                "train" if stem in lists["train"] else "test" if stem in lists.get("test", ()) else "none"
            )
        entries.append(entry)
    classes = sort_labels(o.label for e in entries for o in e.objects)
    notes = ["VOC boxes read as 1-based inclusive pixel coordinates"]
    return Parsed(entries=entries, classes=classes, task="localize", skipped=skipped, notes=notes)
