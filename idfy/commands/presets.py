"""``python -m idfy presets``: the bundled presets, their outputs and parameter counts."""

from __future__ import annotations

import argparse
import textwrap

from idfy.model import build_model
from idfy.presets import list_presets, load_preset


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yaml", metavar="NAME", help="print this preset's YAML instead of the table")


def run(args: argparse.Namespace) -> int:
    if args.yaml:
        print(load_preset(args.yaml).to_yaml(), end="")
        return 0
    print(f"{'preset':<14}{'input':>12}{'outputs':>9}{'params':>12}  description")
    for name in list_presets():
        cfg = load_preset(name)
        n = sum(p.numel() for p in build_model(cfg).parameters())
        size = "×".join(map(str, cfg.input.size))
        print(
            f"{name:<14}{size:>12}{cfg.num_outputs:>9}{n:>12,}  {textwrap.shorten(cfg.description, 70, placeholder=' …')}"
        )
    return 0
