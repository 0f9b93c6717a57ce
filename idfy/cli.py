"""``python -m idfy COMMAND ...`` — every command lives in ``idfy/commands/<name>.py`` and is imported on use.

Each command module defines ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from idfy.config import ConfigError

__all__ = ["COMMANDS", "main"]

#: command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "presets": ("idfy.commands.presets", "list the bundled presets with their parameter counts"),
    "summary": ("idfy.commands.summary", "per-stage table, totals, MACs/FLOPs of a preset or YAML config"),
    "compare": ("idfy.commands.compare", "side-by-side comparison of presets / configs with timm baselines"),
    "train": ("idfy.commands.train", "train a preset or config on a dataset (shapes, fashion-canvas, ...)"),
    "eval": ("idfy.commands.evaluate", "evaluate a checkpoint on a dataset's held-out split"),
    "predict": ("idfy.commands.predict", "predict the (x1, y1, x2, y2, label) tuple for images"),
    "export": ("idfy.commands.export", "export a checkpoint to ONNX (with a parity check) or safetensors"),
    "ablate": ("idfy.commands.ablate", "run an ablation of one option over several seeds"),
    "race": ("idfy.commands.race", "train 2-4 designs on the same data, seed and time budget, side by side"),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m idfy", description="idfy — explore the I'm Different From You CNN."
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code. User errors print one line to stderr and return 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") or args[0] not in COMMANDS:
        parser = _parser()
        if args and args[0] not in ("-h", "--help"):
            parser.print_usage(sys.stderr)
            print(f"error: unknown command {args[0]!r}; choose from {', '.join(COMMANDS)}", file=sys.stderr)
            return 2
        parser.print_help()
        return 0
    name = args[0]
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"python -m idfy {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    ns = parser.parse_args(args[1:])
    try:
        return int(module.run(ns) or 0)
    except (ConfigError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (
        BrokenPipeError
    ):  # the reader went away (`python -m idfy presets | head`): stop quietly, as Unix tools do
        os.dup2(
            os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno()
        )  # no second error when Python flushes stdout
        return 141
