"""Render the example images of the Predict tab: a few ``shapes`` and ``fashion-canvas`` items.

    python assets/examples/make_examples.py            # writes assets/examples/*.png + examples.json

Each image is rendered at 128×128 by idfy's own dataset generators (fixed seeds, so the files are
reproducible); ``examples.json`` records each file's true box (normalized x1, y1, x2, y2) and label.
Every PNG stays under 50 KB.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
SIZE = 128
MAX_BYTES = 50 * 1024
SHAPE_PICKS = ("circle", "star", "triangle", "ring")
FASHION_PICKS = ("Sneaker", "Trouser", "Bag", "Dress")


def _save(img: torch.Tensor, path: Path) -> int:
    """uint8 (C, H, W) -> optimized PNG; returns its size in bytes."""
    arr = img.permute(1, 2, 0).numpy()
    pil = Image.fromarray(arr[:, :, 0], "L") if arr.shape[2] == 1 else Image.fromarray(arr, "RGB")
    pil.save(path, optimize=True)
    return path.stat().st_size


def _pick(labels: torch.Tensor, classes: list[str], wanted: tuple[str, ...]) -> list[int]:
    """The first item of each wanted class."""
    out = []
    for name in wanted:
        hits = (labels == classes.index(name)).nonzero().flatten()
        if len(hits):
            out.append(int(hits[0]))
    return out


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(HERE.parent.parent))  # run from a checkout without installing
    from idfy.data import make_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    sources = [("shapes", SHAPE_PICKS, "shapes"), ("fashion-canvas", FASHION_PICKS, "fashion")]
    for data, picks, prefix in sources:
        try:
            ds = make_dataset(data, split="test", size=SIZE, n=200, seed=7)
        except FileNotFoundError as e:  # Fashion-MNIST files missing: keep the shapes
            print(f"skipping {data}: {e}", file=sys.stderr)
            continue
        for i in _pick(ds.labels, ds.classes, picks):
            name = ds.classes[int(ds.labels[i])]
            slug = name.lower().replace("/", "-").replace(" ", "-")
            path = args.out / f"{prefix}_{slug}.png"
            nbytes = _save(ds.images[i], path)
            if nbytes > MAX_BYTES:
                raise SystemExit(f"{path.name} is {nbytes} bytes (> {MAX_BYTES}); lower SIZE")
            box = [round(float(v), 4) for v in ds.boxes[i]] if ds.boxes is not None else None
            records.append({"file": path.name, "dataset": data, "label": int(ds.labels[i]), "class_name": name,
                            "box": box, "bytes": nbytes})  # fmt: skip
            print(f"{path.name}: {name}, box {box}, {nbytes} bytes")
    (args.out / "examples.json").write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
