"""Reading a user dataset into an :class:`ImageSet`: pick the split, decode and resize every image, place its
box (:mod:`.frames`), and record what was skipped or changed (see :mod:`idfy.data.formats` for the rules)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from ..base import ImageSet, convert_channels, resize_images, stable_holdout
from ..images import ImageError, decode_image
from .coco import parse_coco
from .common import Entry, Parsed, Skip, reason
from .csvfile import parse_csv
from .detect import check_target, detect_format
from .frames import normalized_box, pick_object
from .imagefolder import parse_folder
from .voc import parse_voc
from .yolo import parse_yolo

__all__ = ["HOLDOUT_PERCENT", "SPLITS", "USER_FORMATS", "detect_format", "load_user_dataset"]

USER_FORMATS = ("folder", "csv", "yolo", "voc", "coco")
SPLITS = ("train", "test", "all")
HOLDOUT_PERCENT = 20
_MAX_ITEM_NOTES = 20

_PARSERS: dict[str, Callable[[Path], Parsed]] = {
    "folder": parse_folder,
    "csv": parse_csv,
    "yolo": parse_yolo,
    "voc": parse_voc,
    "coco": parse_coco,
}


def _select_split(parsed: Parsed, split: str) -> tuple[list[Entry], str]:
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


def _load_entries(
    entries: list[Entry], parsed: Parsed, size: int, channels: int
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
                obj = pick_object(e, multi)
                box = normalized_box(e, obj, img.shape[2], img.shape[1], dec.orientation, altered)
                label = obj.label
            else:
                box, label = (), e.label or ""
        except (ImageError, Skip) as exc:
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
        split: ``"train"``, ``"test"`` or ``"all"`` (see :mod:`idfy.data.formats`).
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
        target = check_target(fmt, target)
        parsed = _PARSERS[fmt](target)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and not exc.filename:
            raise  # idfy's own "no such file or folder", already one line
        raise ValueError(f"{exc.filename or source}: cannot be read ({reason(exc)})") from None
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
