"""``python -m idfy summary PRESET_OR_YAML``: per-stage table, totals, MACs / FLOPs, memory (and optionally
latency, a torchinfo layer table, a counter cross-check and a diagram file)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from idfy.analysis import Report, analyze, human_bytes, human_count
from idfy.analysis.units import shape_text
from idfy.presets import load_preset
from idfy.viz.diagram import diagram, render
from idfy.viz.terms import short

_FORMATS = ("svg", "png", "pdf", "dot")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config", metavar="PRESET_OR_YAML", help="preset name (e.g. seed_model2) or a .yaml file"
    )
    parser.add_argument("--size", type=int, nargs="+", metavar="PX", help="input size: H (square) or H W")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:N")
    parser.add_argument("--batch-size", type=int, default=32, help="batch of the training-memory estimate")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--diagram", metavar="FILE", help="also write the diagram (.svg, .png, .pdf or .dot)")
    parser.add_argument(
        "--detail", default="stages", choices=("stages", "blocks", "layers"), help="diagram detail"
    )
    parser.add_argument("--latency", action="store_true", help="measure latency (about 1.5 s)")
    parser.add_argument(
        "--layers", type=int, metavar="DEPTH", help="add torchinfo's per-layer table to DEPTH"
    )
    parser.add_argument(
        "--cross-check", action="store_true", help="count with FlopCounterMode and fvcore too"
    )


def _size(values: list[int] | None) -> tuple[int, int] | None:
    if not values:
        return None
    if len(values) > 2:
        raise ValueError("--size takes one value (square) or two (height width)")
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])


def format_report(r: Report, description: str = "") -> str:
    """The human-readable summary printed by the command."""
    lines = [f"{r.name}" + (f" — {description}" if description else "")]
    lines.append(
        f"input {shape_text(r.input_shape)} · output {shape_text(r.output_shape)} · device {r.device} · "
        f"fingerprint {r.fingerprint}"
    )
    main = [r.input_shape] + [s.out_shape for s in r.stages if s.name.startswith("stages.")]
    lines.append("stage outputs: " + " → ".join(shape_text(s) for s in main) + "\n")
    head = f"{'part':<12}{'input':>14}{'output':>14}{'injected':>12}{'params':>12}{'MACs':>10}{'RF px':>9}"
    lines += [head + f"{'jump':>6}{'act b=1':>11}", "-" * (len(head) + 17)]
    for s in r.stages:
        rf = f"{s.rf}{'+g' if s.rf_global else ''}"
        lines.append(
            f"{s.name:<12}{shape_text(s.in_shape):>14}{shape_text(s.out_shape):>14}{shape_text(s.inject_shape):>12}"
            f"{s.params:>12,}{human_count(s.macs):>10}{rf:>9}{s.jump:>6}{human_bytes(s.act_bytes):>11}"
        )
    lines.append(f"{'total':<52}{r.params_total:>12,}{human_count(r.macs):>10}")
    lines += table_footnote()
    lines.append("")
    paths = " · ".join(f"{k} {v:,}" for k, v in r.params_by_path.items() if v)
    lines.append(f"params   {r.params_total:,} ({r.params_trainable:,} trainable); by path: {paths}")
    mpaths = " · ".join(f"{k} {human_count(v)}" for k, v in r.macs_by_path.items() if v)
    lines.append(f"compute  {r.macs:,} MACs = {r.flops:,} FLOPs at batch 1; MACs by path: {mpaths}")
    m = r.memory
    lines.append(
        f"memory   training at batch {r.batch_size}, fp32: weights {human_bytes(m['weights'])} + grads "
        f"{human_bytes(m['grads'])} + AdamW {human_bytes(m['optimizer'])} + activations "
        f"{human_bytes(m['activations'])} = {human_bytes(m['total'])}"
    )
    if r.latency:
        lines += ["", *_latency_lines(r.latency)]
    if r.cross_check:
        lines += ["", *_cross_check_lines(r.cross_check)]
    if r.layers:
        lines += ["", *_layer_lines(r.layers)]
    lines += ["", "conventions:"]
    for key in ("macs", "flops", "receptive_field", "activations", "memory"):
        lines.append(f"  {r.conventions[key]}")
    lines.append(f"  not counted by the MAC counter (zero cost): {', '.join(r.uncounted_ops) or 'none'}")
    return "\n".join(lines)


def table_footnote() -> list[str]:
    """The lines under the per-stage table that spell out its short column terms (``RF px``, ``+g``,
    ``jump``, ``act b=1``; :mod:`idfy.viz.terms`), each line indented so it never reads as a table row."""
    return [
        "  " + " · ".join(short(t) for t in ("RF", "jump")),
        "  " + short("+g"),
        "  " + short("act b=1"),
    ]


def _latency_lines(lat: dict) -> list[str]:
    b1 = lat["batch1"]
    out = [
        f"latency  ({lat['device']}, {lat['threads']} threads) batch 1: median {b1['median_ms']:.2f} ms, "
        f"p90 {b1['p90_ms']:.2f} ms ({b1['runs']} runs{', cold: the warm-up call only' if b1.get('cold') else ''})"
    ]
    bn = lat.get("batchN")
    if bn and "skipped" in bn:
        out.append(f"         batch {bn['batch']}: skipped ({bn['skipped']})")
    elif bn:
        out.append(
            f"         batch {bn['batch']}: median {bn['median_ms']:.2f} ms, p90 {bn['p90_ms']:.2f} ms "
            f"({bn['per_image_ms']:.2f} ms / image, {bn['runs']} runs)"
        )
    stages = " · ".join(f"{k} {v:.2f}" for k, v in lat.get("per_stage_ms", {}).items())
    out.append(f"         per part (ms, batch 1): {stages or lat.get('per_stage_skipped', '–')}")
    out.append(f"         warm-up call {lat['warmup_ms']:.0f} ms; measured in {lat['elapsed_s']:.2f} s")
    return out


def _cross_check_lines(cc: dict) -> list[str]:
    return [
        f"cross-check  flop_counter {cc['flop_counter_macs']:,} MACs · fvcore {cc['fvcore_macs']:,} MACs "
        f"(rel. diff {cc['rel_diff']:.2%}; conv/linear/matmul only {cc['fvcore_macs_same_ops']:,}, "
        f"{cc['rel_diff_same_ops']:.2%})",
        f"             fvcore skips: {', '.join(cc['fvcore_skipped_ops']) or 'none'}",
        f"             fvcore also counts: {', '.join(cc['fvcore_extra_ops']) or 'nothing else'}",
        f"             flop_counter skips: {', '.join(cc['flop_counter_skipped_ops']) or 'none'}",
    ]


def _layer_lines(layers: list[dict]) -> list[str]:
    out = [f"{'layer (torchinfo)':<44}{'class':<22}{'output':>16}{'params':>12}{'MACs':>10}"]
    for row in layers:
        name = "  " * max(0, row["depth"] - 1) + (row["name"] or "(model)")
        out.append(
            f"{name[:43]:<44}{row['class'][:21]:<22}{shape_text(row['out_shape']):>16}{row['params']:>12,}"
            f"{human_count(row['macs']):>10}"
        )
    return out


def run(args: argparse.Namespace) -> int:
    cfg = load_preset(args.config)
    report = analyze(
        cfg,
        _size(args.size),
        args.device,
        latency=args.latency,
        batch_size=args.batch_size,
        layer_depth=args.layers,
        cross_check=args.cross_check,
    )
    if args.diagram:
        path = Path(args.diagram)
        fmt = path.suffix.lstrip(".").lower()
        if fmt not in _FORMATS:
            raise ValueError(f"--diagram {args.diagram!r}: use a .svg, .png, .pdf or .dot file name")
        sized = cfg if args.size is None else cfg.set("input.size", list(_size(args.size) or ()))
        dot = diagram(sized, args.detail, report=report)
        path.write_bytes(dot.source.encode() if fmt == "dot" else render(dot, fmt))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report, cfg.description))
        if args.diagram:
            print(f"\ndiagram ({args.detail}) written to {args.diagram}")
    return 0
