"""``python -m idfy ablate --base small --vary KEY=V1,V2 --seeds 3 --data shapes --steps 300 --out DIR``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from idfy.presets import load_preset
from idfy.train import TrainConfig
from idfy.train.ablate import MACROS, AblationResult, RunFinished, RunStarted, run_ablation
from idfy.train.optim import OPTIMIZERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    shortcuts = "; ".join(f"{k}: {h}" for k, (_, h) in MACROS.items())
    parser.add_argument("--base", default="small", help="preset name or YAML path of the base design")
    parser.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="KEY=V1,V2",
        help=f"option and values (repeatable; one factor at a time). Dotted keys or shortcuts — {shortcuts}",
    )
    parser.add_argument("--seeds", type=int, default=3, help="runs per variant (default 3)")
    parser.add_argument(
        "--data", default="shapes", help="dataset (shapes, fashion-canvas, fashion-mnist, a path)"
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--size", type=int, default=64, help="input size in pixels (default 64)")
    parser.add_argument("--n-train", type=int, default=None)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--steps", type=int, default=None, help="optimizer steps per run (reproducible budget)"
    )
    budget.add_argument("--epochs", type=int, default=None)
    budget.add_argument("--time", type=float, default=None, help="seconds per run (not reproducible)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--optimizer", choices=list(OPTIMIZERS), default="adamw",
        help="default adamw: the recipe of every committed ablation (the engine's own default is muon)",
    )  # fmt: skip
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--out", default=None, help="folder for table.md, result.json, plot.png (and the run cache)"
    )
    parser.add_argument("--cache", default=None, help="run cache folder (default: OUT/cache)")


def run(args: argparse.Namespace) -> int:

    base = load_preset(args.base)
    steps = args.steps if (args.steps or args.epochs or args.time) else 300
    tc = TrainConfig(
        data=args.data,
        data_dir=args.data_dir,
        size=args.size,
        n_train=args.n_train,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        epochs=args.epochs,
        max_steps=steps,
        time_budget_s=args.time,
        device=args.device,
        eval_every=0,
        sample_every=0,
        checkpoint_every=0,
    )
    tc.validate()
    out = Path(args.out) if args.out else None
    cache = args.cache or (out / "cache" if out else None)
    result: AblationResult | None = None
    for ev in run_ablation(base, args.vary, seeds=args.seeds, train_config=tc, cache_dir=cache):
        if isinstance(ev, RunStarted):
            print(
                f"[{ev.index}/{ev.total}] {ev.variant} seed {ev.seed}" + (" (cached)" if ev.cached else ""),
                flush=True,
            )
        elif isinstance(ev, RunFinished) and not ev.cached:
            m = ", ".join(f"{k}={v:.3f}" for k, v in ev.metrics.items() if isinstance(v, float))
            print(f"    {m}  ({ev.seconds:.0f} s)", flush=True)
        elif isinstance(ev, AblationResult):
            result = ev
    if result is None:
        print("no result", file=sys.stderr)
        return 1
    table = result.to_markdown()
    print(table)
    for note in result.notes:
        print(f"note: {note}")
    if out:
        out.mkdir(parents=True, exist_ok=True)
        command = "python -m idfy ablate " + " ".join(
            sys.argv[2:] if sys.argv[1:2] == ["ablate"] else sys.argv[1:]
        )
        payload = {**result.to_dict(), "command": command}
        (out / "result.json").write_text(json.dumps(payload, indent=2, default=str))
        (out / "table.md").write_text(f"`{command}`\n\n{table}\n")
        write_plot(result, out / "plot.png")
        print(f"wrote {out}/table.md, result.json, plot.png")
    return 0


def write_plot(result: AblationResult, path: Path) -> None:
    """Bar chart of the metric per variant with ±std error bars and the seeds as dots."""
    import matplotlib  # heavy and only for plot.png; the Agg backend must be chosen before pyplot loads

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result.rows
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(rows) + 1), 3.6), dpi=110)
    xs = range(len(rows))
    colors = ["#4C72B0" if r.variant == "base" else ("#55A868" if r.significant else "#9aa5b1") for r in rows]
    ax.bar(xs, [r.mean * 100 for r in rows], yerr=[r.std * 100 for r in rows], color=colors, capsize=4)
    for i, r in enumerate(rows):
        ax.scatter([i] * len(r.values), [v * 100 for v in r.values], color="black", s=10, zorder=3)
    ax.set_xticks(list(xs), [r.variant for r in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"{result.metric} (%)")
    ax.set_title(
        f"base {result.base}: mean ± std over {len(result.seeds)} seeds (green: p < 0.05)", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
