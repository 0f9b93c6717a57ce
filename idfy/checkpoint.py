"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors, dicts, lists, str, int, float, bool and None only, so it loads
without unpickling arbitrary objects::

    format       "idfy-checkpoint"        version   1
    model_config ModelConfig as YAML text  train_config  TrainConfig as a dict
    model        state_dict                optimizer / schedule   state dicts (None in a weights-only file)
    rng          {"torch", "cuda", "python", "numpy", "data"} generator states as uint8/int64 tensors
    step, epoch, batch_in_epoch, elapsed_s, best_metric, metrics (last evaluation), classes, task

Writing goes to a temporary file in the target folder, is flushed and fsync'ed, then ``os.replace``-d
over the destination, so a crash (or ``kill -9``) leaves either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from idfy.config import ModelConfig

__all__ = [
    "CHECKPOINT_FORMAT",
    "atomic_write_bytes",
    "capture_rng",
    "load_checkpoint",
    "model_config_of",
    "resolve_checkpoint",
    "restore_rng",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "idfy-checkpoint"
CHECKPOINT_VERSION = 1


def atomic_write_bytes(path: str | Path, write: Any) -> Path:
    """Write a file atomically: ``write(fileobj)`` fills a temporary file in the same folder, which is
    flushed, fsync'ed and renamed over ``path``; the folder is fsync'ed too where the OS allows it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a run folder's files are meant to be shared like any other
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Save ``state`` (plain data only, see the module docstring) atomically to ``path``."""
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}
    return atomic_write_bytes(path, lambda f: torch.save(payload, f))


def resolve_checkpoint(run_or_ckpt: str | Path) -> Path:
    """A checkpoint file, or a run folder (``best.pt`` preferred, then ``last.pt``) -> the file's path.

    Raises:
        FileNotFoundError: nothing usable there (the message says what was looked for).
    """
    p = Path(run_or_ckpt).expanduser()
    if p.is_dir():
        for name in ("best.pt", "last.pt"):
            if (p / name).is_file():
                return p / name
        raise FileNotFoundError(f"run folder {str(p)!r} holds no best.pt or last.pt; has it trained yet?")
    if p.is_file():
        return p
    raise FileNotFoundError(f"checkpoint {str(p)!r} does not exist; give a .pt file or a run folder")


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint (file or run folder) with ``weights_only=True``.

    Raises:
        ValueError: the file is not an idfy checkpoint or cannot be read.
    """
    p = resolve_checkpoint(path)
    try:
        ckpt = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as e:  # a truncated / foreign file: unpickling errors of many kinds
        raise ValueError(f"{p}: not a readable idfy checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{p}: not an idfy checkpoint (no 'format: {CHECKPOINT_FORMAT}' entry)")
    if int(ckpt.get("version", 0)) > CHECKPOINT_VERSION:
        raise ValueError(f"{p}: checkpoint version {ckpt['version']} is newer than this idfy understands")
    ckpt["path"] = str(p)
    return ckpt


def model_config_of(ckpt: dict[str, Any]) -> ModelConfig:
    """The :class:`ModelConfig` stored in a loaded checkpoint."""
    return ModelConfig.from_yaml(ckpt["model_config"])


# --------------------------------------------------------------------------- RNG states
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
    """Inverse of :func:`capture_rng`."""
    torch.set_rng_state(state["torch"].cpu())
    if state.get("cuda") and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    random.setstate(_python_state_from_tensor(state["python"]))
    np.random.set_state(_numpy_state_from_plain(state["numpy"]))
    if data_generator is not None and state.get("data") is not None:
        data_generator.set_state(state["data"].cpu())


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
