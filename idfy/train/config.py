"""``TrainConfig`` (everything about a training run except the design), the device choice, and the
adaptation of a design to a dataset."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from idfy.config import ConfigError, ModelConfig
from idfy.config_io import load_yaml
from idfy.device import resolve_device
from idfy.train.losses import LossWeights
from idfy.train.optim import OPTIMIZERS, SCHEDULES, SUGGESTED_LR

__all__ = ["DEFAULT_PRESET", "TrainConfig", "adapt_config", "eval_fractions", "resolve_device"]

#: The design of the default demo (``python -m idfy train`` with no flags, the Train tab's first choice);
#: ``TrainConfig()`` holds the rest of that demo.
DEFAULT_PRESET = "demo"


@dataclass(frozen=True)
class TrainConfig:
    """Everything about a training run except the model design.

    A run ends at whichever limit comes first: ``epochs``, ``time_budget_s`` (seconds of wall time from the start
    of the run, data preparation and evaluations included; the final evaluation follows it), ``max_steps``; at least one is needed. Runs bounded by steps/epochs only are reproducible
    with ``deterministic=True`` (the learning rate of a time-budgeted run depends on the clock).
    ``warmup``: steps of linear warm-up (``cosine`` / ``constant``). ``batch_size`` is the global batch
    (split across processes under torchrun). ``amp`` (bf16 autocast) applies on CUDA only, ``channels_last`` everywhere.
    ``momentum`` is SGD's (Nesterov) only: Muon keeps its own 0.95 and AdamW its betas (0.9, 0.99).
    ``augment``: random horizontal flips; ``translate``: random shifts of up to this fraction of the side;
    ``erase``: probability of random erasing per image (0 turns each off). ``low_res``: progressive resizing
    (Howard's fast.ai DAWNBench entry, 2018; Tan & Le, EfficientNetV2, 2021): the first ``low_res_until`` of the
    run trains on inputs resized to ``low_res`` × the side (bilinear, antialiased; boxes are normalized, so
    targets are unchanged), the rest and every evaluation at full size; 1 turns it off, and a design that cannot
    take the smaller input (a flatten head) trains at full size with a note.
    ``eval_every`` / ``sample_every`` / ``checkpoint_every`` / ``log_every`` count steps (0 = never).
    ``eval_points`` (runs with a time budget): held-out evaluations at the fixed fractions k / ``eval_points``
    (k = 1 .. ``eval_points`` - 1) of the run's progress (of the budget, or of the steps when those end the run
    sooner), on the first ``eval_subset`` held-out items (0 = all of them); the end of the run always evaluates
    the full split. The budget's clock starts with the run: data preparation and the model build count.

    The defaults are the demo that ``python -m idfy train`` runs without flags and the Train tab opens on
    (with :data:`DEFAULT_PRESET`): fashion-canvas at 64 px for 60 s, measured in
    ``benchmarks/results/time_to_accuracy.md``.
    """

    data: str = "fashion-canvas"
    data_dir: str | None = None
    size: int = 64
    n_train: int | None = None
    n_test: int | None = None
    batch_size: int = 64
    optimizer: Literal["muon", "adamw", "sgd"] = "muon"  # +4.2 pt over AdamW in the demo's minute (3 seeds)
    lr: float = SUGGESTED_LR["muon"]
    weight_decay: float = 0.05
    momentum: float = 0.9
    schedule: Literal["cosine", "onecycle", "constant"] = "cosine"
    warmup: int = 50
    epochs: int | None = None
    time_budget_s: float | None = 60.0
    max_steps: int | None = None
    seed: int = 0
    deterministic: bool = False
    grad_clip: float | None = 2.0
    amp: bool = True
    channels_last: bool = True
    augment: bool = True
    translate: float = 0.0
    erase: float = 0.0
    low_res: float = 1.0  # off: 0.75 gave 20 % more steps in the demo's minute but no accuracy (attempts log)
    low_res_until: float = 0.5
    eval_every: int = 0
    eval_points: int = 10
    eval_subset: int = 500
    sample_every: int = 100
    checkpoint_every: int = 250
    log_every: int = 10
    num_samples: int = 8
    device: str = "auto"
    box_l1_weight: float = 5.0
    giou_weight: float = 2.0
    cls_weight: float = 2.0  # class accuracy limits the minute's loc. accuracy (time_to_accuracy attempts)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad option."""
        if self.epochs is None and self.time_budget_s is None and self.max_steps is None:
            raise ValueError("give a limit: epochs, time_budget_s (--time) or max_steps")
        for name in ("epochs", "max_steps", "n_train", "n_test"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name}={v}: must be at least 1 (or left unset)")
        if self.time_budget_s is not None and not (
            self.time_budget_s > 0 and math.isfinite(self.time_budget_s)
        ):
            raise ValueError(f"time_budget_s={self.time_budget_s}: must be a positive number of seconds")
        if not 8 <= self.size <= 1024:
            raise ValueError(f"size={self.size}: must be between 8 and 1024 pixels")
        if not 1 <= self.batch_size <= 65536:
            raise ValueError(f"batch_size={self.batch_size}: must be between 1 and 65536")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer={self.optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule={self.schedule!r}: use one of {', '.join(SCHEDULES)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr={self.lr}: must be a positive number")
        if self.weight_decay < 0 or not 0 <= self.momentum < 1:
            raise ValueError("weight_decay must be >= 0 and momentum in [0, 1)")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip={self.grad_clip}: must be positive (or unset to turn it off)")
        for name in ("warmup", "eval_every", "eval_points", "eval_subset", "sample_every", "checkpoint_every",
                     "num_samples"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)}: must be >= 0")
        if not 0 <= self.translate <= 0.5:
            raise ValueError(f"translate={self.translate}: a fraction of the image side in [0, 0.5]")
        if not 0 <= self.erase <= 1:
            raise ValueError(f"erase={self.erase}: a probability in [0, 1]")
        if not 0 < self.low_res <= 1:
            raise ValueError(f"low_res={self.low_res}: a fraction of the input side in (0, 1] (1: off)")
        if not 0 <= self.low_res_until <= 1:
            raise ValueError(f"low_res_until={self.low_res_until}: a fraction of the run in [0, 1]")
        if self.log_every < 1:
            raise ValueError(f"log_every={self.log_every}: must be at least 1")
        if min(self.box_l1_weight, self.giou_weight, self.cls_weight) < 0:
            raise ValueError("loss weights must be >= 0")

    @property
    def loss_weights(self) -> LossWeights:
        return LossWeights(box_l1=self.box_l1_weight, giou=self.giou_weight, cls=self.cls_weight)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Strict: unknown keys raise ``ValueError`` listing the valid ones."""
        if not isinstance(data, dict):
            raise ValueError(f"train config: expected a mapping, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"train config: unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(names))}"
            )
        return cls(**data)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str) -> TrainConfig:
        return cls.from_dict(load_yaml(text) or {})  # size, depth and alias limits checked first


def eval_fractions(points: int) -> list[float]:
    """The fractions of a run's progress at which it evaluates on the held-out subset: k / ``points`` for
    k = 1 .. ``points`` - 1 (the end, fraction 1, evaluates the full split). ``points`` < 2 gives none."""
    return [k / points for k in range(1, points)]


def adapt_config(
    cfg: ModelConfig, *, task: str, num_classes: int, channels: int, size: tuple[int, int]
) -> tuple[ModelConfig, int, list[str]]:
    """Fit a design to a dataset: task, classes, input size and (if the design allows) channels.

    Returns:
        (adapted config, channel count to feed the model, notes for the person).
    """
    notes: list[str] = []
    base = cfg.replace(task=task, num_classes=num_classes).set("input.size", list(size))
    try:
        adapted = base.set("input.channels", channels)
        feed = channels
    except ConfigError as e:
        adapted = base
        feed = base.input.channels
        notes.append(
            f"the data has {channels} channel(s) but the design needs {feed} ({e}); images are converted"
        )
    if (cfg.task, cfg.num_classes, tuple(cfg.input.size), cfg.input.channels) != (
        adapted.task, adapted.num_classes, tuple(adapted.input.size), adapted.input.channels
    ):  # fmt: skip
        notes.append(
            f"model adapted to the data: task {adapted.task}, {adapted.num_classes} classes, "
            f"{adapted.input.channels}×{adapted.input.size[0]}×{adapted.input.size[1]} input"
        )
    return adapted, feed, notes
