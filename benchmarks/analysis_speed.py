"""How fast the explorer's analysis is: ``analyze`` (uncached), diagram build + SVG render, latency measurement.

For every preset at its own input size (224×224 except seed_model1's 32×32):

* ``analyze``: p50 / p95 over many *distinct* configs, so the LRU cache never answers. Two kinds of variation:
  ``num_classes`` (the brief's suggestion: a new head, same conv shapes) and the last stage's width (new conv
  shapes everywhere downstream — the harder case for anything that warms kernels per shape);
* ``diagram``: build + render to SVG of a config never seen before (its analysis included), p50 / p95;
  and the same with the report already cached (layout and ``dot`` only);
* ``latency``: the wall time of ``analyze(..., latency=True)`` for a fresh config (model build, warm-up, timed
  runs at batch 1 and 8, per-part timing), a few repeats;
* a fresh process: ``import idfy`` and the first ``analyze`` (dispatcher warm-up), once;
* a reference row: fvcore ``FlopCountAnalysis`` + torchinfo ``summary`` on timm ``resnet18`` at 224×224 (CPU),
  in the same run, next to idfy's own counter on the same model.

Goals (from issue #3, ``full`` at 224×224 on 2 CPU cores): analyze p95 ≤ 100 ms, diagram (SVG) ≤ 300 ms,
latency measurement ≤ 1.5 s.

Usage::

    .venv/bin/python benchmarks/analysis_speed.py            # writes benchmarks/results/analysis_speed.*
    .venv/bin/python benchmarks/analysis_speed.py --quick    # fewer repeats, no files
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
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import cpu_model  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"

GOALS_MS = {"analyze_p95": 100.0, "diagram_p95": 300.0, "latency_total": 1500.0}


def stats(ms: list[float]) -> dict[str, float]:
    from idfy.analysis.latency import percentile  # imported here: the script times `import idfy` itself

    return {"p50": statistics.median(ms), "p95": percentile(ms, 95), "max": max(ms), "n": len(ms)}


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def machine() -> dict[str, object]:
    cpu = cpu_model()
    import torch

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()),
    }


def class_variants(cfg, start: int) -> Iterator:
    """Distinct configs differing in ``num_classes`` (new head, same conv shapes)."""
    k = start
    while True:
        yield cfg.replace(num_classes=k)
        k += 1


def width_variants(cfg, start: int) -> Iterator:
    """Distinct configs with a new last-stage width (base + 4·j, j cycling over 1..60, keeps group divisibility)
    and a new ``num_classes`` each time (so fingerprints never repeat). Widths the config refuses (e.g. a
    flatten head grown past its limit) are skipped."""
    from idfy import ConfigError

    last = len(cfg.stages) - 1
    base = cfg.stages[last].width
    k, misses = start, 0
    while True:
        k += 1
        try:
            yield cfg.set(f"stages.{last}.width", base + 4 * (k % 60 + 1)).replace(num_classes=2000 + k)
            misses = 0
        except ConfigError:
            misses += 1
            if misses > 120:
                raise RuntimeError(f"{cfg.name}: no valid width variant") from None


def bench_preset(name: str, n_analyze: int, n_diagram: int, n_latency: int, offset: int) -> dict:
    from idfy import load_preset
    from idfy.analysis import analyze
    from idfy.viz.diagram import diagram, render

    cfg = load_preset(name)
    classes = class_variants(cfg, 1000 + offset)
    widths = width_variants(cfg, 1 + offset)
    a_cls = [timed(lambda: analyze(next(classes), device="cpu")) for _ in range(n_analyze)]
    a_wid = [timed(lambda: analyze(next(widths), device="cpu")) for _ in range(n_analyze)]
    fresh = [timed(lambda: render(diagram(next(classes)), "svg")) for _ in range(n_diagram)]
    cached_cfg = cfg.replace(num_classes=7)
    analyze(cached_cfg, device="cpu")
    cached = [timed(lambda: render(diagram(cached_cfg), "svg")) for _ in range(n_diagram)]
    lat_runs, lat_parts = [], []
    for _ in range(n_latency):
        c = next(classes)
        lat_runs.append(timed(lambda c=c: analyze(c, device="cpu", latency=True)))
        lat = analyze(c, device="cpu", latency=True).latency  # cached: the run just timed
        lat_parts.append({"warmup_ms": round(lat["warmup_ms"], 1), "measure_s": round(lat["elapsed_s"], 3)})
    report = analyze(cfg, device="cpu", latency=True)
    return {
        "preset": name,
        "input": list(report.input_shape),
        "params": report.params_total,
        "macs": report.macs,
        "analyze_new_classes_ms": stats(a_cls),
        "analyze_new_widths_ms": stats(a_wid),
        "analyze_parts_ms": {
            k: round(v, 2) for k, v in report.timings_ms.items() if k in ("build", "trace", "tables")
        },
        "diagram_svg_fresh_ms": stats(fresh),
        "diagram_svg_cached_report_ms": stats(cached),
        "latency_measurement_ms": stats(lat_runs),
        "latency_runs": lat_parts,
        "latency_result": {
            "batch1_median_ms": report.latency["batch1"]["median_ms"],
            "batch1_p90_ms": report.latency["batch1"]["p90_ms"],
            "batchN": report.latency.get("batchN"),
        },
    }


def bench_single_thread(repeats: int) -> dict:
    """``analyze(full, latency=True)`` again with ``torch.set_num_threads(1)``: shows how much of the latency
    measurement's time is intra-op threads waiting for a core held by another process."""
    import torch

    from idfy import load_preset
    from idfy.analysis import analyze

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs, b1 = [], []
        for k in range(repeats):
            cfg = load_preset("full").replace(num_classes=5000 + k)
            runs.append(timed(lambda cfg=cfg: analyze(cfg, device="cpu", latency=True)))
            b1.append(analyze(cfg, device="cpu", latency=True).latency["batch1"]["median_ms"])
    finally:
        torch.set_num_threads(threads)
    return {"latency_measurement_ms": stats(runs), "batch1_median_ms": stats(b1)}


