"""Training as a generator of progress events.

>>> from idfy import load_preset
>>> from idfy.train import TrainConfig, train
>>> for event in train(load_preset("tiny"), TrainConfig(data="shapes", size=64, time_budget_s=30)):
...     print(event)

The loop follows airbench / nanoGPT habits: the whole dataset lives on the device as one uint8 tensor,
batches are cut and augmented by tensor ops (:func:`idfy.data.iterate_batches`), losses are summed on the
device and read back only every ``log_every`` steps (the only host sync), channels_last, bf16 autocast on
CUDA. Under ``torchrun`` it trains with DistributedDataParallel (see :mod:`idfy.train.distributed`).

The run is split by purpose: :mod:`idfy.train.setup` (device, data, model, optimizer, resume),
:mod:`idfy.train.loop` (the steps), :mod:`idfy.train.evaluation` (held-out metrics, samples, checkpoints), on
the shared :class:`idfy.train.state.RunState`.

The model config is adapted to the data: ``task``, ``num_classes``, ``input.size`` and ``input.channels``
(when the design cannot take the data's channel count, e.g. groups=3 in the first conv with grey images,
the images are converted instead).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from idfy.config import ConfigError, ModelConfig
from idfy.train.checkpoint import write_error_text
from idfy.train.config import TrainConfig
from idfy.train.distributed import cleanup
from idfy.train.events import Event, Failed
from idfy.train.loop import Loop
from idfy.train.setup import Setup

__all__ = ["train"]

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


class _Run(Setup, Loop):
    """One training run; :meth:`events` drives it."""

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
