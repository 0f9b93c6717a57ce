"""``python -m idfy eval RUN_OR_CKPT``: held-out metrics of a checkpoint, overall and per class.

The data's classes are matched to the checkpoint's by name (:mod:`idfy.data.classes`): another order is
remapped, other names are refused with both lists. What the loader skipped or changed is printed before the
metrics; every failure is one line (``error: ...``) and exit status 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from idfy.data import make_dataset
from idfy.data.classes import align_classes
from idfy.device import resolve_device
from idfy.model import build_model
from idfy.train.checkpoint import load_checkpoint, load_model_weights, model_config_of
from idfy.train.metrics import evaluate
from idfy.train.progress import format_metrics

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint",
        metavar="RUN_OR_CKPT",
        help="a run folder (its last.pt: the final weights; else best.pt) or a .pt file",
    )
    parser.add_argument(
        "--data", default=None, help="dataset (default: the one the checkpoint was trained on)"
    )
    parser.add_argument(
        "--data-dir", default=None, help="where the Fashion-MNIST files (or relative user data) are"
    )
    parser.add_argument(
        "--split", default="test", choices=["test", "train"], help="which split (default test)"
    )
    parser.add_argument("--n", type=int, default=None, help="number of images (default: the split's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of generated data")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", metavar="PATH", help="also write the metrics as JSON")


_SHOWN_SKIPS = 5


def _model_classes(ckpt: dict, num_classes: int) -> tuple[list[str], bool]:
    """The checkpoint's class names and whether it stored them (else placeholders ``class i``)."""
    names = ckpt.get("classes")
    if isinstance(names, (list, tuple)) and len(names) == num_classes:
        return [str(n) for n in names], True
    return [f"class {i}" for i in range(num_classes)], False


def _no_nan(value: Any) -> Any:
    """``value`` with NaN floats (classes without images) as None, so the file is strict JSON."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return None if isinstance(value, float) and value != value else value


def _json_folder(path: Path) -> None:
    """Create the folder of ``path``; ValueError in one line when that is impossible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(
            f"{path}: cannot write the metrics there ({e.strerror or type(e).__name__})"
        ) from None
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a file name for the metrics")


def _write_json(path: Path, record: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(_no_nan(record), indent=2), encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{path}: cannot write the metrics ({e.strerror or type(e).__name__})") from None


def run(args: argparse.Namespace) -> int:

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1; got {args.batch_size}")
    if args.n is not None and args.n < 1:
        raise ValueError(f"--n must be at least 1; got {args.n}")
    if args.json:
        _json_folder(Path(args.json))  # before the work, not after it
    device = resolve_device(args.device)
    ckpt = load_checkpoint(args.checkpoint, map_location="cpu")
    cfg = model_config_of(ckpt)
    stored = ckpt.get("train_config") or {}
    name = args.data or stored.get("data") or ckpt.get("data")
    if not name:
        raise ValueError("the checkpoint does not say which data it was trained on; give --data")
    data_dir = args.data_dir or stored.get("data_dir")
    ds = make_dataset(
        name, split=args.split, size=cfg.input.size[0], n=args.n, seed=args.seed, data_dir=data_dir
    )
    classes, named = _model_classes(ckpt, cfg.num_classes)
    ds = align_classes(ds, classes, model_named=named)  # ClassMismatchError names both lists
    model = build_model(cfg)
    load_model_weights(model, ckpt)  # CheckpointError (a ValueError) in one line when they do not fit
    model.to(device)
    channels = int(ckpt.get("data_channels") or cfg.input.channels)
    with torch.inference_mode():
        m = evaluate(
            model, ds, cfg.task, batch_size=args.batch_size, channels=channels, size=tuple(cfg.input.size)
        )
    for line in ds.report(_SHOWN_SKIPS):
        print(f"note: {line}")
    print(
        f"{ckpt['path']} (step {ckpt.get('step', '?')}) on {ds.name}: {m['n']} images | {format_metrics(m)}"
    )
    print(f"{'class':<16}{'n':>6}{'acc':>8}" + (f"{'IoU':>8}{'loc-acc':>9}" if "mean_iou" in m else ""))
    for cname, row in m["per_class"].items():
        if not row["n"]:
            print(f"{cname[:15]:<16}{0:>6}{'-':>8}" + (f"{'-':>8}{'-':>9}" if "iou" in row else ""))
            continue
        line = f"{cname[:15]:<16}{row['n']:>6}{100 * row['accuracy']:>7.1f}%"
        if "iou" in row:
            line += f"{row['iou']:>8.3f}{100 * row['loc_accuracy']:>8.1f}%"
        print(line)
    if args.json:
        record = {"checkpoint": ckpt["path"], "data": ds.name, **m, "notes": ds.notes, "skipped": ds.skipped}
        _write_json(Path(args.json), record)
    return 0
