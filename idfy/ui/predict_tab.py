"""Kept import path: the Predict tab is the package :mod:`idfy.ui.tabs.predict`; its checkpoint reader is
:mod:`idfy.ui.tabs.predict.checkpoints`. Scripts written against ``idfy.ui.predict_tab`` keep working."""

from __future__ import annotations

from idfy.ui.tabs.predict.checkpoints import MAX_CHECKPOINT_BYTES, Loaded, load_predictor

__all__ = ["MAX_CHECKPOINT_BYTES", "Loaded", "load_predictor"]
