"""One attempt for the time-to-accuracy log: a design / recipe change trained for a budget, one line of result.

The rows of ``benchmarks/results/time_to_accuracy_attempts.md`` from 24 on were measured with this script. On a
machine shared with other work, use ``--clock cpu --threads 1`` (the process's CPU time: one idle core's wall
time) and run the variants you compare at the same time, so they share the same load; on an idle machine
``--clock wall --threads 2`` is what a person pressing Start gets.

    python benchmarks/tta_attempt.py base --seed 1
    python benchmarks/tta_attempt.py no-flips --tc augment=false --seed 1
    python benchmarks/tta_attempt.py hires --set stages.0.stride=1 --set stages.0.width=16 --seed 1

Each run prints (and appends to ``--log``) one line: name, seed, changes, steps, final held-out localization
accuracy / class accuracy / mean IoU on the full test split, the last in-run points (seconds, loc. acc %) and
the 1-minute load before and after.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import yaml


def _values(pairs: list[str], what: str) -> list[tuple[str, Any]]:
    out = []
    for kv in pairs:
        key, sep, value = kv.partition("=")
        if not sep:
            raise SystemExit(f"{what} {kv!r}: give KEY=VALUE")
        out.append((key, yaml.safe_load(value)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("name", help="a short name for the log line")
    p.add_argument("--preset", default=None, help="design to start from (default: the demo's)")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="model option (repeatable)"
    )
    p.add_argument(
        "--tc", action="append", default=[], metavar="KEY=VALUE", help="TrainConfig field (repeatable)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=float, default=60.0, help="seconds of the clock from Start")
    p.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--log", type=Path, default=Path("tta_attempts.log"))
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from idfy.presets import load_preset
    from idfy.train import Done, Eval, TrainConfig, train
    from idfy.train.config import DEFAULT_PRESET

    cfg = load_preset(args.preset or DEFAULT_PRESET)
    for key, value in _values(args.set, "--set"):
        cfg = cfg.set(key, value)
    tc = TrainConfig(seed=args.seed, time_budget_s=args.budget, sample_every=0, checkpoint_every=0)
    tc = tc.replace(**dict(_values(args.tc, "--tc")))
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    load0 = os.getloadavg()[0]
    points: list[tuple[float, float]] = []
    for ev in train(cfg, tc, clock=clock):
        if isinstance(ev, Eval):
            points.append((round(ev.elapsed, 1), round(100 * ev.metrics["loc_accuracy"], 1)))
        elif isinstance(ev, Done):
            m = ev.metrics
            changes = " ".join(args.set + args.tc) or "-"
            line = (
                f"{args.name} | seed {args.seed} | {changes} | {args.clock} clock, {args.threads} threads, "
                f"{args.budget:g} s | steps {ev.step} | loc-acc {100 * m['loc_accuracy']:.2f} % | "
                f"acc {100 * m['accuracy']:.2f} % | IoU {m['mean_iou']:.3f} | points {points[-5:]} | "
                f"load {load0:.1f} -> {os.getloadavg()[0]:.1f}"
            )
            print(line, flush=True)
            with args.log.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
        elif type(ev).__name__ == "Failed":
            print(f"{args.name}: failed: {ev.message}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
