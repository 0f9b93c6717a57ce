"""What a short training demo buys: every preset on ``shapes`` and ``fashion-canvas`` at 64×64 and 96×96
within a time budget, and the engine's throughput against a bare PyTorch loop on the same model.

For each (preset, dataset, size) row: the model is adapted to the data (task, classes, channels, size), trained
by :func:`idfy.train.train` for ``--budget`` seconds (wall time, on the default CPU/GPU), then evaluated on the
held-out split: steps, images/s (median over the run's progress events), classification accuracy, mean IoU and
localization accuracy (IoU ≥ 0.5 and the right label).

Overhead: the same adapted model, optimizer, loss and on-device batches, trained by a bare loop
(forward, loss, backward, clip, step; one sync at the end) and by the engine (events every 10 steps, no
evaluation), alternating ``--repeats`` times; the goal is ≤ 10 % fewer images/s for the engine.

Usage::

    .venv/bin/python benchmarks/train_demo.py                       # full matrix, 90 s per row (> 30 min on CPU)
    .venv/bin/python benchmarks/train_demo.py --presets small --data fashion-canvas --sizes 64
    .venv/bin/python benchmarks/train_demo.py --quick               # smoke run: seconds per row, no files

Writes ``benchmarks/results/train_demo.{json,md,png}`` (not with ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

PRESETS = ["tiny", "small", "full", "seed_model1", "seed_model2"]
DATASETS = ["shapes", "fashion-canvas"]
SIZES = [64, 96]
OVERHEAD_GOAL = 0.10


def machine() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        import torchvision

        info["torchvision"] = torchvision.__version__
    except ImportError:
        pass
    return info


def load() -> float:
    """1-minute load average (other processes on the machine slow every number here)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


def make_data(name: str, size: int, quick: bool) -> tuple[Any, Any]:
    from idfy.data import make_dataset

    n_train, n_test = (512, 128) if quick else (None, None)
    return (
        make_dataset(name, split="train", size=size, n=n_train, seed=0),
        make_dataset(name, split="test", size=size, n=n_test, seed=0),
    )


