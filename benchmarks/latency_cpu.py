"""Batch-1 (and batch-N) CPU latency at 224×224: idfy presets against timm baselines, interleaved in one run.

Every round times each model once, in a new random order, so slow drifts of a shared machine hit all models
alike; the table reports the median over rounds and the ratio to ``mobilenetv3_small_100`` (target (c) of the
evidence issue: an idfy preset no slower than it).

    python benchmarks/latency_cpu.py --rounds 40 --threads 1
    python benchmarks/latency_cpu.py --batch 8 --rounds 10

Writes benchmarks/results/latency_cpu_b{batch}.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import machine_info

import idfy
from idfy.presets import is_design

REFERENCE = "mobilenetv3_small_100"
IDFY = ("tiny", "tiny_tuned", "small", "small_tuned", "medium", "full", "seed_model2")
TIMM = ("mobilenetv3_small_100", "ghostnet_100", "resnet18", "efficientnet_b0")


def build(name: str) -> torch.nn.Module:
    if is_design(name):
        return idfy.build_model(
            idfy.load_preset(name).set("input.size", [224, 224]).replace(num_classes=10)
        ).eval()
    import timm

    return timm.create_model(name, pretrained=False, num_classes=14).eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--models", default=",".join(IDFY + TIMM), help="presets, design YAML paths or timm names"
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    models = {n: build(n) for n in names}
    x = torch.rand(args.batch, 3, 224, 224)
    times: dict[str, list[float]] = {n: [] for n in names}
    rng = random.Random(0)
    with torch.inference_mode():
        for m in models.values():  # warm-up: allocator, oneDNN kernel choice
            m(x)
            m(x)
        for _ in range(args.rounds):
            order = names[:]
            rng.shuffle(order)
            for n in order:
                t = time.perf_counter()
                models[n](x)
                times[n].append((time.perf_counter() - t) * 1e3)
    ref = statistics.median(times[REFERENCE]) if REFERENCE in times else None
    rows = []
    for n in names:
        med = statistics.median(times[n])
        q = statistics.quantiles(times[n], n=10)
        rows.append(
            {
                "model": n,
                "family": "idfy" if is_design(n) else "timm",
                "median_ms": med,
                "p10_ms": q[0],
                "p90_ms": q[-1],
                "ratio_to_reference": med / ref if ref else None,
            }
        )
    meta = machine_info()
    meta["command"] = "python benchmarks/latency_cpu.py " + " ".join(sys.argv[1:])
    lines = [
        f"`{meta['command']}` — {meta['machine']}, {args.threads} torch thread(s), torch {meta['torch']}, {meta['date']}",
        "",
        f"| model | median (ms) | p10–p90 (ms) | × {REFERENCE} |",
        "|---|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: r["median_ms"]):
        ratio = "—" if r["ratio_to_reference"] is None else f"{r['ratio_to_reference']:.2f}"
        lines.append(
            f"| {r['model']} ({r['family']}) | {r['median_ms']:.2f} | {r['p10_ms']:.1f}–{r['p90_ms']:.1f} | {ratio} |"
        )
    text = "\n".join(lines)
    print(text)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    payload = {**meta, "batch": args.batch, "threads": args.threads, "rounds": args.rounds, "rows": rows}
    (out / f"latency_cpu_b{args.batch}.json").write_text(json.dumps(payload, indent=2))
    (out / f"latency_cpu_b{args.batch}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
