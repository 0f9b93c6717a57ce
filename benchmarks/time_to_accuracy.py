"""Time to accuracy: held-out localization accuracy against wall-clock seconds from pressing Start.

Every model trains with the engine's default recipe (:class:`idfy.train.TrainConfig`, the demo's: fashion-canvas
at 64 px, batch, lr, schedule fitted to the time budget) for ``--budget`` seconds per seed. The clock starts
when the run starts: data preparation (rendering the canvases) and the model build count, as they do for a
person pressing Start. The held-out points are the engine's own evaluations at k / ``--points`` of the budget
(on its fixed held-out subset, the first ``eval_subset`` test canvases) and the final evaluation on the full
test split after the budget. Evaluations do not pause the clock: a point's time is when its result was known.
The schedule anneals over the whole budget, so the intermediate points of one long run are "anytime" points;
the demo itself (``--demo-budget``, default 60 s, exactly what ``python -m idfy train`` runs) is also run on its
own, per seed, for the goal.

idfy designs and timm baselines (``pretrained=False``, in_chans / num_classes set for the task, their weights
seeded with the run's seed) run interleaved: seed by seed, model by model, so the load from other processes on
the machine hits them alike. Also measured: images/s of the engine against a bare PyTorch loop on the demo
design (:func:`benchmarks.train_demo.overhead`).

Usage::

    .venv/bin/python benchmarks/time_to_accuracy.py                  # the full run (about 40 min on 2 cores)
    .venv/bin/python benchmarks/time_to_accuracy.py --quick --out /tmp/tta   # smoke run: seconds, shapes 32 px

Writes ``time_to_accuracy.{json,md,png}`` into ``--out`` (default ``benchmarks/results``); the markdown ends
with the attempts log kept in ``benchmarks/results/time_to_accuracy_attempts.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"
ATTEMPTS = RESULTS / "time_to_accuracy_attempts.md"

IDFY_MODELS = ["demo", "tiny_tuned"]
TIMM_MODELS = ["resnet18", "mobilenetv3_small_100", "ghostnet_100"]
GOAL_LOC_ACC = 0.80
DEMO = "demo"  # idfy.train.config.DEFAULT_PRESET (not imported here: no work at import time)
GOAL_S = 60.0


def load() -> float:
    """1-minute load average (other processes on the machine slow every number here)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


def _timm(name: str, channels: int, outputs: int) -> Any:
    import timm

    return timm.create_model(name, pretrained=False, in_chans=channels, num_classes=outputs)


def _data_info(tc: Any) -> tuple[int, int]:
    """(channels, outputs) a timm baseline needs for ``tc.data`` (one tiny render, outside every clock)."""
    from idfy.data import make_dataset

    probe = make_dataset(tc.data, split="test", size=max(tc.size, 16), n=2, seed=0, data_dir=tc.data_dir)
    return probe.channels, probe.num_classes + (4 if probe.task == "localize" else 0)


def run_one(name: str, tc: Any, info: tuple[int, int], clock: Any = time.perf_counter) -> dict[str, Any]:
    """Train ``name`` (idfy preset or timm model) with ``tc``; its held-out curve and final result. ``clock``
    times the budget and the points (wall time, or the process's CPU time on a shared machine)."""
    import torch

    from idfy.presets import is_design, load_preset
    from idfy.train import train
    from idfy.train.events import Done, Eval, Failed, Start, Step

    row: dict[str, Any] = {
        "model": name,
        "seed": tc.seed,
        "budget_s": tc.time_budget_s,
        "load_before": load(),
    }
    t0 = clock()
    torch.manual_seed(tc.seed)  # a timm network is initialized here: its start depends on the seed alone
    if is_design(name):
        row["kind"], net, design = "idfy", None, load_preset(name)
    else:
        row["kind"], net = "timm", _timm(name, *info)
        design = load_preset("tiny").replace(name=name)
    build_s = clock() - t0  # the engine's clock starts after this: add it to its times
    speeds: list[float] = []
    curve: list[dict[str, Any]] = []
    for ev in train(design, tc, model=net, clock=clock):
        if isinstance(ev, Start):
            row["params"] = ev.num_params
            row["device"] = ev.device
        elif isinstance(ev, Step):
            speeds.append(ev.images_per_s)
        elif isinstance(ev, Eval):
            m = ev.metrics
            curve.append({
                "step": ev.step,
                "seconds": round(ev.elapsed + build_s, 2),
                "clock_s": round(ev.elapsed, 3),
                "n": m["n"],
                "loc_accuracy": m.get("loc_accuracy"),
                "accuracy": m["accuracy"],
                "mean_iou": m.get("mean_iou"),
            })  # fmt: skip
        elif isinstance(ev, Done):
            row["steps"] = ev.step
        elif isinstance(ev, Failed):
            row["error"] = ev.message
    row["wall_s"] = round(clock() - t0, 2)
    row["images_per_s"] = round(statistics.median(speeds[1:] or speeds), 1) if speeds else None
    row["curve"] = curve
    if curve:
        row["final"] = curve[-1]
    row["load_after"] = load()
    return row


