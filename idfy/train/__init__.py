"""Training: the engine (:func:`train`, a generator of progress events) and what it is made of.

>>> from idfy import load_preset
>>> from idfy.train import TrainConfig, train
>>> for event in train(load_preset("tiny"), TrainConfig(data="shapes", size=64, time_budget_s=30)):
...     print(event)

Modules: :mod:`~idfy.train.engine` (the run), :mod:`~idfy.train.config` (:class:`TrainConfig`, the recipe),
:mod:`~idfy.train.checks`, :mod:`~idfy.train.optim`, :mod:`~idfy.train.losses`, :mod:`~idfy.train.metrics`,
:mod:`~idfy.train.events`, :mod:`~idfy.train.checkpoint` and :mod:`~idfy.train.digest` (run files),
:mod:`~idfy.train.runlog`, :mod:`~idfy.train.progress`, :mod:`~idfy.train.distributed`, and the runs built on
the engine: :mod:`~idfy.train.race`, :mod:`~idfy.train.chance`, :mod:`~idfy.train.ablate`.
"""

from __future__ import annotations

from idfy.train.engine import (
    Checkpoint,
    Done,
    Eval,
    Event,
    Failed,
    Samples,
    Start,
    Step,
    TrainConfig,
    adapt_config,
    evaluate,
    make_data,
    resolve_device,
    train,
)

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
