"""Train tab: a short, live training run — or a race of 2–4 designs — of presets or the Design tab's design.

It opens on the demo: the engine's default :class:`~idfy.train.config.TrainConfig` (the run that
``python -m idfy train`` starts with no flags) and :func:`default_model`; :class:`TrainSettings` reads those
defaults in one place. Before a run, the status line says what Start (or Start race) will train, on which data and
for what budget, following the settings as they change; the augmentation caption says what the ticked boxes apply.
Start streams the run (:func:`run_training`, a generator over :func:`idfy.train.train`'s
events): a status line (step, epoch, smoothed images/s, elapsed, lr), live loss and held-out curves with the
chance level of the held-out set drawn in (:mod:`idfy.train.chance`), a grid of sample predictions with their boxes,
then the verdict (did the model beat chance, and by how much), the final metrics per class and the checkpoint.

With designs under "race against", Start race runs :func:`run_race` (:mod:`idfy.train.race`): the designs train in
turns on the same data, seed and budget, with overlaid curves, their sample predictions side by side and a final
table. The Compare tab's "Race these" fills the two fields (through ``ctx.shared``). What the page shows of a
run is drawn by :mod:`idfy.ui.run_view`, of a race by :mod:`idfy.ui.race_view`. This package: ``settings``
(defaults and validation), ``runs`` (the streamed run and race), ``handlers`` (the events' functions),
``layout`` (the components), ``wiring`` (the events).

Stop sets the session's stop event (:mod:`idfy.ui.jobs`): the engine ends every run cleanly and the checkpoints
are kept. The kept checkpoint (a race's winner) is the session's "latest from Train" in the Predict tab.
Only :func:`idfy.ui.jobs.max_trainings` runs (a race counts as one) train at once; later ones wait in line and
see their place. Every failure is shown in the status line with the library's message, never a traceback.
"""

from __future__ import annotations

from idfy.ui.context import TabContext
from idfy.ui.run_view import METRIC_HEADERS, RunView, curves_figure, metrics_rows
from idfy.ui.tabs.train.handlers import from_compare, start_race, start_training, stop_training
from idfy.ui.tabs.train.layout import layout
from idfy.ui.tabs.train.runs import RACE_OUTPUTS, RUN_OUTPUTS, run_race, run_training
from idfy.ui.tabs.train.settings import (
    BATCH_SIZES,
    CURRENT_DESIGN,
    RUN_OVERRIDES,
    TrainSettings,
    augmentations,
    batch_sizes,
    default_model,
    make_configs,
    make_race,
)
from idfy.ui.tabs.train.wiring import wire, wire_compare
from idfy.viz.samples import samples_image

__all__ = [
    "BATCH_SIZES",
    "CURRENT_DESIGN",
    "METRIC_HEADERS",
    "RACE_OUTPUTS",
    "RUN_OUTPUTS",
    "RUN_OVERRIDES",
    "RunView",
    "TrainSettings",
    "augmentations",
    "batch_sizes",
    "build",
    "curves_figure",
    "default_model",
    "from_compare",
    "make_configs",
    "make_race",
    "metrics_rows",
    "run_race",
    "run_training",
    "samples_image",
    "start_race",
    "start_training",
    "stop_training",
]


def build(ctx: TabContext) -> None:
    """Build the Train tab inside the current ``gr.Tab``: the controls and results (``layout``), their events
    (``wiring``) and, when the Compare tab published them, its "Race these in Train" link."""
    c = layout()
    wire(c, ctx)
    wire_compare(c, ctx)
