"""The Predict tab's model: this session's latest checkpoint from the Train tab (:mod:`idfy.ui.jobs`) or an
uploaded ``.pt`` file, loaded by :meth:`idfy.predict.Predictor.from_loaded` (``torch.load(weights_only=True)``),
size-capped, memory-checked and cached."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idfy.analysis.memory import check_memory
from idfy.config import ConfigError
from idfy.predict import Predictor
from idfy.train.checkpoint import load_checkpoint, model_config_of
from idfy.ui.jobs import JobRegistry

__all__ = [
    "LATEST",
    "MAX_CHECKPOINT_BYTES",
    "NO_CHECKPOINT",
    "UPLOADED",
    "Loaded",
    "load_predictor",
    "resolve_checkpoint",
]

LATEST = "latest from Train"
UPLOADED = "uploaded .pt"
MAX_CHECKPOINT_BYTES = 100 * 2**20
NO_CHECKPOINT = (
    "No checkpoint yet: train a model in the Train tab first or upload a checkpoint (.pt) here "
    "(a page reload starts a new session)."
)


@dataclass
class Loaded:
    """A predictor and what to say about its checkpoint. ``lock``: one prediction at a time per model (the stage
    views are collected by forward hooks on the shared module)."""

    predictor: Any
    info: dict[str, Any]
    lock: threading.Lock = field(default_factory=threading.Lock)


@functools.lru_cache(maxsize=4)
def _load(path: str, _mtime_ns: int, _size: int) -> Loaded:
    ckpt = load_checkpoint(path, map_location="cpu")  # weights_only=True
    cfg = model_config_of(ckpt)
    check_memory(cfg)  # a crafted config must not make the server build an enormous model
    predictor = Predictor.from_loaded(ckpt)  # the file is read and verified once
    stored = ckpt.get("metrics") if isinstance(ckpt.get("metrics"), dict) else {}
    info = {
        "model": cfg.name,
        "dataset": ckpt.get("data"),
        "step": ckpt.get("step"),
        "size": int(cfg.input.size[0]),
        "classes": list(predictor.classes),
        # the held-out metrics stored with the weights (for the chance-level check)
        "metrics": {k: stored[k] for k in ("n", "accuracy", "mean_iou", "loc_accuracy") if k in stored},
    }
    del ckpt
    return Loaded(predictor, info)


def load_predictor(path: str | Path) -> Loaded:
    """Load (and cache by path, modification time and size) a checkpoint as a :class:`Loaded` predictor.

    Raises:
        ValueError: the file is missing, too large, or not a usable idfy checkpoint (the message says why).
    """
    p = Path(path)
    name = p.name
    try:
        st = p.stat()
    except OSError:
        raise ValueError(f"{name}: the checkpoint file is gone; train again or upload it again") from None
    if st.st_size > MAX_CHECKPOINT_BYTES:
        raise ValueError(
            f"{name}: {st.st_size / 2**20:.0f} MB is more than the {MAX_CHECKPOINT_BYTES // 2**20} MB a checkpoint may have"
        )
    try:
        return _load(str(p), st.st_mtime_ns, st.st_size)
    except ConfigError as e:
        raise ValueError(f"{name}: the checkpoint's design cannot be used here ({e})") from None
    except ValueError as e:
        raise ValueError(f"{name}: {str(e).removeprefix(str(p) + ': ')}") from None
    except (RuntimeError, KeyError, TypeError) as e:  # weights that do not fit the stored design
        raise ValueError(f"{name}: not a usable idfy checkpoint ({type(e).__name__}: {e})") from None


def resolve_checkpoint(
    source: str, upload: str | None, session: str | None, registry: JobRegistry
) -> tuple[Loaded, str]:
    """(predictor, where it came from) for the chosen source; ValueError with the reason otherwise."""
    if source == UPLOADED:
        if not upload:
            raise ValueError("upload a checkpoint (.pt) first, or choose 'latest from Train'")
        if Path(upload).suffix.lower() not in (".pt", ".pth"):
            raise ValueError(f"{Path(upload).name}: upload a .pt checkpoint written by idfy")
        return load_predictor(upload), f"uploaded {Path(upload).name}"
    latest = registry.latest(session)
    if latest is None:
        raise LookupError(NO_CHECKPOINT)
    loaded = load_predictor(latest.path)
    loaded.info.update({k: v for k, v in latest.info.items() if v is not None})
    return loaded, "latest from Train"
