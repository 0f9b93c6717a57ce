"""The Train tab's prepared data: built once per setting and kept for the next run, the demo's prepared ahead.

Rendering the demo's 12,000 fashion-canvas images at 64 px takes 4-5 s of one core: a twelfth of the demo's
minute, which counts from Start. The app prepares the demo's data while the page loads (:func:`prepare_ahead`)
and keeps the last :data:`KEEP` datasets, so Start goes straight to training; a run that finds its data still
being prepared waits for it, and that wait counts against its budget as preparing would. Only built-in data
reaches this (the tab offers no paths), whose images depend only on the settings in the key: the run's
:class:`~idfy.data.DataSpec` (:func:`idfy.train.setup.data_spec`), the very value the data are built from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from idfy.data import DataSpec
from idfy.train.config import TrainConfig
from idfy.train.race import load_data
from idfy.train.setup import data_spec

__all__ = ["KEEP", "clear", "prepare_ahead", "prepared_data"]

log = logging.getLogger("idfy.ui")

#: Datasets kept (the demo's fashion-canvas: about 150 MB of uint8 images).
KEEP = 2
_LOCK = threading.Lock()
_KEPT: OrderedDict[DataSpec, tuple[Any, Any]] = OrderedDict()


def prepared_data(tc: TrainConfig) -> tuple[tuple[Any, Any], float]:
    """``((train_set, test_set), seconds this call spent)`` for ``tc``: kept data at once, else built (and kept).

    A call while the same or other data is being prepared waits for it (one preparation at a time: two would
    share the cores and both take longer).

    Raises:
        the errors of :func:`idfy.train.race.load_data` (ConfigError, ValueError, FileNotFoundError).
    """
    t0 = time.monotonic()
    key = data_spec(tc)  # all make_data builds from: a new data setting is part of the key by construction
    with _LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return _KEPT[key], time.monotonic() - t0
        data = load_data(tc)
        _KEPT[key] = data
        while len(_KEPT) > KEEP:
            _KEPT.popitem(last=False)
    return data, time.monotonic() - t0


def prepare_ahead(tc: TrainConfig) -> threading.Thread:
    """Prepare ``tc``'s data in a background thread (a failure is logged: the run will report it when it asks)."""

    def work() -> None:
        try:
            prepared_data(tc)
        except Exception:  # the data may be missing here; Start says so in one line
            log.info("the demo's data could not be prepared ahead", exc_info=True)

    # not a daemon: a process that ends while the images are being rendered waits for them (seconds) instead of
    # tearing down torch's threads under it (an abort at exit)
    thread = threading.Thread(target=work, name="idfy-prepare-data", daemon=False)
    thread.start()
    return thread


def clear() -> None:
    """Forget every kept dataset."""
    with _LOCK:
        _KEPT.clear()
