"""A CSV of boxes: ``path,x1,y1,x2,y2,label`` in pixels (or normalized), optional ``split`` column."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .common import Entry, Obj, Parsed, Skip, read_text, resolve_rel, sort_labels, split_name

__all__ = ["parse_csv"]


_CSV_COLUMNS = ("path", "x1", "y1", "x2", "y2", "label")


def parse_csv(csv_path: Path) -> Parsed:
    """CSV with header ``path,x1,y1,x2,y2,label`` (pixel coordinates; paths relative to the CSV).

    An optional ``split`` column (train / test / val) gives the split. When every coordinate of the file
    lies in [0, 1] and some are fractions, they are read as normalized coordinates (with a note): as pixels
    they would all be boxes inside the first pixel."""
    root = csv_path.parent.resolve()
    reader = csv.reader(read_text(csv_path).splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in _CSV_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"{csv_path.name}: the header must name the columns {','.join(_CSV_COLUMNS)}; "
            f"missing {', '.join(missing)} (found: {','.join(header) or 'nothing'})"
        )
    col = {name: header.index(name) for name in header}
    by_path: dict[str, Entry] = {}
    skipped: list[tuple[str, str]] = []
    for lineno, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{csv_path.name} line {lineno}"
        try:
            rel, obj, split = _csv_row(row, col)
        except Skip as exc:
            skipped.append((where, str(exc)))
            continue
        if rel not in by_path:
            try:
                by_path[rel] = Entry(key=rel, path=resolve_rel(root, rel), split=split)
            except Skip as exc:
                skipped.append((rel, str(exc)))
                continue
        by_path[rel].objects.append(obj)
    entries = list(by_path.values())
    classes = sort_labels(o.label for e in entries for o in e.objects)
    notes = []
    values = [v for e in entries for o in e.objects for v in o.box]
    if values and all(0.0 <= v <= 1.0 for v in values) and any(v != int(v) for v in values):
        for e in entries:
            e.normalized = True
        notes.append(
            f"{csv_path.name}: every coordinate lies in [0, 1] and some are fractions; read as normalized "
            "coordinates, not pixels"
        )
    return Parsed(entries=entries, classes=classes, task="localize", skipped=skipped, notes=notes)


def _csv_row(row: list[str], col: dict[str, int]) -> tuple[str, Obj, str | None]:
    """One CSV row -> (path, object, split); raise Skip naming the problem."""
    if len(row) < len(col):
        raise Skip(f"expected {len(col)} fields, found {len(row)}")
    rel = row[col["path"]].strip()
    label = row[col["label"]].strip()
    if not rel or not label:
        raise Skip("empty path or label")
    try:
        x1, y1, x2, y2 = (float(row[col[c]]) for c in ("x1", "y1", "x2", "y2"))
    except ValueError as exc:
        raise Skip(f"box coordinates are not numbers ({exc})") from exc
    box = (x1, y1, x2, y2)
    if not all(math.isfinite(v) for v in box):
        raise Skip("box coordinates are not finite")
    split = None
    if "split" in col:
        split = split_name(row[col["split"]])
    return rel, Obj(label, box), split
