"""What a design costs: parameters, MACs / FLOPs, per-stage shapes, receptive field, memory, latency.

>>> from idfy import load_preset
>>> from idfy.analysis import analyze
>>> r = analyze(load_preset("seed_model2"))
>>> [row.out_shape for row in r.stages][:3]
[(8, 112, 112), (16, 56, 56), (24, 28, 28)]

One module per purpose:

* :mod:`~idfy.analysis.measure`: :func:`analyze` (a cached :class:`Report`) and :func:`count` (one trace);
* :mod:`~idfy.analysis.report`: the :class:`Report` / :class:`StageRow` records, :data:`CONVENTIONS`,
  :data:`PATHS`;
* :mod:`~idfy.analysis.tracing`: MACs, shapes and activation bytes of one forward pass on ``meta`` tensors;
* :mod:`~idfy.analysis.receptive_field`: receptive field and jump from the stage plan;
* :mod:`~idfy.analysis.memory`: the one memory model and the memory guard;
* :mod:`~idfy.analysis.estimate`: the plan's rough parameter count (where a model is built);
* :mod:`~idfy.analysis.extras`: torchinfo layers, counter cross-check and latency (:mod:`~idfy.analysis.latency`);
* :mod:`~idfy.analysis.comparison`: :func:`compare` with timm baselines (:mod:`~idfy.analysis.baselines`);
* :mod:`~idfy.analysis.units`: counts and bytes for people (``12.3 k``, ``1.50 MiB``);
"""

from __future__ import annotations

from idfy.analysis.comparison import Comparison, compare
from idfy.analysis.measure import analyze, clear_cache, count
from idfy.analysis.report import CONVENTIONS, PATHS, Report, StageRow, path_of
from idfy.analysis.units import human_bytes, human_count

__all__ = [
    "CONVENTIONS",
    "PATHS",
    "Comparison",
    "Report",
    "StageRow",
    "analyze",
    "clear_cache",
    "compare",
    "count",
    "human_bytes",
    "human_count",
    "path_of",
]