def point_table(rows: list[dict[str, Any]], models: list[str], marks: list[float]) -> dict[str, Any]:
    """Mean and std (over seeds) of loc. accuracy at each mark: the point whose nominal time is the mark (the
    k-th in-run point at k / points of the budget, the final full-split one at the budget)."""
    out: dict[str, Any] = {}
    for name in models:
        runs = [r for r in rows if r["model"] == name and r.get("curve")]
        per: dict[str, Any] = {}
        for mark in marks:
            vals = []
            for r in runs:
                hit = [p for p in r["curve"] if abs(p["nominal_s"] - mark) < 1e-6]
                if hit and hit[0]["loc_accuracy"] is not None:
                    vals.append(hit[0]["loc_accuracy"])
            if vals:
                per[f"{mark:g}"] = {
                    "mean": statistics.fmean(vals),
                    "std": statistics.stdev(vals) if len(vals) > 1 else 0.0,
                    "n": len(vals),
                }
        out[name] = per
    return out


def _load_summary(rows: list[dict[str, Any]]) -> str:
    loads = [r["load_before"] for r in rows]
    if not loads:
        return "–"
    return f"min {min(loads):g}, median {statistics.median(loads):g}, max {max(loads):g}"


def _keep_rows(res: dict[str, Any], prior: dict[str, Any]) -> None:
    """Take the model rows of an earlier result (``--rows-from``) with everything that describes them (their
    command, clock, threads, budget, points, machine, load); the demo's own runs stay this run's."""
    res["demo_command"], res["demo_machine"], res["demo_threads"] = (
        res["command"], res["machine"], res["threads"]
    )  # fmt: skip
    res["demo_clock"], res["demo_recipe_text"] = res["clock"], res["recipe_text"]
    for key in ("command", "machine", "threads", "models", "idfy_models", "seeds", "budget_s", "eval_points",
                "eval_subset", "marks", "recipe", "recipe_text", "recipe_short", "clock", "rows", "overhead",
                "load_summary", "recipe_note"):  # fmt: skip
        if key in prior:
            res[key] = prior[key]
    res["rows_note"] = (
        f"The model rows above are kept from the earlier run named at the top ({prior['machine']['date']}); the "
        "demo's own runs below are this run's, with the preset and recipe of today: any change the attempts log "
        "records after that date is in the demo's runs only."
    )


def _keep_demo_runs(res: dict[str, Any], prior: dict[str, Any]) -> None:
    """Take the demo's own runs of an earlier result (``--demo-runs-from``) with what describes them (their
    command, machine, threads, clock, recipe, budget) and the engine-against-bare-loop figure; the model rows
    stay this run's (run now or merged from logs)."""
    if "demo_clock" in prior:
        for key in ("demo_command", "demo_machine", "demo_threads", "demo_clock", "demo_recipe_text"):
            res[key] = prior[key]
    else:  # the earlier result ran its demo runs together with its rows
        res["demo_command"], res["demo_machine"], res["demo_threads"] = (
            prior["command"], prior["machine"], prior["threads"]
        )  # fmt: skip
        res["demo_clock"], res["demo_recipe_text"] = prior["clock"], prior["recipe_text"]
    res["demo_runs"] = list(prior.get("demo_runs", []))
    res["demo_budget_s"] = prior["demo_budget_s"]
    if "overhead" in prior:
        res["overhead"] = prior["overhead"]


