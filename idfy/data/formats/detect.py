"""Which format a path holds (:func:`detect_format`), and whether it is the right kind of path for a format
named by the user (:func:`check_target`)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["check_target", "detect_format"]


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


def check_target(fmt: str, target: Path) -> Path:
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
