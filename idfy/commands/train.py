"""``python -m idfy train``: train a preset or config on a dataset, writing a run folder.

Also runs data-parallel under ``torchrun --nproc-per-node N -m idfy train ...`` (only rank 0 prints).
Ctrl-C stops the run cleanly (final evaluation, checkpoint, plots); a second Ctrl-C aborts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from idfy.config import ModelConfig
from idfy.config_io import load_yaml
from idfy.presets import load_config_file, load_preset
from idfy.train import train
from idfy.train.chance import Chance, verdict
from idfy.train.checkpoint import write_error_text
from idfy.train.config import DEFAULT_PRESET, TrainConfig, eval_fractions
from idfy.train.events import Done, Failed, Start, Step
from idfy.train.optim import OPTIMIZERS, SUGGESTED_LR
from idfy.train.progress import ConsoleProgress

__all__ = ["add_arguments", "run"]


def _off(value: float | None) -> str:
    """A default that 0 (or unset) turns off, as the help says it."""
    return f"{value:g}" if value else "0: off"


def _limit(value: float | None) -> str:
    """A run limit's default, as the help says it (None: not a limit)."""
    return f"default {value:g}" if value is not None else "default: none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options; every default the help names is :class:`TrainConfig`'s (a ``--train-config``
    YAML replaces them)."""
    tc = TrainConfig()
    lrs = ", ".join(f"{name} {lr:g}" for name, lr in SUGGESTED_LR.items())
    m = parser.add_argument_group("model")
    m.add_argument(
        "--preset", default=None, help=f"preset name or YAML path (default: the demo's, {DEFAULT_PRESET})"
    )
    m.add_argument("--config", metavar="YAML", help="model config YAML (overrides --preset)")
    m.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="change one model option, e.g. --set stages.0.inject=false (repeatable; YAML values)")  # fmt: skip
    d = parser.add_argument_group("data")
    d.add_argument("--data", default=None, help=f"{tc.data} (default), shapes, fashion-mnist or a path")
    d.add_argument(
        "--data-dir", default=None, help="where the Fashion-MNIST files (or relative user data) are"
    )
    d.add_argument("--size", type=int, default=None, help=f"input side in pixels (default {tc.size})")
    d.add_argument("--n-train", type=int, default=None, help="number of training images (default: the set's)")
    d.add_argument("--n-test", type=int, default=None, help="number of held-out images (default: the set's)")
    t = parser.add_argument_group(
        "training", "Defaults are the demo's (idfy.train.TrainConfig); with --train-config, that file's."
    )
    t.add_argument("--train-config", metavar="YAML", help="a train.yaml to start from (flags override it)")
    t.add_argument("--time", type=float, default=None, dest="time_budget_s",
                   help=f"time budget in seconds ({_limit(tc.time_budget_s)}; --epochs or --max-steps without --time replaces it)")  # fmt: skip
    t.add_argument("--epochs", type=int, default=None,
                   help=f"passes over the training images ({_limit(tc.epochs)})")  # fmt: skip
    t.add_argument("--max-steps", type=int, default=None,
                   help=f"training steps ({_limit(tc.max_steps)})")  # fmt: skip
    t.add_argument("--batch-size", type=int, default=None, help=f"images per step (default {tc.batch_size})")
    t.add_argument(
        "--lr",
        type=float,
        default=None,
        help=f"peak learning rate (default: the one measured for --optimizer: {lrs})",
    )
    t.add_argument("--weight-decay", type=float, default=None,
                   help=f"weight decay (default {tc.weight_decay:g})")  # fmt: skip
    t.add_argument("--optimizer", choices=list(OPTIMIZERS), default=None,
                   help=f"muon: Muon for the conv and linear weights, AdamW for the output layer, norms and "
                   f"biases; adamw; sgd (Nesterov) (default {tc.optimizer})")  # fmt: skip
    t.add_argument("--schedule", choices=["cosine", "onecycle", "constant"], default=None,
                   help=f"learning-rate schedule over the run (default {tc.schedule})")  # fmt: skip
    t.add_argument("--warmup", type=int, default=None,
                   help=f"steps of linear warm-up (default {tc.warmup}; cosine and constant schedules)")  # fmt: skip
    t.add_argument("--grad-clip", type=float, default=None,
                   help=f"clip the gradient norm to this value (default {_off(tc.grad_clip)}; 0 turns it off)")  # fmt: skip
    t.add_argument("--seed", type=int, default=None,
                   help=f"seed of the weights, the batch order and the augmentation (default {tc.seed})")  # fmt: skip
    t.add_argument("--deterministic", action="store_true", default=None, help="reproducible (slower) kernels")
    t.add_argument("--no-augment", action="store_false", dest="augment", default=None,
                   help=f"turn off the random horizontal flips (default: {'on' if tc.augment else 'off'}); "
                   "shifts (--translate) and erasing (--erase) are separate options and stay as given")  # fmt: skip
    t.add_argument("--translate", type=float, default=None,
                   help=f"random shifts up to this fraction of the side, e.g. 0.1 (default {_off(tc.translate)})")  # fmt: skip
    t.add_argument("--erase", type=float, default=None,
                   help=f"random-erasing probability per image, e.g. 0.5 (default {_off(tc.erase)})")  # fmt: skip
    t.add_argument("--low-res", type=float, default=None, metavar="F",
                   help="progressive resizing: the first part of the run trains at F x the input side "
                        f"(e.g. 0.75; default {tc.low_res:g}{': off' if tc.low_res == 1 else ''})")  # fmt: skip
    t.add_argument("--low-res-until", type=float, default=None, metavar="F",
                   help=f"the fraction of the run trained at the lower side (default {tc.low_res_until:g})")  # fmt: skip
    t.add_argument(
        "--no-amp", action="store_false", dest="amp", default=None, help="no bf16 autocast on CUDA"
    )
    t.add_argument("--eval-every", type=int, default=None,
                   help=f"steps between held-out evaluations (default {tc.eval_every}; 0: none counted in steps); a "
                   f"time budget also evaluates at {len(eval_fractions(tc.eval_points))} evenly spaced points, and "
                   "every run evaluates at its end")  # fmt: skip
    t.add_argument("--sample-every", type=int, default=None,
                   help=f"steps between sample predictions (default {tc.sample_every}; 0: none during the run)")  # fmt: skip
    t.add_argument("--checkpoint-every", type=int, default=None,
                   help=f"steps between last.pt checkpoints (default {tc.checkpoint_every}; 0: none during the run; the end "
                   "always writes last.pt)")  # fmt: skip
    t.add_argument("--log-every", type=int, default=None,
                   help=f"steps between progress lines (default {tc.log_every})")  # fmt: skip
    t.add_argument("--device", default=None, help=f"{tc.device} (default), cpu, cuda, cuda:1, ...")
    o = parser.add_argument_group("output")
    o.add_argument("--out", default=None, help="run folder (default runs/<preset>-<data>-<size>-<time>)")
    o.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    o.add_argument("--no-bar", action="store_true", help="plain lines even on a terminal")


_TRAIN_FLAGS = (
    "data", "data_dir", "size", "n_train", "n_test", "time_budget_s", "epochs", "max_steps", "batch_size", "lr",
    "weight_decay", "optimizer", "schedule", "warmup", "grad_clip", "seed", "deterministic", "augment", "translate",
    "erase", "low_res", "low_res_until", "amp",
    "eval_every", "sample_every", "checkpoint_every", "log_every", "device",
)  # fmt: skip


def _train_config(args: argparse.Namespace) -> TrainConfig:

    base = TrainConfig()
    if args.train_config:
        base = TrainConfig.from_yaml(Path(args.train_config).read_text(encoding="utf-8"))
    changes = {k: getattr(args, k) for k in _TRAIN_FLAGS if getattr(args, k) is not None}
    if "optimizer" in changes and "lr" not in changes and not args.train_config:
        changes["lr"] = SUGGESTED_LR[changes["optimizer"]]  # the rate measured for that optimizer
    if "grad_clip" in changes and changes["grad_clip"] <= 0:
        changes["grad_clip"] = None
    limits = ("time_budget_s", "epochs", "max_steps")
    if not args.train_config and any(k in changes for k in limits):
        # an explicit limit replaces the default 60 s budget instead of adding to it
        changes = {**{k: None for k in limits}, **changes}
    return base.replace(**changes)


def model_config(args: argparse.Namespace) -> ModelConfig:
    """The design from --config / --preset plus every --set KEY=VALUE."""

    cfg = load_config_file(args.config) if args.config else load_preset(args.preset or DEFAULT_PRESET)
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. --set stages.0.inject=false")
        cfg = cfg.set(key.strip(), load_yaml(value))
    return cfg


def _default_out(cfg: ModelConfig, tc: TrainConfig) -> Path:
    data = Path(tc.data).name or "data"
    return Path("runs") / f"{cfg.name}-{data}-{tc.size}-{time.strftime('%Y%m%d-%H%M%S')}"


def run(args: argparse.Namespace) -> int:

    tc = _train_config(args)
    cfg = model_config(args)
    if args.resume and not args.out:
        raise ValueError("--resume needs --out RUN_FOLDER (the folder holding last.pt)")
    out = Path(args.out) if args.out else _default_out(cfg, tc)
    main_rank = int(os.environ.get("RANK", "0")) == 0
    show = ConsoleProgress(bar=False if args.no_bar else None) if main_rank else None
    stop = threading.Event()
    restore = install_sigint(stop)
    code, step = 1, 0
    t0, speeds = time.perf_counter(), []
    chance = None
    try:
        for ev in train(cfg, tc, out_dir=out, resume=args.resume, stop=stop):
            step = getattr(ev, "step", 0)
            if show is not None:
                show(ev)
            if isinstance(ev, Start):
                chance = ev.chance
            if isinstance(ev, Step):
                speeds.append(ev.images_per_s)
            if isinstance(ev, Done):
                code = 0
                if main_rank and ev.out_dir:
                    _write_summary(Path(ev.out_dir), ev, speeds, time.perf_counter() - t0, chance)
            elif isinstance(ev, Failed):
                code = 1
    except Exception as e:  # an unforeseen error: one line here, the traceback in the run folder
        print(f"failed at step {step}: {_unexpected(e, out)}", file=sys.stderr)
        code = 1
    finally:
        restore()
    return code


def _unexpected(e: Exception, out: Path) -> str:
    """Log ``e``'s traceback to ``out/error.log`` (a temporary file if that fails); one line saying where."""

    if isinstance(e, OSError):
        return f"{write_error_text(e)}; fix that and rerun (with --resume when last.pt exists)"
    rank = os.environ.get("RANK", "0")
    text = "".join(traceback.format_exception(e))
    try:
        log = out / ("error.log" if rank == "0" else f"error-rank{rank}.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(text, encoding="utf-8")
    except OSError:
        fd, name = tempfile.mkstemp(prefix="idfy-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        log = Path(name)
    return f"unexpected {type(e).__name__} inside idfy; the traceback is in {log} (please report it)"


def _write_summary(
    out: Path, done: Any, speeds: list[float], wall_s: float, chance: Chance | None = None
) -> None:
    """``summary.json`` beside ``metrics.csv``: the final held-out metrics (full split), steps, images/s
    (median of the progress windows), the wall time from the start of the command to the end, and the held-out
    set's chance level with the verdict (did the model beat it, by how much)."""
    v = verdict(done.metrics, chance) if chance is not None else None

    summary = {
        "reason": done.reason,
        "steps": done.step,
        "images_per_s": round(statistics.median(speeds), 1) if speeds else None,
        "train_s": round(done.elapsed, 2),
        "wall_s": round(wall_s, 2),
        "metrics": {k: v for k, v in done.metrics.items() if k != "per_class"},
        "per_class": done.metrics.get("per_class", {}),
        "checkpoint": done.checkpoint,
        "chance": chance.to_dict() if chance is not None else None,
        "verdict": {"beat": v.beat, "margin": v.margin, "p_value": v.p_value, "text": v.text} if v else None,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def install_sigint(stop: threading.Event) -> Any:
    """First Ctrl-C sets ``stop`` (a clean finish); a second raises KeyboardInterrupt. Returns an undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after this step (Ctrl-C again to abort)", flush=True)

    old = signal.signal(signal.SIGINT, handler)
    return lambda: signal.signal(signal.SIGINT, old)
