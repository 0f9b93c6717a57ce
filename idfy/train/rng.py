"""The random states of a training run (torch, CUDA, Python, NumPy and the data generator), captured as
values ``torch.load(weights_only=True)`` reads back, and restored for an exact resume."""

from __future__ import annotations

import logging
import random
from typing import Any

import numpy as np
import torch

__all__ = ["capture_rng", "restore_rng"]

log = logging.getLogger(__name__)


def capture_rng(data_state: torch.Tensor | None = None) -> dict[str, Any]:
    """Every random state a training run draws from, as weights_only-loadable values.

    ``data_state``: the state of the generator that shuffles and augments the data (``Generator.get_state()``).
    """
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": _python_state_to_tensor(random.getstate()),
        "numpy": _numpy_state_to_plain(np.random.get_state()),
        "data": data_state,
    }
    return state


def restore_rng(state: dict[str, Any], data_generator: torch.Generator | None = None) -> None:
    """Inverse of :func:`capture_rng`.

    Raises:
        ValueError: a state of the wrong size or kind (nothing is changed when the torch state is the bad one).
    """
    try:
        torch.set_rng_state(state["torch"].cpu())
        if (
            state.get("cuda")
            and torch.cuda.is_available()
            and len(state["cuda"]) == torch.cuda.device_count()
        ):
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
        random.setstate(_python_state_from_tensor(state["python"]))
        np.random.set_state(_numpy_state_from_plain(state["numpy"]))
        if data_generator is not None and state.get("data") is not None:
            data_generator.set_state(state["data"].cpu())
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as e:
        log.debug("restoring the RNG states failed", exc_info=True)
        raise ValueError(
            f"the saved random-generator states cannot be restored ({type(e).__name__})"
        ) from None


def _python_state_to_tensor(st: tuple[Any, ...]) -> dict[str, Any]:
    version, internal, gauss = st
    return {"version": int(version), "internal": torch.tensor(internal, dtype=torch.int64), "gauss": gauss}


def _python_state_from_tensor(d: dict[str, Any]) -> tuple[Any, ...]:
    return (d["version"], tuple(int(v) for v in d["internal"].tolist()), d["gauss"])


def _numpy_state_to_plain(st: tuple[Any, ...]) -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = st
    return {
        "name": str(name),
        "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached": float(cached),
    }


def _numpy_state_from_plain(d: dict[str, Any]) -> tuple[Any, ...]:
    keys = d["keys"].numpy().astype(np.uint32)
    return (d["name"], keys, d["pos"], d["has_gauss"], d["cached"])