def bench_reference(repeats: int) -> dict:
    """fvcore + torchinfo on timm resnet18 at 224×224 (CPU), and idfy's counter on the same model."""
    import timm
    import torch
    import torchinfo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

    from idfy.analysis.tracing import trace_model

    def fv_ti() -> tuple[float, float]:
        model = timm.create_model("resnet18", pretrained=False).eval()
        x = torch.rand(1, 3, 224, 224)
        t_fv = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fa = FlopCountAnalysis(model, (x,))
            fa.unsupported_ops_warnings(False)
            fa.uncalled_modules_warnings(False)
            fa.total()
        t_ti = time.perf_counter()
        torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0, device="cpu")
        return (t_ti - t_fv) * 1e3, (time.perf_counter() - t_ti) * 1e3

    def ours() -> None:
        with torch.device("meta"):
            model = timm.create_model("resnet18", pretrained=False).eval()
        trace_model(model, torch.empty(1, 3, 224, 224, device="meta"))

    fv, ti = zip(*(fv_ti() for _ in range(repeats)))
    both = [a + b for a, b in zip(fv, ti)]
    return {
        "model": "timm resnet18 (pretrained=False), 224×224, CPU, batch 1",
        "fvcore_flopcountanalysis_ms": stats(list(fv)),
        "torchinfo_summary_ms": stats(list(ti)),
        "fvcore_plus_torchinfo_ms": stats(both),
        "idfy_trace_on_meta_ms": stats([timed(ours) for _ in range(repeats)]),
    }


