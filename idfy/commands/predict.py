"""``python -m idfy predict IMAGE... --checkpoint RUN_OR_CKPT``: the (x1, y1, x2, y2, label) tuple per image,
in pixels and normalized, with the class name and score; an overlay PNG and a JSON per image.

An image that cannot be used gets one line ``IMAGE: error: ...`` and the others go on (exit status 1);
how an image was read (float scale assumed, EXIF rotation, ...) is printed as ``note:`` lines. Two inputs
with the same file name get ``name``, ``name-2``, ... so no output overwrites another.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    parser.add_argument("--checkpoint", "-c", required=True, metavar="RUN_OR_CKPT",
                        help="a run folder (its last.pt: the final weights; else best.pt) or a .pt file")  # fmt: skip
    parser.add_argument("--out", default="predictions", help="folder for <name>.overlay.png and <name>.json")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--top", type=int, default=3, help="also print the top-k class probabilities")


def _why(src: str, e: Exception) -> str:
    """The one-line reason of ``e`` without a repeated file name."""
    text = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, OSError) and not isinstance(e, ValueError):
        text = e.strerror or type(e).__name__
    return text.removeprefix(f"{Path(src).name}: ")


def _stem(src: str, used: set[str]) -> str:
    """``src``'s file stem, made unique among the outputs already written."""
    stem = base = Path(src).stem or "image"
    k = 1
    while stem in used:
        k += 1
        stem = f"{base}-{k}"
    used.add(stem)
    return stem


def _out_folder(out: Path) -> bool:
    """Make ``out`` before any work (an unwritable ``--out`` is one line); whether it existed before."""
    existed = out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(
            f"{out}: cannot write the predictions there ({e.strerror or type(e).__name__})"
        ) from None
    return existed


def _print_prediction(src: str, p: Any, notes: list[str], unlike: str | None, top_k: int) -> None:
    """The lines for one image: class and score, notes, the unlike-the-data warning, the box tuple in pixels
    and normalized, the top-k probabilities."""
    h, w = p.image_size
    print(f"{src} ({w}×{h}): {p.class_name} (label {p.label}, score {p.score:.3f})")
    for note in notes:
        print(f"  note: {note}")
    if unlike:
        print(f"  warning: {unlike}")
    if p.box is not None:
        px = ", ".join(f"{v:.1f}" for v in p.box_pixels or ())
        nm = ", ".join(f"{v:.4f}" for v in p.box)
        print(f"  pixels     (x1, y1, x2, y2, label) = ({px}, {p.label})")
        print(f"  normalized (x1, y1, x2, y2, label) = ({nm}, {p.label})")
    top = sorted(p.probs.items(), key=lambda kv: -kv[1])[: max(0, top_k)]
    if top:
        print("  top: " + ", ".join(f"{k} {v:.3f}" for k, v in top))


def run(args: argparse.Namespace) -> int:
    # imported on use: torch and the model stay out of `python -m idfy --help`
    from idfy.data import ImageError, decode_image
    from idfy.predict import Predictor, draw_overlay
    from idfy.provenance import at_chance, foreign_image
    from idfy.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(args.checkpoint, map_location="cpu")
    predictor = Predictor.from_loaded(ckpt, device=args.device)
    dataset, size = ckpt.get("data"), int(predictor.cfg.input.size[0])
    guessing = at_chance(ckpt.get("metrics"), dataset, size)  # the same warnings as the app's Predict tab
    if guessing:
        print(f"warning: {guessing}")
    out = Path(args.out)
    existed = _out_folder(out)
    failures = written = 0
    used: set[str] = set()
    for src in args.images:
        try:
            decoded = decode_image(
                src, channels=3
            )  # decoded once, as the app does: predicted, checked, drawn
        except (ImageError, OSError) as e:
            print(f"{src}: error: {_why(src, e)}")
            failures += 1
            continue
        image, notes = decoded.image, list(decoded.notes)
        p = predictor.predict(image, stage_views=False)
        unlike = foreign_image(image, dataset, size) if dataset else None
        _print_prediction(src, p, notes, unlike, args.top)
        stem = _stem(src, used)
        record = {"image": str(src), "checkpoint": args.checkpoint, **p.to_dict(), "notes": notes}
        try:
            draw_overlay(image, p).save(out / f"{stem}.overlay.png")
            (out / f"{stem}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
            written += 1
        except OSError as e:
            print(f"{src}: error: cannot write its overlay or JSON in {out} ({_why(src, e)})")
            failures += 1
    if written:
        print(f"overlays and JSON of {written} image(s) in {out}/")
    else:
        print("nothing written: no image could be predicted")
        if not existed:
            with contextlib.suppress(OSError):
                out.rmdir()  # the folder made for this run stays only when it holds something
    return 1 if failures else 0
