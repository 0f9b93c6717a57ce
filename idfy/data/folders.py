"""Kept import path: the loaders of a user's own data live in :mod:`idfy.data.formats` (one module per format,
:mod:`idfy.data.formats.loader` dispatching). Scripts written against ``idfy.data.folders`` keep working."""

from __future__ import annotations

from idfy.data.formats.loader import HOLDOUT_PERCENT, SPLITS, USER_FORMATS, detect_format, load_user_dataset

__all__ = ["HOLDOUT_PERCENT", "SPLITS", "USER_FORMATS", "detect_format", "load_user_dataset"]
