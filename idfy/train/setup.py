"""The set-up of a training run: device, data, model, optimizer, a resume from ``last.pt`` and the run folder.

:class:`Setup` is one part of :class:`idfy.train.engine._Run`; :meth:`Setup._setup` returns the run's
:class:`~idfy.train.events.Start` event.
"""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from idfy.config import ConfigError, ModelConfig
from idfy.data import DataSpec, ImageSet, iterate_batches
from idfy.data.classes import align_classes
from idfy.device import resolve_device
from idfy.model import build_model
from idfy.train.chance import chance_level
from idfy.train.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_model_weights,
    model_config_of,
    remove_stale_temporaries,
    restore_rng,
)
from idfy.train.checks import trainability_problem
from idfy.train.config import TrainConfig, adapt_config
from idfy.train.distributed import init_from_env
from idfy.train.events import Start
from idfy.train.optim import build_optimizer
from idfy.train.runlog import RunLog
from idfy.train.state import RunState

__all__ = ["Setup", "data_spec", "make_data"]

log = logging.getLogger(__name__)


class Setup(RunState):
    """Everything a run does before its first step (and the resume it may start from)."""

    def _setup(self) -> Start:
        """Check the settings, pick the device, read the data, build the model and optimizer, resume.

        Raises:
            ValueError, ConfigError, FileNotFoundError, CheckpointError: one line saying what to fix.
            OSError: reading the data or writing the run folder failed.
        """
        tc = self.tc
        tc.validate()
        if self.resume and self.out is None:
            raise ValueError("resume needs the run folder (out_dir / --out) that holds last.pt")
        self._setup_device()
        notes: list[str] = []
        train_set, test_set = self.data if self.data is not None else make_data(tc)
        if len(train_set) < tc.batch_size:
            notes.append(f"batch size lowered from {tc.batch_size} to the {len(train_set)} training images")
            self.tc = tc = tc.replace(batch_size=len(train_set))
        self.task = train_set.task
        self.classes = list(train_set.classes)
        cfg, self.feed_channels, more = adapt_config(
            self.model_cfg,
            task=self.task,
            num_classes=len(self.classes),
            channels=train_set.channels,
            size=(tc.size, tc.size),
        )
        notes += more
        ckpt = None
        if self.resume:
            ckpt, cfg, train_set, test_set = self._read_last(cfg, train_set, test_set, notes)
        notes += train_set.report()  # how the data was read: notes, skipped items
        notes += [line for line in test_set.report() if line not in notes]
        self.model_cfg = cfg
        self.size = tuple(cfg.input.size)
        self.chance = chance_level(test_set)
        self.train_set = train_set.to(self.device)
        self.test_set = test_set.to(self.device)
        self._setup_model(ckpt)
        notes += [self.low_note] if self.low_note else []
        spent = self.clock() - self.t_run  # the budget's clock, data preparation included
        if tc.time_budget_s is not None and not self.resume and spent >= 0.8 * tc.time_budget_s:
            notes.append(
                f"data preparation and the model build took {spent:.1f} s of the {tc.time_budget_s:g} s budget: "
                f"{'no time is' if spent >= tc.time_budget_s else 'little time is'} left to train (the machine may "
                "be busy); give a longer --time"
            )
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
            num_params=sum(p.numel() for p in self.module.parameters()),
            steps_per_epoch=self.spe,
            total_steps=self.total_steps,
            resumed_step=self.step,
            out_dir=str(self.out) if self.out is not None else None,
            notes=notes,
            chance=self.chance,
        )

    def _setup_device(self) -> None:
        """The device (one GPU per process under torchrun), determinism, autocast, layout and seeds."""
        tc = self.tc
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

    def _read_last(
        self, cfg: ModelConfig, train_set: ImageSet, test_set: ImageSet, notes: list[str]
    ) -> tuple[dict[str, Any], ModelConfig, ImageSet, ImageSet]:
        """``out/last.pt`` (verified) for a resume: its design, channels and class order win. Appends notes.

        Raises:
            FileNotFoundError: there is no ``last.pt`` to resume.
            CheckpointError: it is not a resumable idfy checkpoint.
        """
        assert self.out is not None  # _setup refuses a resume without a run folder
        last = self.out / "last.pt"
        if not last.is_file():
            what = "is a folder, not a checkpoint file" if last.is_dir() else "does not exist"
            raise FileNotFoundError(f"{last} {what}: nothing to resume; start the run without --resume")
        ckpt = load_checkpoint(last, map_location=self.device, resume=True)
        notes += ckpt["notes"]
        stored = self._stored_config(ckpt)
        if stored.fingerprint() != cfg.fingerprint():
            notes.append("resuming with the checkpoint's model config (it differs from the one given)")
        self.feed_channels = int(ckpt.get("data_channels", stored.input.channels))
        if ckpt.get("classes"):  # labels must mean the classes the weights learnt: matched by name
            train_set = align_classes(train_set, ckpt["classes"])
            test_set = align_classes(test_set, ckpt["classes"])
            self.classes = list(train_set.classes)
        return ckpt, stored, train_set, test_set

    def _setup_model(self, ckpt: dict[str, Any] | None) -> None:
        """Model (channels_last), optimizer, data generator and step counts; restores ``ckpt`` when resuming.

        Raises:
            ValueError: the model cannot train at this batch size, or a model passed in is to be resumed.
        """
        tc = self.tc
        cuda = self.device.type == "cuda"
        if self.custom_model is not None and self.resume:
            raise ValueError("resume works with idfy designs only, not with a model passed in")
        model = (self.custom_model if self.custom_model is not None else build_model(self.model_cfg)).to(
            self.device
        )
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
            n = len(self.train_set)
            few = f" (the data has {n} training image)" if n < 2 else ""
            raise ValueError(problem + few)
        self.low_size, self.low_note = self._low_size(model)
        if ckpt is not None:
            self._restore(ckpt)
        self.net = model
        if self.dist.enabled:
            ids = [self.device.index] if cuda else None
            self.net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.weights = tc.loss_weights

    def _low_size(self, model: nn.Module) -> tuple[tuple[int, int] | None, str | None]:
        """The input size of progressive resizing's first part (None: off) and a note when it had to be off."""
        tc = self.tc
        h, w = self.size
        low = (round(h * tc.low_res), round(w * tc.low_res))
        if tc.low_res >= 1 or tc.low_res_until <= 0 or low == (h, w):
            return None, None
        problem = trainability_problem(
            model, tc.batch_size // self.dist.world_size, self.feed_channels, low, self.device
        )
        if min(low) < 8 or problem is not None:
            why = problem.split(";")[0] if problem else f"{low[0]}×{low[1]} px inputs are under 8 px"
            return None, f"progressive resizing off (training at {h}×{w} throughout): {why}"
        return low, None

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
        """A mid-epoch position must exist, and mean the same images, with this run's batch size and data.

        Raises:
            ValueError: it does not; one line naming what differs (the batch size, the training set or both)
                and the settings that restore it.
        """
        at = ckpt["batch_in_epoch"]
        saved_tc = ckpt.get("train_config") or {}
        bs0 = ckpt.get("batch_size") or saved_tc.get("batch_size")
        spe0 = ckpt.get("steps_per_epoch")
        bs, spe, n = self.tc.batch_size, self.spe, len(self.train_set)
        if at == 0 or (at < spe and spe0 in (None, spe) and bs0 in (None, bs)):
            return
        n0 = ckpt.get("train_images")
        n0 = n0 if _is_count(n0) else None
        lowered = bs0 is not None and bs == n < bs0  # the batch size was lowered to a smaller training set
        other_bs = bs0 is not None and bs0 != bs and not lowered
        if n0 is not None:
            other_data = n0 != n
        elif bs0 is not None and spe0 is not None:
            other_data = n // bs0 != spe0  # the epoch it was saved in cannot be cut from these images
        else:  # an older file: what differs is unknown, the hint names both
            other_data = False
        fixes = [f"--batch-size {bs0}"] if other_bs else []
        if other_data:
            fixes.append(self._data_fix(saved_tc, n0, n))
        if not fixes:
            fixes.append("the batch size and training data it was saved with")
        epoch = f"an epoch of {spe0} batches" if spe0 else "an epoch"
        was = f" (batch size {bs0})" if bs0 else ""
        gone = "does not exist" if at >= spe else "would continue with other images"
        batches = "batch" if spe == 1 else "batches"
        raise ValueError(
            f"{ckpt['path']} was saved at batch {at} of {epoch}{was}; with batch size {bs} and "
            f"{n} training images an epoch has {spe} {batches}, so batch {at} {gone}: "
            f"resume with {' and '.join(fixes)}, or restart without --resume"
        )

    def _data_fix(self, saved_tc: dict[str, Any], n0: int | None, n: int) -> str:
        """How to get back the training set a checkpoint was saved with: the data settings that differ from
        this run's (``--data``, ``--data-dir``, ``--n-train``), or the same training data when none does."""
        flags = {"data": "--data", "data_dir": "--data-dir", "n_train": "--n-train"}
        parts = []
        for name, flag in flags.items():
            if name not in saved_tc or saved_tc[name] == getattr(self.tc, name):
                continue
            parts.append(f"without {flag}" if saved_tc[name] is None else f"{flag} {saved_tc[name]}")
        count = f" ({n0} training images, not {n})" if n0 is not None else ""
        if parts:
            return f"{' '.join(parts)}{count}"
        return f"the training data it was saved with{count}"

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
            best_step = ckpt.get("best_step")  # absent in files written before it was stored
            self.best_step = best_step if _is_count(best_step) else None
        self.last_good = (self.step, Path(ckpt["path"]))
        try:
            restore_rng(ckpt["rng"], self.gen)
        except ValueError as e:
            raise self._not_resumable(ckpt, str(e)) from None

    def _write_run_files(self) -> list[str]:
        """config.yaml, train.yaml and the run log; removes temporary files an interrupted run left. Returns notes."""
        assert self.out is not None
        self.out.mkdir(parents=True, exist_ok=True)
        stale = remove_stale_temporaries(self.out)
        (self.out / "config.yaml").write_text(self.model_cfg.to_yaml(), encoding="utf-8")
        (self.out / "train.yaml").write_text(self.tc.to_yaml(), encoding="utf-8")
        self.runlog = RunLog(self.out, resume_step=self.step if self.resume else None, chance=self.chance)
        return (
            [f"removed {len(stale)} temporary file(s) an interrupted run left in {self.out}"] if stale else []
        )

    def _prepare_samples(self) -> None:
        k = min(self.tc.num_samples, len(self.test_set))
        self.sample_batch = None
        if k and self.dist.is_main:
            sub = self.test_set.subset(torch.arange(k, device=self.device))
            self.sample_batch = next(
                iterate_batches(sub, k, shuffle=False, channels=self.feed_channels, size=self.size)
            )


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def data_spec(tc: TrainConfig) -> DataSpec:
    """``tc``'s data settings (its data, size, seed, data folder and split sizes): all that :func:`make_data`
    builds from, so also the key of data built once and kept."""
    return DataSpec(
        name=tc.data, size=tc.size, seed=tc.seed, data_dir=tc.data_dir, n_train=tc.n_train, n_test=tc.n_test
    )


def make_data(tc: TrainConfig) -> tuple[Any, Any]:
    """``(train_set, test_set)`` ImageSets for ``tc``, built from :func:`data_spec` alone."""
    return data_spec(tc).build()
