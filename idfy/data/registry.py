"""One entry point for every dataset: :func:`make_dataset` and :func:`list_datasets`."""

from __future__ import annotations

from pathlib import Path

from .base import ImageSet, convert_channels
from .fashion import make_fashion_canvas, make_fashion_mnist
from .formats import USER_FORMATS, load_user_dataset
from .shapes import make_shapes

__all__ = ["describe_datasets", "list_datasets", "make_dataset"]

_DESCRIPTIONS = {
    "shapes": "procedural shapes on textured backgrounds (distractor fragments on request), exact boxes, no download (3 channels)",
    "fashion-canvas": "a Fashion-MNIST item on a noisy canvas among fragments, exact boxes (1 channel)",
    "fashion-mnist": "plain Fashion-MNIST classification, official split (1 channel)",
}
_USER_HELP = (
    "or a path to your own data: a folder of class sub-folders, a .csv (path,x1,y1,x2,y2,label), "
    "a COCO .json, a folder of Pascal VOC .xml files or a YOLO folder (images/ + labels/), "
    "optionally prefixed with " + ", ".join(f"'{f}:'" for f in USER_FORMATS)
)


def list_datasets() -> list[str]:
    """Names of the built-in datasets (user data is given as a path, see :func:`make_dataset`)."""
    return list(_DESCRIPTIONS)


def describe_datasets() -> dict[str, str]:
    """``{name: one-line description}`` of the built-in datasets."""
    return dict(_DESCRIPTIONS)


def _user_target(name: str, data_dir: str | Path | None) -> tuple[str | None, Path] | None:
    """``(format or None, path)`` when ``name`` names user data, else None."""
    head, sep, rest = name.partition(":")
    if sep and head in USER_FORMATS:
        path = Path(rest).expanduser()
        if not path.exists() and data_dir is not None and (Path(data_dir) / rest).exists():
            path = Path(data_dir) / rest
        return head, path
    path = Path(name).expanduser()
    if not path.exists() and data_dir is not None:
        path = Path(data_dir).expanduser() / name
    return (None, path) if path.exists() else None


def make_dataset(
    name: str,
    *,
    split: str = "train",
    size: int = 64,
    n: int | None = None,
    seed: int = 0,
    data_dir: str | Path | None = None,
    channels: int | None = None,
) -> ImageSet:
    """Build the dataset ``name`` as an :class:`ImageSet` of uint8 ``(N, C, size, size)`` images.

    Args:
        name: one of :func:`list_datasets` or a path to user data (format auto-detected, or forced
            with a ``folder:`` / ``csv:`` / ``coco:`` / ``voc:`` / ``yolo:`` prefix).
        split: ``"train"`` or ``"test"`` (user data also accepts ``"all"``).
        size: image side in pixels (``fashion-mnist`` is resized from 28 when different).
        n: number of items (default: the dataset's own default, or every user item).
        seed: randomness of generated sets / subsets (the fashion-canvas test split ignores it).
        data_dir: where the Fashion-MNIST files are (or a base for a relative user-data path).
        channels: 1 or 3 to convert; None keeps the dataset's own.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or invalid arguments.
        FileNotFoundError: Fashion-MNIST files missing (the message says how to get them), or a
            prefixed user path that does not exist.
    """
    if channels is not None and channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels}")
    if n is not None and n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    key = str(name).strip()
    if key == "shapes":
        return _with_channels(make_shapes(split=split, size=size, n=n, seed=seed), channels)
    if key == "fashion-canvas":
        return make_fashion_canvas(
            split=split, size=size, n=n, seed=seed, data_dir=data_dir, channels=channels
        )
    if key == "fashion-mnist":
        return make_fashion_mnist(
            split=split, size=size, n=n, seed=seed, data_dir=data_dir, channels=channels
        )
    target = _user_target(key, data_dir) if key else None
    if target is None:
        valid = ", ".join(list_datasets())
        raise ValueError(f"unknown dataset {key!r}: valid names are {valid}, {_USER_HELP}")
    fmt, path = target
    return load_user_dataset(path, fmt, split=split, size=size, n=n, seed=seed, channels=channels)


def _with_channels(ds: ImageSet, channels: int | None) -> ImageSet:
    if channels is None or channels == ds.channels:
        return ds
    ds.images = convert_channels(ds.images, channels)
    return ds