def train_row(preset: str, data_name: str, size: int, data: tuple[Any, Any], budget: float) -> dict[str, Any]:
    """Train one preset for ``budget`` seconds; the row of the results table."""
    from idfy.presets import load_preset
    from idfy.train import TrainConfig, train
    from idfy.train.events import Done, Failed, Start, Step

    tc = TrainConfig(
        data=data_name,
        size=size,
        time_budget_s=budget,
        eval_every=0,
        eval_points=0,  # one held-out evaluation, at the end
        sample_every=0,
        checkpoint_every=0,
        log_every=20,
    )
    row: dict[str, Any] = {"preset": preset, "data": data_name, "size": size, "budget_s": budget}
    row["load_before"] = load()
    speeds: list[float] = []
    t0 = time.perf_counter()
    for ev in train(load_preset(preset), tc, data=data):
        if isinstance(ev, Start):
            row["params"] = ev.num_params
            row["device"] = ev.device
            row["n_train"], row["n_test"] = ev.n_train, ev.n_test
        elif isinstance(ev, Step):
            speeds.append(ev.images_per_s)
        elif isinstance(ev, Done):
            m = ev.metrics
            row.update(
                steps=ev.step,
                epochs=round(ev.step / max(1, row["n_train"] // tc.batch_size), 2),
                train_s=round(ev.elapsed, 1),
                accuracy=m.get("accuracy"),
                mean_iou=m.get("mean_iou"),
                loc_accuracy=m.get("loc_accuracy"),
            )
        elif isinstance(ev, Failed):
            row["error"] = ev.message
    row["images_per_s"] = round(statistics.median(speeds[1:] or speeds), 1) if speeds else None
    row["wall_s"] = round(time.perf_counter() - t0, 1)
    row["load_after"] = load()
    return row


WINDOW = 10  # steps per timing window: the engine's progress-event interval in the comparison


def bare_loop(cfg: Any, feed_channels: int, data: Any, tc: Any, warm: int, steps: int) -> list[float]:
    """images/s of each ``WINDOW``-step window of a plain loop: same model (channels_last), optimizer, loss,
    clipping and batches as the engine, one host sync (``loss.item()``) per window like the engine's progress event."""
    import torch

    from idfy.data import iterate_batches
    from idfy.model import build_model
    from idfy.train.losses import compute_loss
    from idfy.train.optim import build_optimizer

    torch.manual_seed(tc.seed)
    model = build_model(cfg).to(memory_format=torch.channels_last)  # as the engine does (tc.channels_last)
    opt = build_optimizer(model, tc.optimizer, tc.lr, tc.weight_decay, tc.momentum)
    gen = torch.Generator().manual_seed(tc.seed)
    size = tuple(cfg.input.size)

    def batches() -> Any:
        while True:
            yield from iterate_batches(data, tc.batch_size, shuffle=True, generator=gen, drop_last=True,
                                       augment=tc.augment, channels=feed_channels, size=size)  # fmt: skip

    it = batches()
    model.train()
    rates: list[float] = []
    t0 = time.perf_counter()
    for i in range(1, warm + steps + 1):
        x, y, b = next(it)
        x = x.contiguous(memory_format=torch.channels_last)
        loss = compute_loss(model(x).float(), y, b, cfg.task, tc.loss_weights).total
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        opt.step()
        if i % WINDOW == 0:
            loss.item()
            now = time.perf_counter()
            if i > warm:
                rates.append(WINDOW * tc.batch_size / (now - t0))
            t0 = now
    return rates


def engine_loop(
    preset: str, data: tuple[Any, Any], tc: Any, warm: int, steps: int
) -> tuple[list[float], Any, int]:
    """images/s of each window of :func:`idfy.train.train` (its progress events every ``WINDOW`` steps)."""
    from idfy.presets import load_preset
    from idfy.train import train
    from idfy.train.config import adapt_config
    from idfy.train.events import Start, Step

    rates: list[float] = []
    cfg = None
    run = tc.replace(
        max_steps=warm + steps, time_budget_s=None, eval_every=0, sample_every=0, checkpoint_every=0,
        log_every=WINDOW,
    )  # fmt: skip
    for ev in train(load_preset(preset), run, data=data):
        if isinstance(ev, Start):
            cfg = ev.model_config
        elif isinstance(ev, Step) and ev.step > warm:
            rates.append(ev.images_per_s)
    train_set = data[0]
    _, feed, _ = adapt_config(load_preset(preset), task=train_set.task, num_classes=train_set.num_classes,
                              channels=train_set.channels, size=(tc.size, tc.size))  # fmt: skip
    return rates, cfg, feed


def _pct(xs: list[float], q: float) -> float:
    ys = sorted(xs)
    pos = (len(ys) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ys) - 1)
    return ys[lo] + (ys[hi] - ys[lo]) * (pos - lo)


def overhead(preset: str, data_name: str, size: int, data: tuple[Any, Any], steps: int, repeats: int) -> dict:
    """Engine vs bare loop, alternating; compares the per-window rates pooled over the repeats."""
    from idfy.train import TrainConfig

    tc = TrainConfig(data=data_name, size=size)
    warm = 2 * WINDOW
    engine: list[float] = []
    bare: list[float] = []
    for _ in range(repeats):  # alternate, so bursts of load from other processes hit both alike
        rates, cfg, feed = engine_loop(preset, data, tc, warm, steps)
        engine += rates
        bare += bare_loop(cfg, feed, data[0], tc, warm, steps)
    e50, b50 = statistics.median(engine), statistics.median(bare)
    e90, b90 = _pct(engine, 0.9), _pct(bare, 0.9)
    return {
        "preset": preset,
        "data": data_name,
        "size": size,
        "batch_size": tc.batch_size,
        "steps": steps,
        "window": WINDOW,
        "repeats": repeats,
        "engine_windows": len(engine),
        "bare_windows": len(bare),
        "engine_median": round(e50, 1),
        "bare_median": round(b50, 1),
        "engine_p90": round(e90, 1),
        "bare_p90": round(b90, 1),
        "overhead_median": round(1 - e50 / b50, 4),
        "overhead_p90": round(1 - e90 / b90, 4),
        "goal": OVERHEAD_GOAL,
        "load": load(),
    }


def to_markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    lines = [
        "# Training demo benchmark",
        "",
        f"Command: `{res['command']}`  ",
        f"Date: {res['date']}  ",
        f"Machine: {m['cpu']} × {m['cpu_count']} cores, torch {m['torch']} ({m['torch_threads']} threads), "
        f"CUDA: {m['cuda'] or 'none'}, Python {m['python']}  ",
        "Load: the 1-minute load average before/after each row (other work on the machine slows every number).",
        "",
        f"## Held-out results after a {res['budget_s']:g} s budget",
        "",
        "| preset | data | size | params | steps | epochs | images/s | class acc | mean IoU | loc. acc | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]

    def pct(v: float | None) -> str:
        return f"{100 * v:.1f} %" if v is not None else "–"

    for r in res["rows"]:
        if "error" in r:
            lines.append(
                f"| {r['preset']} | {r['data']} | {r['size']} | | | | | failed: {r['error']} | | | |"
            )
            continue
        iou = f"{r['mean_iou']:.3f}" if r.get("mean_iou") is not None else "–"
        lines.append(
            f"| {r['preset']} | {r['data']} | {r['size']} | {r['params']:,} | {r['steps']} | {r['epochs']} | "
            f"{r['images_per_s']:,.0f} | {pct(r['accuracy'])} | {iou} | {pct(r['loc_accuracy'])} | "
            f"{r['load_before']}/{r['load_after']} |"
        )
    if res.get("overhead"):
        o = res["overhead"]
        ok = "meets" if max(o["overhead_median"], o["overhead_p90"]) <= o["goal"] else "misses"
        lines += [
            "",
            "## Engine overhead against a bare PyTorch loop",
            "",
            f"{o['preset']} on {o['data']} at {o['size']}×{o['size']}, batch {o['batch_size']}: {o['repeats']} "
            f"alternating repeats of {o['steps']} timed steps (after {2 * o['window']} warm-up steps), timed in "
            f"windows of {o['window']} steps (one host sync per window in both loops). Other processes on the "
            "machine make single windows noisy, so the table gives the median and the 90th percentile (the "
            "least disturbed windows) of all windows.",
            "",
            "| loop | windows | images/s median | images/s p90 |",
            "|---|---:|---:|---:|",
            f"| bare PyTorch | {o['bare_windows']} | {o['bare_median']:,.0f} | {o['bare_p90']:,.0f} |",
            f"| idfy engine | {o['engine_windows']} | {o['engine_median']:,.0f} | {o['engine_p90']:,.0f} |",
            "",
            f"Overhead: **{100 * o['overhead_median']:.1f} %** (median), **{100 * o['overhead_p90']:.1f} %** "
            f"(p90) — {ok} the ≤ {100 * o['goal']:.0f} % goal.",
        ]
    return "\n".join(lines) + "\n"


def plot(res: dict[str, Any], path: Path) -> None:
    from matplotlib.figure import Figure

    rows = [r for r in res["rows"] if "error" not in r]
    fig = Figure(figsize=(max(6, 0.9 * len(rows) + 3), 3.6), dpi=100, layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    labels = [f"{r['preset']}\n{r['data']}\n{r['size']}" for r in rows]
    xs = range(len(rows))
    ax1.bar([x - 0.2 for x in xs], [r["loc_accuracy"] or 0 for r in rows], 0.4, label="loc. accuracy")
    ax1.bar([x + 0.2 for x in xs], [r["mean_iou"] or 0 for r in rows], 0.4, label="mean IoU")
    ax1.set_xticks(list(xs), labels, fontsize=7)
    ax1.set(ylim=(0, 1), title=f"held-out, {res['budget_s']:g} s budget")
    ax1.legend(fontsize=8)
    ax2.bar(list(xs), [r["images_per_s"] or 0 for r in rows], color="tab:green")
    ax2.set_xticks(list(xs), labels, fontsize=7)
    ax2.set(title="training images/s")
    fig.savefig(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=90.0, help="seconds of training per row (default 90)")
    p.add_argument("--presets", nargs="+", default=PRESETS)
    p.add_argument("--data", nargs="+", default=DATASETS)
    p.add_argument("--sizes", nargs="+", type=int, default=SIZES)
    p.add_argument(
        "--overhead-steps", type=int, default=100, help="timed steps per overhead repeat (0: skip)"
    )
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 3 s rows, small data, tiny/small, no files"
    )
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.quick:
        args.budget, args.overhead_steps, args.repeats = 3.0, 20, 1
        if args.presets == PRESETS:
            args.presets = ["tiny", "small"]
        if args.sizes == SIZES:
            args.sizes = [64]

    res: dict[str, Any] = {
        "command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])]),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "budget_s": args.budget,
        "rows": [],
    }
    for data_name in args.data:
        for size in args.sizes:
            data = make_data(data_name, size, args.quick)
            for preset in args.presets:
                row = train_row(preset, data_name, size, data, args.budget)
                res["rows"].append(row)
                print(json.dumps(row), flush=True)
    if args.overhead_steps > 0:
        name, size = args.data[0], args.sizes[0]
        preset = "small" if "small" in args.presets else args.presets[0]
        res["overhead"] = overhead(preset, name, size, make_data(name, size, args.quick), args.overhead_steps,
                                   args.repeats)  # fmt: skip
        print(json.dumps(res["overhead"]), flush=True)
    md = to_markdown(res)
    print(md)
    if not args.quick:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "train_demo.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        (args.out / "train_demo.md").write_text(md, encoding="utf-8")
        plot(res, args.out / "train_demo.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
