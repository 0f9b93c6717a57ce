"""What every format reader shares: the parsed form (:class:`Entry`, :class:`Obj`, :class:`Parsed`), the
:class:`Skip` an unusable item raises, and path rules that never leave the dataset folder."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torchvision import ops

from ..images import IMAGE_EXTENSIONS

__all__ = [
    "MAX_TEXT_BYTES",
    "TEST_DIR_NAMES",
    "Entry",
    "Obj",
    "Parsed",
    "Skip",
    "inside",
    "is_image",
    "read_text",
    "reason",
    "rel_key",
    "resolve_rel",
    "sort_labels",
    "split_name",
    "walk_files",
    "xyxy",
]


TEST_DIR_NAMES = ("test", "val", "valid", "validation")

MAX_TEXT_BYTES = 512 * 2**20


class Skip(Exception):
    """An item that cannot be used; the message is the reason recorded in ``skipped``."""


@dataclass
class Obj:
    """One annotated object: class name and box ``(x1, y1, x2, y2)`` (pixels unless ``normalized``)."""

    label: str
    box: tuple[float, float, float, float]

    @property
    def area(self) -> float:
        return max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1])


@dataclass
class Entry:
    """One image to load. ``label`` for class folders; ``objects`` for detection formats."""

    key: str
    path: Path
    label: str | None = None
    objects: list[Obj] = field(default_factory=list)
    normalized: bool = False
    declared_size: tuple[float, float] | None = None  # (W, H) written in the annotation
    split: str | None = None  # the layout's own split ("train" / "test"), if any


@dataclass
class Parsed:
    """What a format parser found: entries (all splits), class names, and what it skipped / noticed."""

    entries: list[Entry]
    classes: list[str]
    task: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def walk_files(directory: Path, skipped: list[tuple[str, str]]) -> list[Path]:
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


def inside(root: Path, candidate: Path) -> Path:
    """Resolve ``candidate``; raise Skip unless it is an existing file inside ``root`` (resolved)."""
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise Skip("the path points outside the dataset folder; not followed")
    if not resolved.is_file():
        raise Skip("image file not found")
    return resolved


def resolve_rel(root: Path, rel: str, bases: Iterable[Path] = ()) -> Path:
    """Find the file named ``rel`` relative to ``root`` (or one of ``bases``), never outside ``root``."""
    rel = rel.strip()
    if not rel or "\x00" in rel:
        raise Skip("empty or invalid path")
    first: Skip | None = None
    for base in (root, *bases):
        try:
            return inside(root, base / rel)
        except Skip as exc:
            first = first or exc
    raise first if first else Skip("image file not found")


def rel_key(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def reason(exc: BaseException) -> str:
    """``exc`` as a short one-line reason (an OSError by its plain description)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split())[:120] or type(exc).__name__


def read_text(path: Path) -> str:
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_TEXT_BYTES // 2**20} MB")
    return path.read_text(encoding="utf-8-sig", errors="replace")


def sort_labels(labels: Iterable[str]) -> list[str]:
    """Unique labels, numerically sorted when all are integers, else alphabetically."""
    unique = set(labels)
    if unique and all(lab.lstrip("-").isdigit() for lab in unique):
        return sorted(unique, key=int)
    return sorted(unique)


def split_name(value: str) -> str | None:
    v = value.strip().lower()
    if v == "train":
        return "train"
    if v in TEST_DIR_NAMES:
        return "test"
    return None


def xyxy(box: Sequence[float], fmt: str) -> tuple[float, float, float, float]:
    """A box written as ``fmt`` (``xywh``: COCO's corner and size; ``cxcywh``: YOLO's centre and size) as
    ``(x1, y1, x2, y2)`` in the same unit, by ``torchvision.ops.box_convert`` in float64 (the numbers Python
    floats give)."""
    x1, y1, x2, y2 = ops.box_convert(torch.tensor(box, dtype=torch.float64), fmt, "xyxy").tolist()
    return x1, y1, x2, y2
