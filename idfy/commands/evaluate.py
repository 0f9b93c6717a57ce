"""``python -m idfy eval RUN_OR_CKPT``: held-out metrics of a checkpoint, overall and per class."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint", metavar="RUN_OR_CKPT", help="a run folder (best.pt, else last.pt) or a .pt file"
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


def run(args: argparse.Namespace) -> int:
    import torch

    from idfy.checkpoint import load_checkpoint, model_config_of
    from idfy.data import make_dataset
    from idfy.metrics import evaluate
    from idfy.model import build_model
    from idfy.progress import format_metrics
    from idfy.train_config import resolve_device

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
    if ds.num_classes != cfg.num_classes:
        raise ValueError(
            f"{name} has {ds.num_classes} classes but the model predicts {cfg.num_classes}; "
            "evaluate on the kind of data it was trained on"
        )
    model = build_model(cfg)
    model.load_state_dict(ckpt["model"])
    model.to(device)
    channels = int(ckpt.get("data_channels") or cfg.input.channels)
    with torch.inference_mode():
        m = evaluate(
            model, ds, cfg.task, batch_size=args.batch_size, channels=channels, size=tuple(cfg.input.size)
        )
    print(
        f"{ckpt['path']} (step {ckpt.get('step', '?')}) on {ds.name}: {m['n']} images | {format_metrics(m)}"
    )
    print(f"{'class':<16}{'n':>6}{'acc':>8}" + (f"{'IoU':>8}{'loc-acc':>9}" if "mean_iou" in m else ""))
    for cname, row in m["per_class"].items():
        line = f"{cname[:15]:<16}{row['n']:>6}{100 * row['accuracy']:>7.1f}%"
        if "iou" in row:
            line += f"{row['iou']:>8.3f}{100 * row['loc_accuracy']:>8.1f}%"
        print(line)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"checkpoint": ckpt["path"], "data": ds.name, **m}, indent=2))
    return 0
