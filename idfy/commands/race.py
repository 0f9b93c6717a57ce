"""``python -m idfy race A B ...``: train 2–4 designs on the same data, seed and time budget, in turns, and print a
live line per held-out evaluation and a final table (accuracy, IoU, training images/s — the speed the app's race
shows, :data:`idfy.train.race.SPEED_NOTE` — Δ against the first, chance).

Each design gets ``--time`` seconds of its own compute (:mod:`idfy.train.race`), so the race takes about that many
seconds per design. Ctrl-C ends every run cleanly (final evaluation, checkpoints kept); a second Ctrl-C aborts.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from idfy.commands.train import install_sigint
from idfy.presets import load_preset
from idfy.train.config import TrainConfig
from idfy.train.events import Done, Eval, Failed, Start
from idfy.train.progress import format_metrics
from idfy.train.race import (
    MAX_ENTRANTS,
    MIN_ENTRANTS,
    SPEED_NOTE,
    Entrant,
    Lap,
    RaceDone,
    RaceStart,
    race,
    unique_names,
)

__all__ = ["add_arguments", "format_table", "run"]

_REASONS = {"budget": "time budget reached", "max_steps": "step budget reached", "stopped": "stopped"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("designs", nargs="+", metavar="DESIGN",
                        help="2 to 4 preset names or YAML paths; the first is the reference for Δ")  # fmt: skip
    parser.add_argument(
        "--data", default=None, help="shapes, fashion-canvas, fashion-mnist or a path (default: train's)"
    )
    parser.add_argument("--data-dir", default=None, help="where the Fashion-MNIST files are")
    parser.add_argument("--size", type=int, default=None, help="input side in pixels (default: train's)")
    parser.add_argument("--time", type=float, default=None, dest="time_budget_s",
                        help="seconds of compute per design (default: train's budget)")  # fmt: skip
    parser.add_argument(
        "--max-steps", type=int, default=None, help="a step budget per design instead of --time"
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--n-train", type=int, default=None, help="training images (default: train's)")
    parser.add_argument("--n-test", type=int, default=None, help="held-out images (default: train's)")
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda, ...")
    parser.add_argument(
        "--out", default=None, help="folder for the runs and race.json (default runs/race-<time>)"
    )


_FLAGS = ("data", "data_dir", "size", "time_budget_s", "max_steps", "seed", "batch_size", "lr", "n_train", "n_test",
          "device")  # fmt: skip


def _train_config(args: argparse.Namespace) -> TrainConfig:

    changes = {k: getattr(args, k) for k in _FLAGS if getattr(args, k, None) is not None}
    if "max_steps" in changes and "time_budget_s" not in changes:
        changes["time_budget_s"] = None  # a step budget replaces the default time budget
    tc = TrainConfig().replace(**changes)
    tc.validate()
    return tc


def format_table(headers: list[str], rows: list[list[Any]]) -> str:
    """Plain aligned text: the first column left-aligned, the others right-aligned."""
    cells = [headers, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(headers))]
    lines = []
    for k, r in enumerate(cells):
        parts = [str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(r)]
        lines.append("  ".join(parts).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _say(stream: TextIO, text: str) -> None:
    print(text, file=stream, flush=True)


def run(args: argparse.Namespace, stream: TextIO | None = None) -> int:

    out_stream = stream or sys.stdout
    if not MIN_ENTRANTS <= len(args.designs) <= MAX_ENTRANTS:
        raise ValueError(f"give {MIN_ENTRANTS} to {MAX_ENTRANTS} designs to race (got {len(args.designs)})")
    tc = _train_config(args)
    configs = [load_preset(d) for d in args.designs]  # every design checked before any training
    names = unique_names(
        [c.name if d.endswith((".yaml", ".yml")) else d for d, c in zip(args.designs, configs)]
    )
    entrants = [Entrant(n, c) for n, c in zip(names, configs)]
    out = Path(args.out) if args.out else Path("runs") / f"race-{time.strftime('%Y%m%d-%H%M%S')}"
    stop = threading.Event()
    restore = install_sigint(stop)
    width = max(len(n) for n in names)
    code = 0
    try:
        for item in race(entrants, tc, out_dir=out, stop=stop):
            if isinstance(item, RaceStart):
                budget = f"{tc.time_budget_s:g} s" if tc.time_budget_s else f"{tc.max_steps} steps"
                wall = (
                    f"at least {len(names) * tc.time_budget_s:g} s of wall time in all, "
                    if tc.time_budget_s
                    else ""
                )
                _say(out_stream, f"race: {' vs '.join(names)} on {tc.data} at {tc.size} px, seed {tc.seed}, "
                     f"{budget} of compute each, in turns ({wall}{item.n_train} train / {item.n_test} held-out "
                     "images); times below are each design's own compute")  # fmt: skip
                c = item.chance
                shown = {
                    k: v for k, v in c.to_dict().items() if k != "n" and k != "num_classes" and v is not None
                }
                _say(out_stream, f"chance (constant answer): {format_metrics(shown)}")
            elif isinstance(item, Lap):
                ev = item.event
                if isinstance(ev, Start):
                    _say(out_stream, f"{item.name:<{width}}  {_as_trained(ev)}")
                elif isinstance(ev, Eval):
                    _say(out_stream, f"{ev.elapsed:6.1f} s  {item.name:<{width}}  step {ev.step:>6} | {format_metrics(ev.metrics)}")  # fmt: skip
                elif isinstance(ev, Failed):
                    code = 1
                    _say(out_stream, f"{item.name}: failed at step {ev.step}: {ev.message}")
                elif isinstance(ev, Done):
                    _say(out_stream, f"{item.name}: {_REASONS.get(ev.reason, ev.reason)} at step {ev.step}")  # fmt: skip
            elif isinstance(item, RaceDone):
                headers, rows = item.table()
                _say(out_stream, "")
                _say(out_stream, format_table(headers, rows))
                _say(out_stream, SPEED_NOTE)
                for s in item.standings:
                    if s.verdict is not None:
                        _say(out_stream, f"{s.name}: {s.verdict.text}")
                out.mkdir(parents=True, exist_ok=True)
                (out / "race.json").write_text(json.dumps(item.to_dict(), indent=2) + "\n", encoding="utf-8")
                _say(out_stream, f"runs and race.json in {out}")
    finally:
        restore()
    return code


def _as_trained(start: Start) -> str:
    """The design's parameter count as it trains, and why it can differ from ``idfy summary``'s: the engine fits
    the input channels and size and the class count to the data (:func:`idfy.train.config.adapt_config`)."""
    cfg = start.model_config
    h, w = cfg.input.size
    return (
        f"{start.num_params:,} params as trained (fitted to the data: {cfg.input.channels}×{h}×{w} input, "
        f"{cfg.num_classes} classes)"
    )