def _nominal(rows: list[dict[str, Any]], points: int) -> None:
    """Give each curve point its nominal time: an in-run evaluation starts right after the engine's clock
    passes k / points of the budget (and ends before the next one), so k = floor(clock / interval); the last
    point (the full split) is the budget."""
    for r in rows:
        curve = r.get("curve", [])
        interval = r["budget_s"] / points
        for i, p in enumerate(curve):
            last = i == len(curve) - 1
            p["nominal_s"] = r["budget_s"] if last else interval * int(p["clock_s"] // interval)


def verdicts(res: dict[str, Any]) -> dict[str, Any]:
    """The two goals: the demo's loc. accuracy within 60 s; the best idfy design against every timm baseline
    at every mark."""
    out: dict[str, Any] = {}
    runs = [r for r in res["demo_runs"] if r.get("final")]
    if not runs:  # no separate demo runs: the demo design's runs when their budget is the demo's
        runs = [r for r in res["rows"] if r["model"] == DEMO and r["budget_s"] == GOAL_S and r.get("final")]
    demo = [r["final"]["loc_accuracy"] for r in runs]
    if demo:
        out["demo_mean"] = statistics.fmean(demo)
        out["demo_wall_s"] = statistics.fmean(r["wall_s"] for r in runs)
        out["demo_goal_met"] = out["demo_mean"] >= GOAL_LOC_ACC
    table = res["points"]
    idfy_models = [m for m in res["models"] if m in res["idfy_models"]]
    timm_models = [m for m in res["models"] if m not in res["idfy_models"]]
    beats = {}
    for mark in res["marks"]:
        key = f"{mark:g}"
        best_idfy = max((table[m][key]["mean"] for m in idfy_models if key in table.get(m, {})), default=None)
        best_timm = max((table[m][key]["mean"] for m in timm_models if key in table.get(m, {})), default=None)
        if best_idfy is not None and best_timm is not None:
            beats[key] = best_idfy > best_timm
    out["idfy_beats_timm"] = beats
    out["idfy_beats_timm_everywhere"] = bool(beats) and all(beats.values())
    return out


_CLOCKS = {
    "wall": "wall time",
    "cpu": (
        "the process's CPU time (`time.process_time`, one torch thread): the machine was shared with other work "
        "(see the load), which made wall time measure the other work; CPU time of one thread is the wall time "
        "the run would take on one idle core (on two idle cores with two threads, each step is faster)"
    ),
}


def _demo_table_row(res: dict[str, Any], marks: list[str]) -> list[str]:
    """The demo's own runs as a row of the table, when they ran apart from the rows (``--rows-from``)."""
    per = res.get("demo_points", {}).get(DEMO)
    runs = [r for r in res["demo_runs"] if "params" in r]
    if "demo_clock" not in res or not per or not runs:
        return []
    ips = statistics.fmean(r["images_per_s"] or 0 for r in runs)
    how = f"{res['demo_clock']} clock, {res['demo_threads']} threads"
    label = f"**{DEMO}**, its {res['demo_budget_s']:g} s runs ({how})"
    cells = [_pm(per.get(x)) for x in marks]
    return [f"| {label} | {runs[0]['params']:,} | {ips:,.0f} | " + " | ".join(cells) + " |"]


def _demo_header(res: dict[str, Any]) -> list[str]:
    """What the demo's own runs ran under, when they ran apart from the rows above (``--rows-from``)."""
    if "demo_clock" not in res:
        return []
    m = res["demo_machine"]
    return [
        f"Command: `{res['demo_command']}`  ",
        f"Clock: {_CLOCKS[res['demo_clock']]}, from Start (data preparation and model build included), "
        f"{res['demo_threads']} torch threads; recipe: {res['demo_recipe_text']}  ",
        f"Date: {m['date']}; machine: {m['machine']}; torch {m['torch']}, Python {m['python']}; load (1-minute "
        f"average, before → after each run): {res['demo_load_summary']}",
        "",
    ]


def _rate(images_per_s: float | None) -> str:
    """images/s for the tables; "–" for a run that made no step (its budget spent before the first)."""
    return "–" if images_per_s is None else f"{images_per_s:,.0f}"


def _pm(cell: dict[str, Any] | None) -> str:
    if not cell:
        return "–"
    return f"{100 * cell['mean']:.1f} ± {100 * cell['std']:.1f}"


def to_markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    v = res["verdicts"]
    marks = [f"{x:g}" for x in res["marks"]]
    lines = [
        "# Time to accuracy",
        "",
        f"Command: `{res['command']}`  ",
        f"Date: {m['date']}; machine: {m['machine']}; torch {m['torch']} ({res['threads']} thread{'s' if res['threads'] != 1 else ''}), "
        f"timm {m['timm']}, Python {m['python']}  ",
        f"Load (1-minute average, before → after each run): {res['load_summary']}. Other processes shared the "
        "cores: absolute numbers are pessimistic; the models ran interleaved, so the comparison is fair.",
        "",
        f"Recipe: the engine's defaults (`TrainConfig()`): {res['recipe_text']}. Clock: {_CLOCKS[res['clock']]}, "
        "from the start of the run, data preparation and model build included; evaluations do not pause it. "
        f"In-run points: the engine's evaluations at k/{res['eval_points']} of the {res['budget_s']:g} s budget on "
        f"its fixed held-out subset ({res['eval_subset']} canvases); the {res['budget_s']:g} s point is the "
        "final evaluation on the full test split. The schedule anneals over the whole budget, so the earlier "
        "points are what a longer run shows on the way (a run given that shorter budget anneals sooner).",
        "",
        "## Held-out localization accuracy (%) at seconds from Start, mean ± std over seeds",
        "",
        "| model | params | images/s | " + " | ".join(f"{x} s" for x in marks) + " |",
        "|---|---:|---:|" + "---:|" * len(marks),
    ]
    for name in res["models"]:
        runs = [r for r in res["rows"] if r["model"] == name and "params" in r]
        if not runs:
            lines.append(f"| {name} | failed | | " + " | ".join("–" for _ in marks) + " |")
            continue
        ips = statistics.fmean(r["images_per_s"] or 0 for r in runs)
        cells = [_pm(res["points"].get(name, {}).get(x)) for x in marks]
        label = f"**{name}**" if name in res["idfy_models"] else name
        lines.append(f"| {label} | {runs[0]['params']:,} | {ips:,.0f} | " + " | ".join(cells) + " |")
    lines += _demo_table_row(res, marks)
    for note in ("recipe_note", "rows_note", "demo_runs_note"):
        if res.get(note):
            lines += ["", res[note]]
    beats = v.get("idfy_beats_timm", {})
    lines += [
        "",
        "Best idfy design above every timm baseline at: "
        + (", ".join(f"{k} s {'✓' if ok else '✗'}" for k, ok in beats.items()) or "–")
        + (" — goal met." if v.get("idfy_beats_timm_everywhere") else " — goal not met everywhere."),
        "",
        f"## The demo: `{DEMO}` with the default recipe and a {GOAL_S:g} s budget, per seed",
        "",
        *_demo_header(res),
        "| seed | steps | images/s | seconds (Start → final result) | class acc | mean IoU | loc. acc | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    demo_runs = res["demo_runs"] or [r for r in res["rows"] if r["model"] == DEMO and r["budget_s"] == GOAL_S]
    for r in demo_runs:
        f = r.get("final")
        if not f:
            lines.append(f"| {r['seed']} | failed: {r.get('error', '?')} | | | | | | |")
            continue
        lines.append(
            f"| {r['seed']} | {r['steps']} | {_rate(r['images_per_s'])} | {r['wall_s']:.1f} | "
            f"{100 * f['accuracy']:.1f} % | {f['mean_iou']:.3f} | {100 * f['loc_accuracy']:.1f} % | "
            f"{r['load_before']} → {r['load_after']} |"
        )
    if "demo_mean" in v:
        ok = "met" if v["demo_goal_met"] else f"missed by {100 * (GOAL_LOC_ACC - v['demo_mean']):.1f} pt"
        lines += [
            "",
            f"Goal ≥ {100 * GOAL_LOC_ACC:.0f} % within {GOAL_S:g} s: mean **{100 * v['demo_mean']:.1f} %** "
            f"({v['demo_wall_s']:.1f} s from Start to the final full-split result) — {ok}.",
        ]
    o = res.get("overhead")
    if o:
        lines += [
            "",
            "## Engine against a bare PyTorch loop",
            "",
            f"{o['preset']} on {o['data']} at {o['size']} px, batch {o['batch_size']}: {o['repeats']} alternating "
            f"repeats of {o['steps']} steps, windows of {o['window']} steps (see benchmarks/train_demo.py).",
            "",
            "| loop | images/s median | images/s p90 |",
            "|---|---:|---:|",
            f"| bare PyTorch | {o['bare_median']:,.0f} | {o['bare_p90']:,.0f} |",
            f"| idfy engine | {o['engine_median']:,.0f} | {o['engine_p90']:,.0f} |",
            "",
            f"Engine overhead: {100 * o['overhead_median']:.1f} % (median), {100 * o['overhead_p90']:.1f} % (p90).",
        ]
    if res.get("attempts"):
        lines += ["", res["attempts"].strip()]
    return "\n".join(lines) + "\n"


def plot(res: dict[str, Any], path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.5, 4.4), dpi=100, layout="constrained")
    ax = fig.subplots()
    bases = list(dict.fromkeys(name.split(" · ")[0] for name in res["models"]))
    colours = {b: f"C{i}" for i, b in enumerate(bases)}  # one colour per model, whatever the recipe
    for name in res["models"]:
        runs = [r for r in res["rows"] if r["model"] == name and r.get("curve")]
        if not runs:
            continue
        k = min(len(r["curve"]) for r in runs)
        xs = [statistics.fmean(r["curve"][i]["seconds"] for r in runs) for i in range(k)]
        ys = [[r["curve"][i]["loc_accuracy"] or 0.0 for r in runs] for i in range(k)]
        mean = [100 * statistics.fmean(y) for y in ys]
        std = [100 * (statistics.stdev(y) if len(y) > 1 else 0.0) for y in ys]
        idfy = name in res["idfy_models"]
        other = " · " in name  # the same model under --merge-recipe's recipe: faint, no band
        colour = colours[name.split(" · ")[0]]
        ax.plot(xs, mean, marker="o", ms=3, lw=2.2 if idfy else 1.2, ls="-" if idfy else "--", label=name,
                color=colour, alpha=0.4 if other else 1.0)  # fmt: skip
        if not other:
            ax.fill_between(xs, [a - b for a, b in zip(mean, std)], [a + b for a, b in zip(mean, std)],
                            color=colour, alpha=0.15)  # fmt: skip
    demo = [r for r in res["demo_runs"] if r.get("final")]
    if demo:
        ax.scatter([r["wall_s"] for r in demo], [100 * r["final"]["loc_accuracy"] for r in demo], marker="*",
                   s=80, color="black", zorder=5, label=f"demo, {res['demo_budget_s']:g} s run")  # fmt: skip
    ax.axhline(100 * GOAL_LOC_ACC, color="grey", lw=0.8, ls=":")
    ax.axvline(GOAL_S, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="seconds from Start (data and model build included)", ylabel="held-out loc. accuracy (%)",
           ylim=(0, 100), title=f"time to accuracy, {res['recipe_short']}")  # fmt: skip
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes, off the curves
    fig.savefig(path)


def _merge_recipe(res: dict[str, Any], logs: list[Path], label: str) -> None:
    """Add the model rows of ``logs`` (the same models under another recipe) as '<model> · label'."""
    if not logs:
        return
    names = list(res["models"])
    for log in logs:
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.startswith("ROW "):
                row = json.loads(line[4:])
                if not row.pop("demo", False) and row["model"] in names:
                    res["rows"].append({**row, "model": f"{row['model']} · {label}"})
    res["models"] = names + [f"{m} · {label}" for m in names]
    res["idfy_models"] = res["idfy_models"] + [f"{m} · {label}" for m in res["idfy_models"]]
    res["recipe_note"] = (
        f"Rows '· {label}': the same models, seeds and clock under {label} (an earlier run's logs: "
        f"{', '.join(str(p) for p in logs)}); they count in the comparison below."
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=IDFY_MODELS + TIMM_MODELS, help="presets and timm names")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--budget", type=float, default=None, help="seconds per run (default 120; --quick: 4)")
    p.add_argument("--points", type=int, default=8, help="in-run held-out points: k / points of the budget")
    p.add_argument("--marks", nargs="+", type=float, default=None, help="seconds in the table (15 30 60 120)")
    p.add_argument(
        "--demo-budget", type=float, default=None, help="the demo's own runs (default 60; 0: skip)"
    )
    p.add_argument("--overhead-steps", type=int, default=60, help="engine vs bare loop steps (0: skip)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--quick", action="store_true", help="smoke run: shapes at 32 px, 4 s runs, one seed")
    p.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall time, or the process's CPU time (a machine shared with other work; use --threads 1)",
    )
    p.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="build the results from the ROW lines of earlier runs' logs (seeds run in parallel)",
    )
    p.add_argument(
        "--rows-from",
        type=Path,
        default=None,
        help="keep the model rows (and their clock) of an earlier result JSON; run only the demo's own runs",
    )
    p.add_argument(
        "--demo-runs-from",
        type=Path,
        default=None,
        help="keep the demo's own runs of an earlier result JSON (with --merge or new model rows)",
    )
    p.add_argument(
        "--merge-recipe",
        nargs="+",
        type=Path,
        default=[],
        metavar="LOG",
        help="with --merge: ROW lines of the same models under another recipe, kept as extra rows "
        "'<model> · LABEL' that count in the comparison",
    )
    p.add_argument("--recipe-label", default="other recipe", help="LABEL of --merge-recipe's rows")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    import torch
    from _meta import machine_info
    from train_demo import overhead

    from idfy.presets import is_design
    from idfy.train.config import DEFAULT_PRESET, TrainConfig

    torch.set_num_threads(args.threads)
    base = TrainConfig()
    budget, demo_budget, marks = (
        (4.0, 3.0, [1.0, 2.0, 4.0]) if args.quick else (120.0, 60.0, [15, 30, 60, 120])
    )
    args.budget = args.budget if args.budget is not None else budget
    args.demo_budget = args.demo_budget if args.demo_budget is not None else demo_budget
    args.marks = args.marks or marks
    if args.quick:
        base = base.replace(data="shapes", size=32, n_train=256, n_test=64, eval_subset=32, batch_size=32)
        args.seeds = args.seeds[:1]
        args.overhead_steps = min(args.overhead_steps, 20)
    base = base.replace(
        eval_points=args.points, checkpoint_every=0, sample_every=0, eval_every=0, log_every=10
    )
    info = _data_info(base)
    if base.data in ("fashion-canvas", "fashion-mnist"):
        from idfy.data.fashion import load_fashion

        for split in (
            "train",
            "test",
        ):  # read the IDX files once, outside every clock (a person's disk cache)
            load_fashion(split, base.data_dir)

    res: dict[str, Any] = {
        "command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])]),
        "machine": machine_info(),
        "threads": args.threads,
        "models": args.models,
        "idfy_models": [m for m in args.models if is_design(m)],
        "seeds": args.seeds,
        "budget_s": args.budget,
        "eval_points": args.points,
        "eval_subset": base.eval_subset,
        "marks": args.marks,
        "demo_budget_s": args.demo_budget,
        "recipe": base.to_dict(),
        "recipe_text": (
            f"{base.data} at {base.size} px, batch {base.batch_size}, {base.optimizer} lr {base.lr:g} "
            f"(wd {base.weight_decay:g}), {base.schedule} schedule over the budget with {base.warmup} warm-up "
            f"steps, loss weights box L1 {base.box_l1_weight:g} / GIoU {base.giou_weight:g} / class {base.cls_weight:g}, "
            f"flips {'on' if base.augment else 'off'}, translate {base.translate:g}, erase {base.erase:g}"
        ),
        "recipe_short": f"{base.data} {base.size} px, {args.threads} CPU threads",
        "clock": args.clock,
        "rows": [],
        "demo_runs": [],
    }
    if args.merge:
        for log in args.merge:
            for line in log.read_text(encoding="utf-8").splitlines():
                if line.startswith("ROW "):
                    row = json.loads(line[4:])
                    res["demo_runs" if row.pop("demo", False) else "rows"].append(row)
                elif line.startswith("OVERHEAD "):
                    res["overhead"] = json.loads(line[9:])
        res["seeds"] = sorted({r["seed"] for r in res["rows"]})
        args.overhead_steps = 0
        _merge_recipe(res, args.merge_recipe, args.recipe_label)
    if args.rows_from:
        _keep_rows(res, json.loads(args.rows_from.read_text(encoding="utf-8")))
        args.points = res["eval_points"]
    if args.demo_runs_from:
        _keep_demo_runs(res, json.loads(args.demo_runs_from.read_text(encoding="utf-8")))
        args.demo_budget, args.overhead_steps = 0.0, 0  # run no demo of its own
        res["demo_runs_note"] = (
            f"The demo's own runs below are kept from an earlier run ({res['demo_machine']['date']}); the model rows "
            "above are this run's."
        )
    for seed in [] if args.merge else args.seeds:
        for name in [] if args.rows_from else args.models:
            row = run_one(name, base.replace(seed=seed, time_budget_s=args.budget), info, clock)
            res["rows"].append(row)
            print("ROW " + json.dumps(row), flush=True)
        if args.demo_budget > 0:  # the demo exactly as `python -m idfy train` runs it (own eval points)
            demo_tc = TrainConfig(**{**base.to_dict(), "eval_points": TrainConfig().eval_points})
            row = run_one(
                DEFAULT_PRESET, demo_tc.replace(seed=seed, time_budget_s=args.demo_budget), info, clock
            )
            res["demo_runs"].append(row)
            print("ROW " + json.dumps({**row, "demo": True}), flush=True)
    _nominal(res["rows"], args.points)
    res["points"] = point_table(res["rows"], res["models"], res["marks"])
    _nominal(res["demo_runs"], TrainConfig().eval_points)
    res["demo_points"] = point_table(
        res["demo_runs"], [DEMO], [m for m in res["marks"] if m <= res["demo_budget_s"]]
    )
    if args.overhead_steps > 0:
        from idfy.data import make_dataset

        kw = {"size": base.size, "seed": 0, "data_dir": base.data_dir}
        data = (
            make_dataset(base.data, split="train", n=base.n_train, **kw),
            make_dataset(base.data, split="test", n=base.n_test, **kw),
        )
        res["overhead"] = overhead(DEFAULT_PRESET, base.data, base.size, data, args.overhead_steps, 3)
        print("OVERHEAD " + json.dumps(res["overhead"]), flush=True)
    res.setdefault("load_summary", _load_summary(res["rows"]))
    res["demo_load_summary"] = _load_summary(res["demo_runs"])
    res["verdicts"] = verdicts(res)
    res["attempts"] = ATTEMPTS.read_text(encoding="utf-8") if ATTEMPTS.is_file() else ""
    md = to_markdown(res)
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "time_to_accuracy.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (args.out / "time_to_accuracy.md").write_text(md, encoding="utf-8")
    plot(res, args.out / "time_to_accuracy.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
