"""Committed evidence: reading a results folder (:mod:`~idfy.evidence.results`) and judging the evidence
targets from it (:mod:`~idfy.evidence.targets`). Every reader takes the folder as an argument."""

from __future__ import annotations

from idfy.evidence.results import load_ablations, load_long_runs, load_model_results, results_folder
from idfy.evidence.targets import TargetRow, judge_targets, targets_markdown

__all__ = [
    "TargetRow",
    "judge_targets",
    "load_ablations",
    "load_long_runs",
    "load_model_results",
    "results_folder",
    "targets_markdown",
]
