"""Training: the engine (:func:`train`, a generator of progress events) and what it is made of.

>>> from idfy import load_preset
>>> from idfy.train import TrainConfig, train
>>> for event in train(load_preset("tiny"), TrainConfig(data="shapes", size=64, time_budget_s=30)):
...     print(event)

Modules, by purpose:

* the run: :mod:`~idfy.train.engine` (:func:`train`) drives :mod:`~idfy.train.setup` (device, data, model,
  optimizer, resume), :mod:`~idfy.train.loop` (the steps) and :mod:`~idfy.train.evaluation` (held-out metrics,
  samples, checkpoints), which share :mod:`~idfy.train.state`;
* the recipe: :mod:`~idfy.train.config` (:class:`TrainConfig`), :mod:`~idfy.train.optim`,
  :mod:`~idfy.train.losses`, :mod:`~idfy.train.checks` (can this design train at this batch size?);
* what a run reports: :mod:`~idfy.train.events`, :mod:`~idfy.train.metrics`, :mod:`~idfy.train.progress`,
  :mod:`~idfy.train.runlog`;
* run files: :mod:`~idfy.train.checkpoint` (the format) with :mod:`~idfy.train.verify`,
  :mod:`~idfy.train.digest`, :mod:`~idfy.train.rng` and :mod:`~idfy.train.files`;
* several processes: :mod:`~idfy.train.distributed`;
* runs built on the engine: :mod:`~idfy.train.race` with :mod:`~idfy.train.chance`, :mod:`~idfy.train.ablate`.
"""

from __future__ import annotations

from idfy.train.config import TrainConfig, adapt_config, resolve_device
from idfy.train.engine import train
from idfy.train.events import Checkpoint, Done, Eval, Event, Failed, Samples, Start, Step
from idfy.train.metrics import evaluate
from idfy.train.setup import make_data

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
