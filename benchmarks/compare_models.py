"""Does the design win? idfy presets against timm baselines under ONE recipe, side by side in one run.

For every model: parameters, MACs at 224×224 (fvcore convention, 1 multiply-add = 1), batch-1 and batch-64
CPU latency at 224×224 (median), training throughput, and the held-out score of each task after the same
number of optimizer steps with the same optimizer, schedule, batch size and data:

* ``fashion-mnist``  — classification, official test set, accuracy (28×28, 1 channel);
* ``fashion-canvas`` — localization on its fixed test split: localization accuracy (IoU ≥ 0.5 and correct label),
  mean IoU, class accuracy;
* ``shapes``         — the same metrics on the procedural set.

timm models are built with ``pretrained=False``, ``in_chans`` and ``num_classes`` set for the task (4 box values +
C logits for localization), and trained by idfy's engine exactly like the idfy presets.

    python benchmarks/compare_models.py --steps 300 --out benchmarks/results
    python benchmarks/compare_models.py --quick          # smoke run: 2 models, 20 steps

Writes models.json, models.md and Pareto plots (models_pareto_*.png, and plotly figures as .plotly.json;
the app's Evidence tab draws the same charts from models.json).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import machine_info

import idfy
from idfy.data import make_dataset
from idfy.presets import is_design
from idfy.train import TrainConfig, train
from idfy.train.events import Done, Failed, Start

IDFY_MODELS = ("tiny", "tiny_tuned", "small", "small_tuned", "medium", "full", "seed_model2")
TIMM_MODELS = ("resnet18", "mobilenetv3_small_100", "ghostnet_100", "efficientnet_b0")
TASKS = {  # task -> (size, n_train, n_test)
    "fashion-mnist": (28, None, None),
    "fashion-canvas": (64, 10000, 2000),
    "shapes": (64, 6000, 1000),
}


def timm_model(name: str, *, channels: int, outputs: int) -> nn.Module:
    import timm

    return timm.create_model(name, pretrained=False, in_chans=channels, num_classes=outputs)


def count_macs(model: nn.Module, shape: tuple[int, int, int]) -> int:
    """MACs of one image (fvcore convention) via torch.utils.flop_counter (FLOPs / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        model(torch.rand(1, *shape))
    return fc.get_total_flops() // 2


def latency_ms(model: nn.Module, shape: tuple[int, int, int], batch: int, budget_s: float) -> float:
    """Median wall-clock ms of a forward pass at ``batch`` (inference mode, after one warm-up)."""
    model.eval()
    x = torch.rand(batch, *shape)
    times: list[float] = []
    with torch.inference_mode():
        model(x)
        end = time.perf_counter() + budget_s
        while len(times) < 3 or (time.perf_counter() < end and len(times) < 50):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def build(kind: str, name: str, train_set: Any) -> tuple[nn.Module | None, idfy.ModelConfig]:
    """(model, design): an idfy preset is built by the engine itself (adapted to the data); a timm network gets
    ``in_chans`` and ``num_classes`` (4 box values + C logits for localization) for the task."""
    if kind == "idfy":
        return None, idfy.load_preset(name)
    outputs = train_set.num_classes + (4 if train_set.task == "localize" else 0)
    net = timm_model(name, channels=train_set.channels, outputs=outputs)
    return net, idfy.load_preset("tiny").replace(name=name)


def run_task(kind: str, name: str, task: str, sets: tuple[Any, Any], tc: TrainConfig) -> dict[str, Any]:
    # a timm network is initialized here, outside the engine's seeding: seed it too, so its start depends on
    # the run's seed alone and not on what ran before it in this process
    torch.manual_seed(tc.seed)
    model, design = build(kind, name, sets[0])
    done: Done | None = None
    failed = None
    device = "cpu"
    for ev in train(design, tc, data=sets, model=model):
        if isinstance(ev, Start):
            device = ev.device
        elif isinstance(ev, Done):
            done = ev
        elif isinstance(ev, Failed):
            failed = ev.message
    if done is None:
        return {"failed": failed or "no result", "device": device}
    m = {k: v for k, v in done.metrics.items() if k != "per_class"}
    score = m.get("loc_accuracy", m.get("accuracy"))
    return {
        "score": score,
        "metrics": m,
        "steps": done.step,
        "seconds": done.elapsed,
        "images_per_s": done.step * tc.batch_size / max(done.elapsed, 1e-9),
        "device": device,
    }


def over_seeds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One task's result over several seeds: mean score, the scores, their standard deviation, every run."""
    ok = [r for r in runs if "score" in r]
    if not ok:
        return runs[0]
    scores = [r["score"] for r in ok]
    return {
        "score": statistics.fmean(scores),
        "scores": scores,
        "score_std": statistics.stdev(scores) if len(scores) > 1 else 0.0,
        "metrics": ok[0]["metrics"],
        "steps": ok[0]["steps"],
        "seconds": sum(r["seconds"] for r in ok),
        "images_per_s": statistics.fmean(r["images_per_s"] for r in ok),
        "device": ok[0]["device"],
        "runs": runs,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="idfy presets vs timm baselines under one recipe")
    ap.add_argument("--steps", type=int, default=300, help="optimizer steps per model and task")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=1, help="runs per model and task (seeds 0..N-1; mean ± std)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument(
        "--models", default=",".join(IDFY_MODELS + TIMM_MODELS), help="presets, design YAML paths, timm names"
    )
    ap.add_argument("--latency-budget", type=float, default=3.0, help="seconds per latency setting")
    ap.add_argument(
        "--replot", action="store_true", help="only redraw the plots and table from OUT/models.json"
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny + resnet18, 20 steps, shapes only")
    ap.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1: stable on a shared machine)"
    )
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.replot:
        payload = json.loads((Path(args.out) / "models.json").read_text())
        plots(payload, Path(args.out))
        (Path(args.out) / "models.md").write_text(markdown(payload))
        return
    if args.quick:
        args.steps, args.tasks, args.models, args.latency_budget = 20, "shapes", "tiny,resnet18", 0.5
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    tc = TrainConfig(
        max_steps=args.steps,
        time_budget_s=None,
        batch_size=args.batch_size,
        optimizer="adamw",  # the recipe of results/models.json (the engine's own default is muon)
        lr=args.lr,
        eval_every=0,
        sample_every=0,
        checkpoint_every=0,
        log_every=50,
        seed=0,
    )
    rows: list[dict[str, Any]] = []
    for name in names:
        kind = "idfy" if is_design(name) else "timm"
        label = name  # a design file is listed under its design's name
        if kind == "idfy":
            design = idfy.load_preset(name)
            label = design.name
            model = idfy.build_model(design.set("input.size", [224, 224]))
        else:
            model = timm_model(name, channels=3, outputs=14)
        row = {
            "model": label,
            **({"source": name} if label != name else {}),
            "family": kind,
            "params": sum(p.numel() for p in model.parameters()),
            "macs": count_macs(model, (3, 224, 224)),
            "latency_b1_ms": latency_ms(model, (3, 224, 224), 1, args.latency_budget),
            "latency_b64_ms": latency_ms(model, (3, 224, 224), 64, args.latency_budget),
            "tasks": {},
        }
        print(
            f"{name:<24} {row['params'] / 1e6:7.3f} M params {row['macs'] / 1e6:9.1f} M MACs "
            f"b1 {row['latency_b1_ms']:7.1f} ms  b64 {row['latency_b64_ms']:8.1f} ms",
            flush=True,
        )
        rows.append(row)
    for task in tasks:
        size, n_train, n_test = TASKS[task]
        sets = (
            make_dataset(task, split="train", size=size, n=n_train),
            make_dataset(task, split="test", size=size, n=n_test),
        )
        for row in rows:
            t0 = time.perf_counter()
            runs = [
                run_task(
                    row["family"],
                    row.get("source", row["model"]),
                    task,
                    sets,
                    tc.replace(size=size, data=task, seed=seed),
                )
                for seed in range(args.seeds)
            ]
            res = runs[0] if len(runs) == 1 else over_seeds(runs)
            row["tasks"][task] = res
            score = res.get("score")
            print(
                f"  {task:<15} {row['model']:<24} score {score if score is None else f'{score * 100:5.1f} %'}"
                f"  ({time.perf_counter() - t0:.0f} s, {res.get('images_per_s', 0):.0f} img/s)",
                flush=True,
            )
    meta = machine_info()
    meta["command"] = "python benchmarks/compare_models.py " + " ".join(sys.argv[1:])
    recipe = {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "optimizer": tc.optimizer,
        "lr": args.lr,
        "schedule": tc.schedule,
        "weight_decay": tc.weight_decay,
        "augment": tc.augment,
        "seeds": list(range(args.seeds)),
    }
    payload = {
        **meta,
        "tasks": tasks,
        "recipe": recipe,
        "recipe_text": f"{args.steps} AdamW steps × batch {args.batch_size}, lr {args.lr}, cosine, "
        + ("one seed" if args.seeds == 1 else f"{args.seeds} seeds (mean ± std)"),
        "rows": rows,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "models.json").write_text(json.dumps(payload, indent=2, default=str))
    md = markdown(payload)
    (out / "models.md").write_text(md)
    plots(payload, out)
    print(md)


