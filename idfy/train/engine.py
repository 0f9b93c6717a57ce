"""Training as a generator of progress events.

>>> from idfy import load_preset
>>> from idfy.train import TrainConfig, train
>>> for event in train(load_preset("tiny"), TrainConfig(data="shapes", size=64, time_budget_s=30)):
...     print(event)

The loop follows airbench / nanoGPT habits: the whole dataset lives on the device as one uint8 tensor,
batches are cut and augmented by tensor ops (:func:`idfy.data.iterate_batches`), losses are summed on the
device and read back only every ``log_every`` steps (the only host sync), channels_last, bf16 autocast on
CUDA. Under ``torchrun`` it trains with DistributedDataParallel (see :mod:`idfy.train.distributed`).

The model config is adapted to the data: ``task``, ``num_classes``, ``input.size`` and ``input.channels``
(when the design cannot take the data's channel count, e.g. groups=3 in the first conv with grey images,
the images are converted instead).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from idfy.config import ConfigError, ModelConfig
from idfy.data.classes import align_classes
from idfy.model import build_model
from idfy.train.checkpoint import (
    CheckpointError,
    capture_rng,
    load_checkpoint,
    load_model_weights,
    model_config_of,
    remove_stale_temporaries,
    restore_rng,
    save_checkpoint,
    write_error_text,
)
from idfy.train.checks import trainability_problem
from idfy.train.config import TrainConfig, adapt_config, eval_fractions, resolve_device
from idfy.train.distributed import DistInfo, all_reduce_max, all_reduce_sum, cleanup, init_from_env, shard
from idfy.train.events import Checkpoint, Done, Eval, Event, Failed, Samples, Start, Step
from idfy.train.losses import compute_loss
from idfy.train.metrics import evaluate, predict_batches
from idfy.train.optim import build_optimizer, lr_factor, progress

__all__ = [
    "Checkpoint",
    "Done",
    "Eval",
    "Event",
    "Failed",
    "Samples",
    "Start",
    "Step",
    "TrainConfig",
    "adapt_config",
    "evaluate",
    "make_data",
    "resolve_device",
    "train",
]

_NO_BAD_STEP = 2**62
log = logging.getLogger(__name__)


def train(
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    *,
    out_dir: str | Path | None = None,
    resume: bool = False,
    stop: threading.Event | None = None,
    data: tuple[Any, Any] | None = None,
    model: nn.Module | None = None,
    clock: Callable[[], float] | None = None,
) -> Iterator[Event]:
    """Train ``model_cfg`` as ``train_cfg`` says, yielding :mod:`idfy.train.events` as it goes.

    Args:
        model_cfg: the design; adapted to the data (see :func:`adapt_config`). On ``resume`` the checkpoint's
            design is used.
        train_cfg: the run's settings.
        out_dir: run folder for ``config.yaml``, ``train.yaml``, ``metrics.csv``, plots, ``best.pt``, ``last.pt``;
            None writes nothing.
        resume: continue from ``out_dir/last.pt`` (model, optimizer, schedule, RNG and data order).
        stop: set it (from another thread) to end the run cleanly after the current step.
        data: ``(train_set, test_set)`` ImageSets to use instead of ``make_dataset(train_cfg.data, ...)``.
        model: a network to train instead of ``build_model(model_cfg)`` — e.g. a timm baseline trained with the
            same recipe. It must map (B, C, H, W) in [0, 1] to (B, 4 + C) for localization data or (B, C) for
            classification, C = the data's classes; ``model_cfg`` then only names the run.
        clock: seconds for the time budget, the schedule and images/s (default ``time.perf_counter``); a
            clock that advances only while this run computes lets several runs share a CPU fairly
            (:mod:`idfy.train.race`).

    Yields:
        ``Start``, then ``Step`` / ``Eval`` / ``Samples`` / ``Checkpoint``, then one ``Done`` or ``Failed``.
    """
    run = _Run(model_cfg, train_cfg, out_dir, resume, stop, data, model, clock)
    yield from run.events()


class _GlobalState:
    """Process-wide switches a deterministic / CUDA run changes, restored when the run ends."""

    def __init__(self) -> None:
        self.det = torch.are_deterministic_algorithms_enabled()
        self.warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
        self.benchmark = torch.backends.cudnn.benchmark
        self.cudnn_det = torch.backends.cudnn.deterministic

    def restore(self) -> None:
        torch.use_deterministic_algorithms(self.det, warn_only=self.warn_only)
        torch.backends.cudnn.benchmark = self.benchmark
        torch.backends.cudnn.deterministic = self.cudnn_det


class _Run:
    """One training run; :meth:`events` drives it."""

    def __init__(
        self,
        model_cfg: ModelConfig,
        tc: TrainConfig,
        out_dir: str | Path | None,
        resume: bool,
        stop: threading.Event | None,
        data: tuple[Any, Any] | None,
        model: nn.Module | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.clock = clock or time.perf_counter
        self.t_run = self.clock()  # the budget's clock runs from here: data preparation and model build count
        self.custom_model = model
        self.model_cfg = model_cfg
        self.tc = tc
        self.out = Path(out_dir) if out_dir is not None else None
        self.resume = resume
        self.stop = stop
        self.data = data
        self.dist = DistInfo()
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.elapsed0 = 0.0
        self.best_score: tuple[float, float] | None = None
        self.last_metrics: dict[str, Any] = {}
        self.last_samples: Samples | None = None
        self.best_path: Path | None = None
        self.last_good: tuple[int, Path] | None = None
        self.runlog: Any = None
        self.reason: str | None = None
        self.lr = 0.0

    # ------------------------------------------------------------------ driver
    def events(self) -> Iterator[Event]:
        saved = _GlobalState()
        try:
            try:
                start = self._setup()
            except (ConfigError, ValueError, FileNotFoundError) as e:
                yield Failed(message=str(e))
                return
            except OSError as e:
                yield Failed(message=self._io_failure(e))
                return
            yield start
            try:
                yield from self._loop()
            except torch.OutOfMemoryError:
                yield Failed(
                    message=f"out of memory on {self.device} at batch size {self.tc.batch_size} and "
                    f"{self.tc.size}px inputs; lower --batch-size or --size, or pick a smaller preset",
                    step=self.step,
                )
            except OSError as e:
                yield Failed(message=self._io_failure(e), step=self.step)
        finally:
            saved.restore()
            cleanup(self.dist)

    # ------------------------------------------------------------------ setup
    def _setup(self) -> Start:
        tc = self.tc
        tc.validate()
        if self.resume and self.out is None:
            raise ValueError("resume needs the run folder (out_dir / --out) that holds last.pt")
        self.device = resolve_device(tc.device)
        self.dist = init_from_env(self.device)
        if self.device.type == "cuda" and self.dist.enabled:
            self.device = torch.device("cuda", self.dist.local_rank)
        if self.dist.enabled and tc.batch_size < self.dist.world_size:
            raise ValueError(
                f"batch_size={tc.batch_size} is smaller than the {self.dist.world_size} processes"
            )
        cuda = self.device.type == "cuda"
        if tc.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            # CPU: every op used has a deterministic kernel; CUDA lacks some (pooling/bicubic backward): warn
            torch.use_deterministic_algorithms(True, warn_only=cuda)
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
        elif cuda:
            torch.backends.cudnn.benchmark = True
        self.amp = tc.amp and cuda
        self.channels_last = tc.channels_last  # on CPUs too: 20-30 % faster steps there (oneDNN)
        _seed_everything(tc.seed)

        notes: list[str] = []
        train_set, test_set = self.data if self.data is not None else make_data(tc)
        if len(train_set) < tc.batch_size:
            notes.append(f"batch size lowered from {tc.batch_size} to the {len(train_set)} training images")
            self.tc = tc = tc.replace(batch_size=len(train_set))
        self.task = train_set.task
        self.classes = list(train_set.classes)
        size = (tc.size, tc.size)
        cfg, self.feed_channels, more = adapt_config(
            self.model_cfg,
            task=self.task,
            num_classes=len(self.classes),
            channels=train_set.channels,
            size=size,
        )
        notes += more
        ckpt = None
        if self.resume:
            assert self.out is not None
            last = self.out / "last.pt"
            if not last.is_file():
                what = "is a folder, not a checkpoint file" if last.is_dir() else "does not exist"
                raise FileNotFoundError(f"{last} {what}: nothing to resume; start the run without --resume")
            ckpt = load_checkpoint(last, map_location=self.device, resume=True)
            notes += ckpt["notes"]
            stored = self._stored_config(ckpt)
            if stored.fingerprint() != cfg.fingerprint():
                notes.append("resuming with the checkpoint's model config (it differs from the one given)")
            cfg = stored
            self.feed_channels = int(ckpt.get("data_channels", cfg.input.channels))
            if ckpt.get("classes"):  # labels must mean the classes the weights learnt: matched by name
                train_set = align_classes(train_set, ckpt["classes"])
                test_set = align_classes(test_set, ckpt["classes"])
                self.classes = list(train_set.classes)
        notes += train_set.report()  # how the data was read: notes, skipped items
        notes += [line for line in test_set.report() if line not in notes]
        self.model_cfg = cfg
        self.size = tuple(cfg.input.size)
        self.train_set = train_set.to(self.device)
        self.test_set = test_set.to(self.device)

        if self.custom_model is not None and self.resume:
            raise ValueError("resume works with idfy designs only, not with a model passed in")
        model = (self.custom_model if self.custom_model is not None else build_model(cfg)).to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.module = model
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.opt = build_optimizer(model, tc.optimizer, tc.lr, tc.weight_decay, tc.momentum)
        self.gen = torch.Generator(device=self.device if cuda else "cpu").manual_seed(tc.seed)
        self.spe = len(self.train_set) // tc.batch_size
        totals = [t for t in (tc.max_steps, tc.epochs * self.spe if tc.epochs else None) if t]
        self.total_steps = min(totals) if totals else None
        problem = trainability_problem(
            model, tc.batch_size // self.dist.world_size, self.feed_channels, self.size, self.device
        )
        if problem is not None:
            few = f" (the data has {len(train_set)} training image)" if len(train_set) < 2 else ""
            raise ValueError(problem + few)
        if ckpt is not None:
            self._restore(ckpt)
        self.net: nn.Module = model
        if self.dist.enabled:
            ids = [self.device.index] if cuda else None
            self.net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.weights = tc.loss_weights
        self._prepare_samples()
        if self.out is not None and self.dist.is_main:
            notes += self._write_run_files()
        return Start(
            model_config=cfg,
            train_config=tc,
            n_train=len(train_set),
            n_test=len(test_set),
            classes=self.classes,
            task=self.task,
            device=str(self.device),
            world_size=self.dist.world_size,
            num_params=sum(p.numel() for p in model.parameters()),
            steps_per_epoch=self.spe,
            total_steps=self.total_steps,
            resumed_step=self.step,
            out_dir=str(self.out) if self.out is not None else None,
            notes=notes,
        )

    def _stored_config(self, ckpt: dict[str, Any]) -> ModelConfig:
        try:
            return model_config_of(ckpt)
        except ConfigError as e:
            raise self._not_resumable(ckpt, f"its model config is invalid: {e}") from None

    def _not_resumable(self, ckpt: dict[str, Any], detail: str) -> CheckpointError:
        return CheckpointError(
            ckpt["path"],
            f"not a resumable idfy checkpoint ({detail})",
            "restart the run without --resume (or with another --out)",
        )

    def _check_position(self, ckpt: dict[str, Any]) -> None:
        """A mid-epoch position must exist, and mean the same images, with this run's batch size and data."""
        at = ckpt["batch_in_epoch"]
        saved_tc = ckpt.get("train_config") or {}
        bs0 = ckpt.get("batch_size") or saved_tc.get("batch_size")
        spe0 = ckpt.get("steps_per_epoch")
        bs, spe = self.tc.batch_size, self.spe
        if at == 0 or (at < spe and spe0 in (None, spe) and bs0 in (None, bs)):
            return
        epoch = f"an epoch of {spe0} batches" if spe0 else "an epoch"
        was = f" (batch size {bs0})" if bs0 else ""
        fix = f"resume with --batch-size {bs0} and the same data" if bs0 else "resume with the same settings"
        gone = "does not exist" if at >= spe else "would continue with other images"
        batches = "batch" if spe == 1 else "batches"
        raise ValueError(
            f"{ckpt['path']} was saved at batch {at} of {epoch}{was}; with batch size {bs} and "
            f"{len(self.train_set)} training images an epoch has {spe} {batches}, so batch {at} {gone}: "
            f"{fix}, or restart without --resume"
        )

    def _restore(self, ckpt: dict[str, Any]) -> None:
        """Model, optimizer, position and RNG states from a verified last.pt (``load_checkpoint(resume=True)``).

        Raises:
            ValueError: the saved position does not exist with this batch size / data, or the state does not
                fit this model and optimizer (one line naming the file).
        """
        self._check_position(ckpt)
        try:
            load_model_weights(self.module, ckpt)
        except CheckpointError as e:
            raise self._not_resumable(ckpt, e.detail) from None
        saved_opt = (ckpt.get("train_config") or {}).get("optimizer")
        if saved_opt is not None and saved_opt != self.tc.optimizer:
            raise ValueError(
                f"{ckpt['path']} was trained with --optimizer {saved_opt}; resume with --optimizer {saved_opt}, "
                "or restart without --resume"
            )
        try:
            self.opt.load_state_dict(ckpt["optimizer"])
        except (ValueError, KeyError, TypeError, RuntimeError, IndexError):
            log.debug("optimizer state of %s refused", ckpt["path"], exc_info=True)
            raise self._not_resumable(ckpt, "its optimizer state belongs to another model") from None
        for group in self.opt.param_groups:
            for p in group["params"]:
                for v in self.opt.state.get(p, {}).values():
                    if isinstance(v, Tensor) and v.dim() > 0 and v.shape != p.shape:
                        raise self._not_resumable(ckpt, "its optimizer state belongs to another model")
        self.step = int(ckpt["step"])
        self.epoch = int(ckpt["epoch"])
        self.batch_in_epoch = int(ckpt["batch_in_epoch"])
        self.elapsed0 = float(ckpt["elapsed_s"])
        best = ckpt.get("best_score")
        self.best_score = (float(best[0]), float(best[1])) if best is not None else None
        self.last_metrics = ckpt.get("metrics") or {}
        if self.out is not None and (self.out / "best.pt").is_file():
            self.best_path = self.out / "best.pt"
        self.last_good = (self.step, Path(ckpt["path"]))
        try:
            restore_rng(ckpt["rng"], self.gen)
        except ValueError as e:
            raise self._not_resumable(ckpt, str(e)) from None

    def _write_run_files(self) -> list[str]:
        """config.yaml, train.yaml and the run log; removes temporary files an interrupted run left. Returns notes."""
        from idfy.train.runlog import RunLog

        assert self.out is not None
        self.out.mkdir(parents=True, exist_ok=True)
        stale = remove_stale_temporaries(self.out)
        (self.out / "config.yaml").write_text(self.model_cfg.to_yaml(), encoding="utf-8")
        (self.out / "train.yaml").write_text(self.tc.to_yaml(), encoding="utf-8")
        self.runlog = RunLog(self.out, resume_step=self.step if self.resume else None)
        return (
            [f"removed {len(stale)} temporary file(s) an interrupted run left in {self.out}"] if stale else []
        )

    def _prepare_samples(self) -> None:
        from idfy.data import iterate_batches

        k = min(self.tc.num_samples, len(self.test_set))
        self.sample_batch = None
        if k and self.dist.is_main:
            sub = self.test_set.subset(torch.arange(k, device=self.device))
            self.sample_batch = next(
                iterate_batches(sub, k, shuffle=False, channels=self.feed_channels, size=self.size)
            )

    # ------------------------------------------------------------------ loop
    def _loop(self) -> Iterator[Event]:
        from idfy.data import iterate_batches

        tc = self.tc
        self.net.train()
        self.acc = torch.zeros(5, device=self.device)  # loss sums: total, box_l1, giou, cls; step count
        self.first_bad = torch.full((), _NO_BAD_STEP, dtype=torch.int64, device=self.device)
        self.bad_value = torch.zeros((), device=self.device)
        self.t_start = self.t_run
        self._open_window()
        self.points = eval_fractions(tc.eval_points) if tc.time_budget_s is not None else []
        done = progress(self.step, self.total_steps, self._elapsed(), tc.time_budget_s)
        self.next_point = sum(f <= done for f in self.points)  # a resumed run skips the points it passed
        k = min(tc.eval_subset, len(self.test_set)) if tc.eval_subset else len(self.test_set)
        self.eval_set = (
            self.test_set.subset(torch.arange(k, device=self.device))
            if k < len(self.test_set)
            else self.test_set
        )
        self.epoch_gen_state = self.gen.get_state()
        self.reason = self._limit_reached()  # a resumed run may already be at its end
        while self.reason is None:
            skip, self.batch_in_epoch = self.batch_in_epoch, 0
            self.epoch_gen_state = self.gen.get_state()
            batches = iterate_batches(
                self.train_set,
                tc.batch_size,
                shuffle=True,
                generator=self.gen,
                drop_last=True,
                augment=tc.augment,
                channels=self.feed_channels,
                size=self.size,
                translate=tc.translate,
                erase=tc.erase,
            )
            for i, batch in enumerate(batches):
                if i < skip:  # resuming mid-epoch: replay the epoch's draws up to where it stopped
                    continue
                self._train_step(*batch)
                self.batch_in_epoch = i + 1
                if self.batch_in_epoch == self.spe:
                    self.epoch += 1
                    self.batch_in_epoch = 0
                self.reason = self._limit_reached()
                failed = yield from self._periodic()
                if failed:
                    return
                if self.reason is not None:
                    break
        yield from self._finish()

    def _elapsed(self) -> float:
        return self.elapsed0 + self.clock() - self.t_start

    def _train_step(self, x: Tensor, y: Tensor, boxes: Tensor | None) -> None:
        tc = self.tc
        x, y, boxes = shard(x, self.dist), shard(y, self.dist), shard(boxes, self.dist)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        frac = progress(self.step, self.total_steps, self._elapsed(), tc.time_budget_s)
        self.lr = tc.lr * lr_factor(tc.schedule, self.step, frac, tc.warmup)
        for g in self.opt.param_groups:
            g["lr"] = self.lr
        ctx = torch.autocast("cuda", dtype=torch.bfloat16) if self.amp else contextlib.nullcontext()
        with ctx:
            out = self.net(x)
        parts = compute_loss(out.float(), y, boxes, self.task, self.weights)
        self.opt.zero_grad(set_to_none=True)
        parts.total.backward()
        if tc.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.params, tc.grad_clip)
        self.opt.step()
        total = parts.total.detach()
        self.acc += torch.cat([parts.stacked(), total.new_ones(1)])
        new_bad = ~torch.isfinite(total) & (self.first_bad == _NO_BAD_STEP)
        self.first_bad = torch.where(new_bad, self.step + 1, self.first_bad)
        self.bad_value = torch.where(new_bad, total, self.bad_value)
        self.step += 1

    def _limit_reached(self) -> str | None:
        """Step-determined limits always; the stop event and the clock directly only in a single process
        (several processes agree on those at the next sync point, see :meth:`_sync`)."""
        tc = self.tc
        if not self.dist.enabled and self.stop is not None and self.stop.is_set():
            return "stopped"
        if tc.max_steps is not None and self.step >= tc.max_steps:
            return "max_steps"
        if tc.epochs is not None and self.epoch >= tc.epochs:
            return "epochs"
        if not self.dist.enabled and tc.time_budget_s is not None and self._elapsed() >= tc.time_budget_s:
            return "budget"
        return None

    def _due(self, every: int) -> bool:
        return every > 0 and self.step % every == 0

    def _point_due(self, log: bool) -> bool:
        """True once per passed fraction of :func:`eval_fractions`; several processes look only at log steps
        (the clock differs between them, the steps do not)."""
        if self.next_point >= len(self.points) or (self.dist.enabled and not log):
            return False
        done = progress(self.step, self.total_steps, self._elapsed(), self.tc.time_budget_s)
        passed = sum(f <= done for f in self.points)
        if passed <= self.next_point:
            return False
        self.next_point = passed
        return True

    def _periodic(self) -> Iterator[Event]:
        """Events due after this step. Returns True (via StopIteration) when the run failed."""
        tc = self.tc
        final = self.reason is not None
        log = self._due(tc.log_every) or final
        do_eval = (self._due(tc.eval_every) or self._point_due(log)) and not final
        do_samples = self._due(tc.sample_every) and not final
        do_ckpt = self._due(tc.checkpoint_every) and not final and self.out is not None
        if not (log or do_eval or do_samples or do_ckpt):
            return False
        stats, bad_step, flags = self._sync()
        if bad_step != _NO_BAD_STEP:
            yield self._nan_failure(bad_step)
            return True
        if self.dist.enabled and self.reason is None:
            if flags[0]:
                self.reason = "stopped"
            elif flags[1]:
                self.reason = "budget"
        if log and stats[4] > 0:
            yield self._step_event(stats)
        if not self.dist.is_main:
            return False
        t0 = self.clock()
        if do_eval:
            yield from self._evaluate(subset=True)
        if do_samples:
            yield self._samples()
        if do_ckpt:
            yield self._save("last")
        self.paused += self.clock() - t0
        return False

    def _sync(self) -> tuple[list[float], int, list[int]]:
        """The host sync: loss sums since the last event, the first non-finite step, stop/budget flags
        (reduced over processes when distributed)."""
        stats = all_reduce_sum(self.acc.clone(), self.dist)
        bad = self.first_bad.clone()
        flags = [0, 0]
        if self.dist.enabled:
            bad = -all_reduce_max(-bad, self.dist)
            local = [
                int(self.stop is not None and self.stop.is_set()),
                int(self.tc.time_budget_s is not None and self._elapsed() >= self.tc.time_budget_s),
            ]
            flags = all_reduce_max(torch.tensor(local, device=self.device), self.dist).tolist()
        values = stats.tolist()
        return values, int(bad), flags

    def _nan_failure(self, bad_step: int) -> Failed:
        kind = "NaN" if math.isnan(float(self.bad_value)) else "infinite"
        clip = (
            f"lower the gradient clipping (now {self.tc.grad_clip:g})"
            if self.tc.grad_clip is not None
            else "enable grad clipping (--grad-clip 1.0)"
        )
        return Failed(
            message=f"loss became {kind} at step {bad_step}; lower the lr (now {self.tc.lr:g}) or {clip}",
            step=bad_step,
        )

    def _open_window(self) -> None:
        self.win_t0 = self.clock()
        self.paused = 0.0
        self.acc.zero_()

    def _step_event(self, stats: list[float]) -> Step:
        n = stats[4]
        ranks = self.dist.world_size
        now = self.clock()
        busy = max(now - self.win_t0 - self.paused, 1e-9)
        per_rank_steps = n / ranks
        ev = Step(
            step=self.step,
            epoch=self.epoch + self.batch_in_epoch / max(self.spe, 1),
            loss=stats[0] / n,
            box_l1=stats[1] / n,
            giou=stats[2] / n,
            cls=stats[3] / n,
            lr=self.lr,
            images_per_s=per_rank_steps * self.tc.batch_size / busy,
            elapsed=self._elapsed(),
        )
        self._open_window()
        if self.runlog is not None:
            self.runlog.add(ev)
        return ev

    def _evaluate(self, subset: bool = False) -> Iterator[Event]:
        """Held-out metrics: on the fixed subset ``eval_set`` during the run, on the full split at the end."""
        metrics = evaluate(
            self.module,
            self.eval_set if subset else self.test_set,
            self.task,
            channels=self.feed_channels,
            size=self.size,
            amp=self.amp,
        )
        self.last_metrics = metrics
        key = "loc_accuracy" if "loc_accuracy" in metrics else "accuracy"
        score = (float(metrics[key]), float(metrics.get("mean_iou", 0.0)))
        is_best = self.best_score is None or score > self.best_score
        if is_best:
            self.best_score = score
        ev = Eval(step=self.step, metrics=metrics, elapsed=self._elapsed(), is_best=is_best)
        if self.runlog is not None:
            self.runlog.add(ev)
        yield ev
        if is_best and self.out is not None:
            yield self._save("best")

    @torch.no_grad()
    def _samples(self) -> Samples:
        assert self.sample_batch is not None
        x, y, boxes = self.sample_batch
        was = self.module.training
        self.module.eval()
        try:
            pb, pl, ps = predict_batches(self.module, x, self.task, amp=self.amp)
        finally:
            self.module.train(was)
        ev = Samples(
            step=self.step,
            images=x.detach().cpu(),
            pred_boxes=pb.cpu() if pb is not None else None,
            pred_labels=pl.tolist(),
            pred_scores=ps.tolist(),
            true_boxes=boxes.cpu() if boxes is not None else None,
            true_labels=y.tolist(),
            classes=self.classes,
        )
        self.last_samples = ev
        return ev

    def _state(self, full: bool) -> dict[str, Any]:
        """Checkpoint contents; ``full`` adds what resuming needs (optimizer, schedule, RNG states)."""
        # the data generator's state at the start of the current epoch: resuming replays the epoch's draws
        data_state = self.gen.get_state() if self.batch_in_epoch == 0 else self.epoch_gen_state
        schedule = {
            "kind": self.tc.schedule,
            "lr": self.lr,
            "total_steps": self.total_steps,
            "elapsed_s": self._elapsed(),
            "warmup": self.tc.warmup,
        }
        return {
            "model_config": self.model_cfg.to_yaml(),
            "train_config": self.tc.to_dict(),
            "model": self.module.state_dict(),
            "optimizer": self.opt.state_dict() if full else None,
            "schedule": schedule if full else None,
            "rng": capture_rng(data_state.cpu()) if full else None,
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "steps_per_epoch": self.spe,
            "batch_size": self.tc.batch_size,
            "elapsed_s": self._elapsed(),
            "best_score": list(self.best_score) if self.best_score is not None else None,
            "metrics": self.last_metrics,
            "classes": self.classes,
            "task": self.task,
            "data": self.tc.data,
            "data_channels": self.feed_channels,
        }

    def _save(self, kind: str) -> Checkpoint:
        assert self.out is not None
        path = save_checkpoint(self.out / f"{kind}.pt", self._state(full=kind == "last"))
        if kind == "best":
            self.best_path = path
        else:
            self.last_good = (self.step, path)
        return Checkpoint(step=self.step, path=str(path), kind=kind)

    def _finish(self) -> Iterator[Event]:
        reason = self.reason or "max_steps"
        if not self.dist.is_main:
            yield Done(
                step=self.step,
                reason=reason,
                metrics={},
                elapsed=self._elapsed(),
                model=self.module,
                classes=self.classes,
            )
            return
        yield from self._evaluate()
        if self.sample_batch is not None:
            yield self._samples()
        if self.out is not None:
            yield self._save("last")
            if self.runlog is not None:
                self.runlog.write_plots(self.last_samples)
        self.module.eval()
        best = self.best_path or (self.out / "last.pt" if self.out is not None else None)
        yield Done(
            step=self.step,
            reason=reason,
            metrics=self.last_metrics,
            elapsed=self._elapsed(),
            out_dir=str(self.out) if self.out is not None else None,
            checkpoint=str(best) if best is not None else None,
            model=self.module,
            classes=self.classes,
        )

    def _io_failure(self, e: OSError) -> str:
        """One line for a failed read or write: what, where, the last good checkpoint and what to do."""
        log.info("training stopped by an I/O error", exc_info=True)
        name = e.filename if isinstance(e.filename, str | os.PathLike) else None
        reading = name is not None and not (self.out is not None and Path(name).is_relative_to(self.out))
        text = write_error_text(e, action="reading" if reading else "writing")
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            fix = "free space"
        elif e.errno in (errno.EACCES, errno.EPERM) and reading:
            fix = "make that file readable"
        elif e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            fix = "make the run folder writable (or choose another --out)"
        else:
            fix = "fix that"
        if self.last_good is None:
            return f"{text} (no checkpoint written yet); {fix} and start the run again"
        step, path = self.last_good
        return f"{text} (last good checkpoint: step {step}, {path}); {fix} and rerun with --resume"


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_data(tc: TrainConfig) -> tuple[Any, Any]:
    """``(train_set, test_set)`` ImageSets for ``tc`` (its data, size, seed, sizes and data folder)."""
    from idfy.data import make_dataset

    kw = {"size": tc.size, "seed": tc.seed, "data_dir": tc.data_dir}
    train_set = make_dataset(tc.data, split="train", n=tc.n_train, **kw)
    test_set = make_dataset(tc.data, split="test", n=tc.n_test, **kw)
    return train_set, test_set
