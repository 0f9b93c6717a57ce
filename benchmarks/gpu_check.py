"""On a GPU: the app's analysis and training paths on CUDA, the 60 s demo timed there, and the long Fashion-MNIST
run for as many epochs as the remaining minutes allow — one script, bounded to end within ``--limit`` seconds.

Checks (each recorded as ``{"ok": bool, ...}`` in the JSON):

* ``analysis``: :func:`idfy.analysis.analyze` of the demo design with latency on the device; its device label
  names the device (``cuda:0 (...)``) and the latency is measured there.
* ``training``: a few steps of :func:`idfy.train.train` on the device; the Start event names it, the first
  convolution runs under bf16 autocast (CUDA only: the CPU path runs in float32) on channels_last inputs.
* ``demo``: the demo exactly as ``python -m idfy train`` runs it (``TrainConfig()``, ``DEFAULT_PRESET``) on the
  device: steps, images/s, held-out metrics, wall time.
* ``fashion_long``: ``benchmarks/fashion_long.py`` on the device with the design ``--fashion-design`` (≤ 0.3 M
  parameters) for the Fashion-MNIST target (≥ 96.0 %), its wall-clock cap set to what is left of the limit.

Usage::

    python benchmarks/gpu_check.py                              # on a CUDA machine: about 9 minutes
    python benchmarks/gpu_check.py --device cpu --quick --out /tmp/gpu   # the CPU smoke run of the tests

Writes ``gpu_check.json`` (and the fashion_long files) into ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"
FASHION_DESIGN = "benchmarks/tuning/fmnist_small28.yaml"
LIMIT_S = 540.0  # the whole script
FASHION_CAP_S = 480.0  # the long run gets at most 8 minutes
MARGIN_S = 45.0  # fashion_long's start-up, final evaluation and files after its cap


def check_analysis(device: str) -> dict[str, Any]:
    from idfy.analysis import analyze
    from idfy.presets import load_preset
    from idfy.train.config import DEFAULT_PRESET

    rep = analyze(load_preset(DEFAULT_PRESET), input_size=64, device=device, latency=True)
    label = str(rep.device)
    return {"ok": label.startswith(device.split(":")[0]), "device": label, "latency": rep.latency}


def check_training(device: str, quick: bool) -> dict[str, Any]:
    """A few training steps with hooks on the first convolution: where and in what format it runs."""
    import torch

    from idfy.model import build_model
    from idfy.presets import load_preset
    from idfy.train import TrainConfig, adapt_config, train
    from idfy.train.events import Done, Failed, Start

    tc = TrainConfig(data="shapes", size=32 if quick else 64, n_train=64, n_test=16, batch_size=16, max_steps=3,
                     time_budget_s=None, eval_points=0, sample_every=0, checkpoint_every=0, device=device)  # fmt: skip
    cfg, _, _ = adapt_config(
        load_preset("demo"), task="localize", num_classes=7, channels=3, size=(tc.size,) * 2
    )
    model = build_model(cfg)
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    seen: dict[str, Any] = {}

    def hook(mod: Any, args: tuple[Any, ...], out: Any) -> None:
        if mod.training and "out_dtype" not in seen:
            seen["in_channels_last"] = bool(args[0].is_contiguous(memory_format=torch.channels_last))
            seen["out_dtype"] = str(out.dtype)

    conv.register_forward_hook(hook)
    row: dict[str, Any] = {}
    for ev in train(cfg, tc, model=model):
        if isinstance(ev, Start):
            row["device"] = ev.device
        elif isinstance(ev, Done):
            row["steps"] = ev.step
        elif isinstance(ev, Failed):
            row["error"] = ev.message
    cuda = device.startswith("cuda")
    want_dtype = "torch.bfloat16" if cuda else "torch.float32"
    row.update(seen, expected={"device": device, "out_dtype": want_dtype, "in_channels_last": True})
    row["ok"] = (
        "error" not in row
        and row.get("device", "").startswith(device.split(":")[0])
        and seen.get("out_dtype") == want_dtype
        and seen.get("in_channels_last") is True
    )
    return row


def time_demo(device: str, quick: bool) -> dict[str, Any]:
    import statistics

    from idfy.presets import load_preset
    from idfy.train import TrainConfig, train
    from idfy.train.config import DEFAULT_PRESET
    from idfy.train.events import Done, Failed, Start, Step

    tc = TrainConfig(device=device, checkpoint_every=0, sample_every=0)
    if quick:
        tc = tc.replace(data="shapes", size=32, n_train=128, n_test=32, eval_subset=16, batch_size=16,
                        time_budget_s=3.0)  # fmt: skip
    row: dict[str, Any] = {"preset": DEFAULT_PRESET, "train_config": tc.to_dict()}
    speeds: list[float] = []
    t0 = time.perf_counter()
    for ev in train(load_preset(DEFAULT_PRESET), tc):
        if isinstance(ev, Start):
            row["device"], row["params"] = ev.device, ev.num_params
        elif isinstance(ev, Step):
            speeds.append(ev.images_per_s)
        elif isinstance(ev, Done):
            row["steps"] = ev.step
            row["metrics"] = {k: v for k, v in ev.metrics.items() if k != "per_class"}
        elif isinstance(ev, Failed):
            row["error"] = ev.message
    row["wall_s"] = round(time.perf_counter() - t0, 2)
    row["images_per_s"] = round(statistics.median(speeds), 1) if speeds else None
    row["ok"] = "metrics" in row
    return row


def run_fashion_long(device: str, quick: bool, cap_s: float, out: Path, design: str) -> dict[str, Any]:
    """``fashion_long.py`` in a child process with a wall-clock cap (its schedule anneals to the cap)."""
    if cap_s < 30:
        return {"ok": False, "skipped": f"only {cap_s:.0f} s left of the limit"}
    cmd = [sys.executable, str(ROOT / "benchmarks" / "fashion_long.py"), "--design", str(ROOT / design),
           "--device", device, "--hours", f"{cap_s / 3600:.5f}", "--out", str(out)]  # fmt: skip
    cmd += ["--epochs", "1", "--n-train", "512", "--threads", "2"] if quick else ["--epochs", "200"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=cap_s + MARGIN_S, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"did not finish within {cap_s + MARGIN_S:.0f} s", "command": cmd}
    row: dict[str, Any] = {
        "command": cmd,
        "returncode": proc.returncode,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    if proc.returncode != 0:
        row["error"] = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        row["ok"] = False
        return row
    stem = "fashion_long_" + Path(design).stem
    payload = json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))
    row.update(
        ok=True,
        device=payload["device_used"],
        params=payload["params"],
        epochs=round(payload["epochs_done"], 2),
        best_accuracy=payload["best_accuracy"],
        target_met=payload["best_accuracy"] >= 0.96 and payload["params"] <= 300_000,
        files=[f"{stem}.json", f"{stem}.md", f"{stem}.png"],
    )
    return row


def _guarded(name: str, fn: Any, *args: Any) -> dict[str, Any]:
    """One check; an exception becomes its row (the other checks still run), the traceback goes to stderr."""
    t0 = time.perf_counter()
    try:
        row = fn(*args)
    except Exception as e:  # a failed check is a result, not the end of the script
        traceback.print_exc()
        row = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    row["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"{name}: {'ok' if row.get('ok') else 'FAILED'} ({row['seconds']} s)", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    p.add_argument("--quick", action="store_true", help="smoke run: tiny data, seconds per check")
    p.add_argument("--limit", type=float, default=LIMIT_S, help="seconds for the whole script (default 540)")
    p.add_argument("--fashion-design", default=FASHION_DESIGN, help="design of the long Fashion-MNIST run")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    t0 = time.perf_counter()

    import torch
    from _meta import machine_info

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(
            "gpu_check: CUDA is not available here; run it on a GPU machine or pass --device cpu",
            file=sys.stderr,
        )
        return 2
    if args.device == "cpu":
        torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {
        "command": "python benchmarks/gpu_check.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine_info(),
        "device": args.device,
        "limit_s": args.limit,
    }
    res["analysis"] = _guarded("analysis", check_analysis, args.device)
    res["training"] = _guarded("training", check_training, args.device, args.quick)
    res["demo"] = _guarded("demo", time_demo, args.device, args.quick)
    left = args.limit - (time.perf_counter() - t0) - MARGIN_S
    cap = min(FASHION_CAP_S, left)
    res["fashion_long"] = _guarded(
        "fashion_long", run_fashion_long, args.device, args.quick, cap, args.out, args.fashion_design
    )
    res["total_s"] = round(time.perf_counter() - t0, 1)
    res["ok"] = all(res[k].get("ok") for k in ("analysis", "training", "demo", "fashion_long"))
    (args.out / "gpu_check.json").write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps({k: res[k] for k in ("ok", "total_s")}))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
