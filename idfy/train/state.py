"""The state of one training run, shared by its set-up (:mod:`idfy.train.setup`), its step loop
(:mod:`idfy.train.loop`) and its evaluations (:mod:`idfy.train.evaluation`); :mod:`idfy.train.engine` drives it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from idfy.config import ModelConfig
from idfy.data import ImageSet
from idfy.train.config import TrainConfig
from idfy.train.distributed import DistInfo
from idfy.train.events import Samples
from idfy.train.losses import LossWeights
from idfy.train.runlog import RunLog

__all__ = ["NO_BAD_STEP", "RunState"]

#: ``first_bad`` while every loss so far was finite (a step number no run reaches).
NO_BAD_STEP = 2**62


class RunState:
    """What one run knows: its settings, data, model, optimizer, position and the last results.

    The attributes set by :meth:`idfy.train.setup.Setup._setup` and :meth:`idfy.train.loop.Loop._loop` are
    declared here so that every part of the run reads the same names.
    """

    # set by the set-up
    device: torch.device
    amp: bool
    channels_last: bool
    task: str
    classes: list[str]
    feed_channels: int
    size: tuple[int, ...]
    train_set: ImageSet
    test_set: ImageSet
    module: nn.Module
    net: nn.Module
    params: list[nn.Parameter]
    opt: torch.optim.Optimizer
    gen: torch.Generator
    spe: int
    total_steps: int | None
    weights: LossWeights
    sample_batch: tuple[Tensor, Tensor, Tensor | None] | None
    # set by the loop
    acc: Tensor
    first_bad: Tensor
    bad_value: Tensor
    t_start: float
    win_t0: float
    paused: float
    points: list[float]
    next_point: int
    eval_set: ImageSet
    epoch_gen_state: Tensor

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
        self.best_step: int | None = None  # the step of the weights in best_path
        self.last_good: tuple[int, Path] | None = None
        self.runlog: RunLog | None = None
        self.reason: str | None = None
        self.lr = 0.0

    def _elapsed(self) -> float:
        """Seconds of this run on its clock, including the time before a resume."""
        return self.elapsed0 + self.clock() - self.t_start