def markdown(p: dict[str, Any]) -> str:
    tasks = p["tasks"]
    head = "| model | params | MACs @224 | CPU b1 @224 | CPU b64 @224 | " + " | ".join(tasks) + " |"
    lines = [
        f"`{p['command']}`  ",
        f"{p['machine']}; torch {p['torch']}, timm {p['timm']}; {p['date']}  ",
        f"Recipe: {p['recipe_text']}. Score: localization accuracy (IoU ≥ 0.5 and correct label) for "
        "fashion-canvas and shapes, accuracy for fashion-mnist.",
        "",
        head,
        "|---|---:|---:|---:|---:|" + "---:|" * len(tasks),
    ]
    for r in p["rows"]:
        cells = []
        for t in tasks:
            res = r["tasks"].get(t, {})
            if "failed" in res:
                cells.append("failed")
            elif "score_std" in res:
                cells.append(f"{res['score'] * 100:.1f} ± {res['score_std'] * 100:.1f} %")
            else:
                cells.append(f"{res['score'] * 100:.1f} %" if "score" in res else "—")
        lines.append(
            f"| {r['model']} ({r['family']}) | {r['params'] / 1e6:.3f} M | {r['macs'] / 1e6:.1f} M | "
            f"{r['latency_b1_ms']:.1f} ms | {r['latency_b64_ms']:.0f} ms | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"


def plots(p: dict[str, Any], out: Path) -> None:
    """Pareto charts: score vs MACs and score vs batch-1 latency, per task (PNG via matplotlib, HTML via plotly)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go
    from matplotlib import ticker

    for task in p["tasks"]:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
        pfig = go.Figure()
        for ax, key, label in (
            (axes[0], "macs", "MACs @224 (M)"),
            (axes[1], "latency_b1_ms", "CPU batch-1 latency @224 (ms)"),
        ):
            for r in p["rows"]:
                res = r["tasks"].get(task, {})
                if "score" not in res:
                    continue
                x = r[key] / 1e6 if key == "macs" else r[key]
                color = "#4f46e5" if r["family"] == "idfy" else "#94a3b8"
                ax.scatter(x, res["score"] * 100, color=color, s=40)
                ax.annotate(
                    r["model"], (x, res["score"] * 100), fontsize=7, xytext=(3, 3), textcoords="offset points"
                )
                if key == "macs":
                    pfig.add_trace(
                        go.Scatter(
                            x=[x],
                            y=[res["score"] * 100],
                            mode="markers+text",
                            text=[r["model"]],
                            textposition="top center",
                            marker={"color": color, "size": 10},
                            name=r["model"],
                        )
                    )
            ax.set_xscale("log")
            # plain numbers at 1-2-5 steps; matplotlib's default labels every minor tick as a×10^b on short ranges
            ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
            ax.set_xlabel(label)
            ax.set_ylabel("score (%)")
            ax.grid(alpha=0.3)
        fig.suptitle(f"{task}: idfy (indigo) vs timm baselines (grey), {p['recipe_text']}", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / f"models_pareto_{task}.png")
        plt.close(fig)
        pfig.update_layout(
            title=f"{task}: score vs MACs",
            xaxis={"type": "log", "title": "MACs (M)"},
            yaxis={"title": "score (%)"},
            template="plotly_white",
            showlegend=False,
        )
        pfig.write_json(out / f"models_pareto_{task}.plotly.json")  # open with plotly.io.read_json


if __name__ == "__main__":
    main()
