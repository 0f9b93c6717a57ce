"""Class folders: ``root/<class>/<image>``, optionally under ``train/`` and ``test/`` (or ``val/``)."""

from __future__ import annotations

from pathlib import Path

from .common import TEST_DIR_NAMES, Entry, Parsed, Skip, inside, is_image, rel_key, walk_files

__all__ = ["parse_folder"]


def _split_dirs(root: Path) -> dict[str, Path]:
    """``{"train": dir, "test": dir}`` when ``root`` holds split folders of class folders, else ``{}``."""
    train = root / "train"
    if not train.is_dir() or not any(p.is_dir() for p in train.iterdir()):
        return {}
    out = {"train": train}
    for name in TEST_DIR_NAMES:
        if (root / name).is_dir():
            out["test"] = root / name
            break
    return out


def parse_folder(root: Path) -> Parsed:
    """Class-folder layout ``root/<class>/*.jpg`` (optionally under ``train/`` and ``test/``)."""
    splits = _split_dirs(root)
    groups = list(splits.items()) if splits else [(None, root)]
    entries: list[Entry] = []
    skipped: list[tuple[str, str]] = []
    for split, base in groups:
        for class_dir in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for f in walk_files(class_dir, skipped):
                key = rel_key(root, f)
                if not is_image(f):
                    skipped.append((key, f"not an image file extension ({f.suffix or 'none'})"))
                    continue
                try:
                    path = inside(root, f)
                except Skip as exc:
                    skipped.append((key, str(exc)))
                    continue
                entries.append(Entry(key=key, path=path, label=class_dir.name, split=split))
    if not entries:
        raise ValueError(
            f"{root}: no images found in class sub-folders (expected {root}/<class name>/<image>, "
            "optionally under train/ and test/)"
        )
    classes = sorted({e.label for e in entries if e.label is not None})
    notes = [f"class folders: {len(classes)} classes" + (" with train/test folders" if splits else "")]
    return Parsed(entries=entries, classes=classes, task="classify", skipped=skipped, notes=notes)
