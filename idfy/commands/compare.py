"""``python -m idfy compare A B ...``: designs side by side (deltas against the first) with timm baselines."""

from __future__ import annotations

import argparse
import json

from idfy.analysis import compare
from idfy.commands.summary import _size
from idfy.presets import load_preset


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "configs", nargs="+", metavar="PRESET_OR_YAML", help="two or more presets / .yaml files"
    )
    parser.add_argument("--size", type=int, nargs="+", metavar="PX", help="input size for all: H or H W")
    parser.add_argument("--no-baselines", action="store_true", help="leave out the timm reference models")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")


def run(args: argparse.Namespace) -> int:
    cfgs = [load_preset(c) for c in args.configs]
    result = compare(cfgs, _size(args.size), baselines=not args.no_baselines)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.to_markdown())
    return 0