def to_markdown(data: dict) -> str:
    m = data["machine"]
    full = next(r for r in data["presets"] if r["preset"] == "full")
    lines = [
        "# analysis speed",
        "",
        f"Command: `{data['command']}`  ",
        f"Date: {data['date']}  ",
        f"Machine: {m['cpu']}, {m['cores']} cores (torch threads {m['torch_threads']}), {m['platform']}  ",
        f"Python {m['python']}, torch {m['torch']}  ",
        f"Load average at start / end: {', '.join(f'{x:.2f}' for x in m['load_average_at_start'])} / "
        f"{', '.join(f'{x:.2f}' for x in data['load_average_at_end'])} (other jobs shared the machine when > 0.5)",
        "",
        f"Fresh process: `import idfy` (torch, timm) {data['cold']['import_idfy_ms']:.0f} ms, then the first "
        f"`analyze(full)` {data['cold']['first_analyze_full_ms']:.0f} ms (dispatcher warm-up included).",
        "",
        "All times in ms. `analyze` is uncached (every call a config never seen before).",
        "",
        "| preset | input | analyze p50 / p95 (new num_classes) | analyze p50 / p95 (new widths) | "
        "diagram SVG p50 / p95 (fresh) | diagram SVG p50 / p95 (report cached) | latency measurement p50 / max |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in data["presets"]:
        a, w = r["analyze_new_classes_ms"], r["analyze_new_widths_ms"]
        d, dc, lat = r["diagram_svg_fresh_ms"], r["diagram_svg_cached_report_ms"], r["latency_measurement_ms"]
        lines.append(
            f"| {r['preset']} | {'×'.join(map(str, r['input']))} | {a['p50']:.1f} / {a['p95']:.1f} | "
            f"{w['p50']:.1f} / {w['p95']:.1f} | {d['p50']:.1f} / {d['p95']:.1f} | {dc['p50']:.1f} / {dc['p95']:.1f} | "
            f"{lat['p50']:.0f} / {lat['max']:.0f} |"
        )
    ref = data["reference"]
    lines += [
        "",
        f"Reference, same run — {ref['model']}: fvcore FlopCountAnalysis "
        f"{ref['fvcore_flopcountanalysis_ms']['p50']:.0f} ms + torchinfo summary "
        f"{ref['torchinfo_summary_ms']['p50']:.0f} ms = {ref['fvcore_plus_torchinfo_ms']['p50']:.0f} ms (p50); "
        f"idfy's counter (build on meta + one traced pass) on the same model: "
        f"{ref['idfy_trace_on_meta_ms']['p50']:.0f} ms (p50).",
        "",
        "## Goals (`full` at 224×224)",
        "",
    ]
    for goal in data["goals"]:
        lines.append(
            f"- {goal['what']}: {goal['measured']:.0f} ms vs ≤ {goal['limit']:.0f} ms — "
            f"**{'met' if goal['met'] else 'NOT met'}**"
        )
    runs = ", ".join(f"{r['warmup_ms']:.0f} ms / {r['measure_s'] * 1e3:.0f} ms" for r in full["latency_runs"])
    one = data["full_latency_one_thread"]
    lines += [
        "",
        f"Latency runs of `full` (warm-up call / whole measurement): {runs}; its batch-1 median "
        f"{full['latency_result']['batch1_median_ms']:.1f} ms with {m['torch_threads']} threads.",
        f"The same with `torch.set_num_threads(1)`: measurement p50 {one['latency_measurement_ms']['p50']:.0f} ms / "
        f"max {one['latency_measurement_ms']['max']:.0f} ms, batch-1 median {one['batch1_median_ms']['p50']:.1f} ms "
        "(when another process holds a core, two intra-op threads wait on each other).",
    ]
    if all(r["measure_s"] * 1e3 - r["warmup_ms"] < 5 for r in full["latency_runs"]):
        lines.append(
            "Every `full` latency measurement above stopped after its warm-up call (a second call of that "
            "length would not have fit the 1.2 s budget), so the time bound held but its batch-1 number is that "
            "single cold, contended call (`batch1.cold`), not a warm median."
        )
    lines += ["", data["notes"], ""]
    return "\n".join(lines)


def plot(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["preset"] for r in data["presets"]]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    series = [
        (
            "analyze (uncached)",
            ["analyze_new_classes_ms", "analyze_new_widths_ms"],
            ["new num_classes", "new widths"],
            GOALS_MS["analyze_p95"],
        ),
        (
            "diagram build + SVG",
            ["diagram_svg_fresh_ms", "diagram_svg_cached_report_ms"],
            ["fresh config", "report cached"],
            GOALS_MS["diagram_p95"],
        ),
        (
            "latency measurement",
            ["latency_measurement_ms"],
            ["analyze(latency=True)"],
            GOALS_MS["latency_total"],
        ),
    ]
    for ax, (title, keys, labels, goal) in zip(axes, series):
        width = 0.8 / len(keys)
        for j, (key, label) in enumerate(zip(keys, labels)):
            p50 = [r[key]["p50"] for r in data["presets"]]
            p95 = [r[key]["p95"] for r in data["presets"]]
            xs = [i + j * width for i in range(len(names))]
            ax.bar(xs, p95, width, color=f"C{j}", alpha=0.35, label=f"{label} p95")
            ax.bar(xs, p50, width, color=f"C{j}", label=f"{label} p50")
        ax.axhline(goal, color="red", linestyle="--", linewidth=1, label=f"goal for full ({goal:.0f} ms)")
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, rotation=20)
        ax.set_title(title)
        ax.set_ylabel("ms")
        ax.legend(fontsize=7)
    m = data["machine"]
    fig.suptitle(
        f"idfy analysis speed — {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({data['date'][:10]}); "
        f"1-min load average {m['load_average_at_start'][0]:.1f} at start (other jobs on the machine)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, print only (no result files)")
    args = parser.parse_args(argv)
    n_an, n_dg, n_lat, n_ref = (6, 3, 1, 1) if args.quick else (40, 15, 5, 3)
    info = machine()

    t0 = time.perf_counter()
    from idfy import load_preset
    from idfy.analysis import analyze

    t1 = time.perf_counter()
    analyze(load_preset("full").replace(num_classes=999), device="cpu")
    cold = {"import_idfy_ms": (t1 - t0) * 1e3, "first_analyze_full_ms": (time.perf_counter() - t1) * 1e3}

    from idfy import list_presets

    presets = [bench_preset(n, n_an, n_dg, n_lat, 100 * i) for i, n in enumerate(list_presets())]
    reference = bench_reference(n_ref)
    single_thread = bench_single_thread(n_lat)
    full = next(r for r in presets if r["preset"] == "full")
    worst_analyze = max(full["analyze_new_classes_ms"]["p95"], full["analyze_new_widths_ms"]["p95"])
    goals = [
        {
            "what": "analyze p95, full, uncached (worst of the two variations)",
            "measured": worst_analyze,
            "limit": GOALS_MS["analyze_p95"],
        },
        {
            "what": "diagram build + SVG p95, full, config never seen (analysis included)",
            "measured": full["diagram_svg_fresh_ms"]["p95"],
            "limit": GOALS_MS["diagram_p95"],
        },
        {
            "what": "latency measurement, full, slowest run",
            "measured": full["latency_measurement_ms"]["max"],
            "limit": GOALS_MS["latency_total"],
        },
    ]
    for g in goals:
        g["met"] = g["measured"] <= g["limit"]
    data = {
        "command": "python " + " ".join(shlex.quote(a) for a in [str(Path(sys.argv[0])), *sys.argv[1:]]),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": info,
        "load_average_at_end": list(os.getloadavg()),
        "cold": cold,
        "goals_ms": GOALS_MS,
        "presets": presets,
        "reference": reference,
        "full_latency_one_thread": single_thread,
        "goals": goals,
        "notes": (
            "analyze builds the model on the CPU (or on meta when large), moves it to the meta device and traces "
            "one batch-1 forward with torch.utils.flop_counter's formulas: no arithmetic and no per-shape kernel "
            "warm-up, so new widths cost the same as new heads. Latency runs real forwards (budget 1.2 s inside "
            "the measurement; its first call pays oneDNN's per-shape set-up). Times include Python overhead and "
            "are sensitive to other processes on a 2-core machine: see the load average."
        ),
    }
    print(to_markdown(data))
    if not args.quick:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "analysis_speed.json").write_text(json.dumps(data, indent=2) + "\n")
        (RESULTS / "analysis_speed.md").write_text(to_markdown(data))
        plot(data, RESULTS / "analysis_speed.png")
        print(f"\nwrote {RESULTS / 'analysis_speed.json'}, .md and .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
