"""Checkpoints: written atomically with a SHA-256 per field, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors, dicts, lists, str, int, float, bool and None only, so it loads
without unpickling arbitrary objects::

    format       "idfy-checkpoint"        version   2
    sha256       {field: hex SHA-256 of the field's value}  (see :mod:`idfy.train.digest`)
    model_config ModelConfig as YAML text  train_config  TrainConfig as a dict
    model        state_dict                optimizer / schedule   state dicts (None in a weights-only file)
    rng          {"torch", "cuda", "python", "numpy", "data"} generator states as uint8/int64 tensors
    step, epoch, batch_in_epoch, steps_per_epoch, batch_size, elapsed_s, best_score, metrics, classes, task

Writing serializes in memory first, then fills a temporary file in the target folder, flushes and fsyncs
it and ``os.replace``-s it over the destination: a crash (or ``kill -9``) leaves the old file or the new
one, and a full disk surfaces as a plain ``OSError`` with its errno.

Reading refuses, with one line that names the file and what to do (:class:`CheckpointError`, a
``ValueError``): a file ``torch.load(weights_only=True)`` cannot read (a pickled model object is named as
such and never unpickled), a dict without ``format: idfy-checkpoint``, a field of the wrong type, (for a
resume) a missing field a resume needs, and a field whose SHA-256 differs from the stored one. Version-1
files (written before checksums) are accepted with a note in ``ckpt["notes"]`` once their float tensors are
finite and of sane magnitude: refusing them would strand every run trained before, and that check catches
the usual effect of flipped bytes (huge or non-finite weights).
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import math
import os
import pickle
import pickletools
import random
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from idfy.config import ModelConfig
from idfy.train.digest import sha256_of

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "CheckpointError",
    "atomic_write_bytes",
    "capture_rng",
    "load_checkpoint",
    "load_model_weights",
    "model_config_of",
    "remove_stale_temporaries",
    "resolve_checkpoint",
    "restore_rng",
    "save_checkpoint",
    "write_error_text",
]

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "idfy-checkpoint"
CHECKPOINT_VERSION = 2

_SANE_MAGNITUDE = 1e8  # largest |value| accepted in an unchecksummed (version-1) file's float tensors
_MAX_PICKLE_SCAN = 64 * 2**20
_RESUME_FIELDS = ("model_config", "model", "optimizer", "rng", "step", "epoch", "batch_in_epoch", "elapsed_s")
_META = ("format", "version", "sha256")
_FIELD_WORDS = {
    "model": "the weights ('model')",
    "model_config": "the model config",
    "optimizer": "the optimizer state",
    "rng": "the random-generator states ('rng')",
    "train_config": "the training settings",
}


class CheckpointError(ValueError):
    """A file idfy will not use as a checkpoint; ``str()`` is one line, ``"PATH: what is wrong; what to do"``.

    Attributes:
        path: the file. detail: what is wrong with it. advice: what to do instead.
    """

    def __init__(self, path: str | Path, detail: str, advice: str) -> None:
        self.path, self.detail, self.advice = str(path), detail, advice
        super().__init__(f"{path}: {detail}; {advice}")


# --------------------------------------------------------------------------- writing
def atomic_write_bytes(path: str | Path, write: Any) -> Path:
    """Write a file atomically: ``write(fileobj)`` fills a temporary file in the same folder, which is
    flushed, fsync'ed and renamed over ``path``; the folder is fsync'ed too where the OS allows it.

    Raises:
        OSError: the folder cannot be created or written (no space, read-only, ...); the temporary file is
            removed and an existing ``path`` stays as it was.
    """
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
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None and e.filename is None:
            e.filename = str(path)  # say which file a failed write or fsync was for
        raise
    _fsync_dir(path.parent)
    return path


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files (``.NAME.pt.*.tmp``) a killed run left in ``folder``; returns them."""
    removed = []
    for tmp in Path(folder).glob(".*.pt.*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


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
    """Save ``state`` (plain data only, see the module docstring) atomically to ``path``, with the SHA-256 of
    every field.

    Raises:
        OSError: writing failed (see :func:`atomic_write_bytes`); :func:`write_error_text` words it.
        TypeError: ``state`` holds something other than plain data and tensors.
    """
    sums = {k: sha256_of(v) for k, v in state.items()}
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "sha256": sums, **state}
    buf = io.BytesIO()
    torch.save(payload, buf)
    return atomic_write_bytes(path, lambda f: f.write(buf.getbuffer()))


def write_error_text(e: OSError, action: str = "writing") -> str:
    """One line for a failed write (or read: ``action="reading"``), e.g.
    ``"no space left on device writing runs/x/last.pt"``."""
    reasons = {
        errno.ENOSPC: "no space left on device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EFBIG: "file too large for the file system",
        errno.EIO: "input/output error on the device",
    }
    reason = reasons.get(e.errno) if e.errno is not None else None
    if reason is None:
        reason = os.strerror(e.errno).lower() if e.errno else type(e).__name__
    return f"{reason} {action} {e.filename}" if e.filename else reason


# --------------------------------------------------------------------------- reading
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


def load_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu", *, resume: bool = False
) -> dict[str, Any]:
    """Load a checkpoint (file or run folder) with ``weights_only=True`` and verify it (module docstring).

    Args:
        path: a ``.pt`` file or a run folder (``best.pt`` first).
        map_location: where the tensors go.
        resume: also require what resuming a run needs (optimizer state, RNG states, the position).

    Returns:
        The checkpoint's fields plus ``path`` (str) and ``notes`` (list of str, e.g. that there is no checksum).

    Raises:
        FileNotFoundError: no such file, or no checkpoint in the folder.
        CheckpointError: (a ``ValueError``) the file is not a usable (resumable) idfy checkpoint.
    """
    p = resolve_checkpoint(path)
    what = "not a resumable idfy checkpoint" if resume else "not a usable idfy checkpoint"
    advice = (
        "restart the run without --resume (or with another --out)"
        if resume
        else "use a best.pt / last.pt written by idfy training, or train again"
    )
    ckpt = _read(p, map_location, advice)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(p, f"not an idfy checkpoint (no 'format: {CHECKPOINT_FORMAT}' entry)", advice)
    version = ckpt.get("version", 1)
    if type(version) is not int or version < 1:
        raise CheckpointError(p, f"{what} (its version is {_short(version)})", advice)
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(
            p, f"checkpoint version {version} is newer than this idfy understands", "update idfy to read it"
        )
    problem = _field_problem(ckpt)
    if problem is None and resume:
        problem = _resume_problem(ckpt)
    notes: list[str] = []
    if problem is None and version >= 2:
        problem = _checksum_problem(ckpt)
    elif problem is None:
        problem = _sanity_problem(ckpt)
        notes.append(f"{p.name} has no checksum (written by an older idfy); its integrity was not verified")
    if problem is not None:
        raise CheckpointError(p, f"{what} ({problem})", advice)
    ckpt.pop("sha256", None)
    ckpt["path"] = str(p)
    ckpt["notes"] = notes
    return ckpt


def _read(p: Path, map_location: str | torch.device, advice: str) -> Any:
    """``torch.load(weights_only=True)`` after checking the archive's CRCs (which ``torch.load`` skips)."""
    damaged = "damaged: its PyTorch archive cannot be read (truncated or corrupted)"
    try:
        with zipfile.ZipFile(p) as z:
            bad = z.testzip()
    except zipfile.BadZipFile:
        raise CheckpointError(
            p, "not a PyTorch checkpoint file (truncated, or another kind of file)", advice
        ) from None
    except Exception:  # zlib / struct / OS errors from a mangled archive
        log.debug("checking the archive %s failed", p, exc_info=True)
        raise CheckpointError(p, damaged, advice) from None
    if bad is not None:
        raise CheckpointError(
            p, f"damaged: checksum mismatch in archive entry {bad!r} (flipped or overwritten bytes)", advice
        )
    try:
        return torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        # weights_only refused a global (nothing was unpickled), or the pickle itself is broken
        log.debug("weights-only load of %s refused", p, exc_info=True)
        names = _pickled_globals(p)
        if not names:
            raise CheckpointError(p, damaged, advice) from None
        raise CheckpointError(p, *_pickled_objects_text(names)) from None
    except MemoryError:
        raise CheckpointError(p, "too large to load into memory", advice) from None
    except Exception:  # truncated / damaged files fail in many ways, all worded by torch
        log.debug("torch.load of %s failed", p, exc_info=True)
        raise CheckpointError(p, damaged, advice) from None


def _pickled_objects_text(names: list[str]) -> tuple[str, str]:
    """(what, what to do) for a file ``weights_only`` refused, from the class names in its pickle (never run)."""
    model_prefixes = ("torch.nn.", "idfy.", "timm.", "torchvision.models")
    models = [n for n in names if n.startswith(model_prefixes) and not n.startswith("torch.nn.parameter")]
    if models:
        what = f"a pickled model object ({models[0]}), not an idfy checkpoint"
    else:
        what = f"pickled Python objects ({names[0]}), not an idfy checkpoint; idfy never unpickles objects"
    return what, (
        "idfy reads only checkpoints written by training (best.pt / last.pt): load the model in Python and "
        "save it with idfy's checkpoint format (idfy.train.checkpoint.save_checkpoint)"
    )


def _pickled_globals(p: Path) -> list[str]:
    """The ``module.name`` globals a torch zip archive's pickle refers to, read with pickletools (no import)."""
    try:
        with zipfile.ZipFile(p) as z:
            infos = [i for i in z.infolist() if i.filename.endswith("data.pkl")]
            if not infos or infos[0].file_size > _MAX_PICKLE_SCAN:
                return []
            data = z.read(infos[0])
        found: list[str] = []
        strings: list[Any] = []
        memo: dict[Any, Any] = {}
        for op, arg, _ in pickletools.genops(data):
            if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                strings.append(arg)
            elif op.name == "MEMOIZE":
                memo[len(memo)] = strings[-1] if strings else None
            elif op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = strings[-1] if strings else None
            elif op.name in ("GET", "BINGET", "LONG_BINGET"):
                strings.append(memo.get(arg))
            elif op.name == "GLOBAL":
                found.append(str(arg).replace(" ", "."))
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                found.append(f"{strings[-2]}.{strings[-1]}")
        allowed = ("torch._utils.", "collections.OrderedDict", "torch.")
        return [n for n in dict.fromkeys(found) if not n.startswith(allowed) or n.startswith("torch.nn.")]
    except Exception:  # a description only: any trouble reading it means no names
        log.debug("could not list the pickled classes of %s", p, exc_info=True)
        return []


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _field_problem(ckpt: dict[str, Any]) -> str | None:
    """The first field with a wrong type, worded; None when all present fields are well-formed."""
    kinds: dict[str, tuple[str, Any]] = {
        "model_config": ("YAML text", lambda v: isinstance(v, str)),
        "model": ("a dict of tensors", lambda v: isinstance(v, dict)
                  and all(isinstance(k, str) and isinstance(t, torch.Tensor) for k, t in v.items())),
        "train_config": ("a dict", lambda v: v is None or isinstance(v, dict)),
        "optimizer": ("an optimizer state dict", lambda v: v is None or (
            isinstance(v, dict) and isinstance(v.get("state"), dict) and isinstance(v.get("param_groups"), list))),
        "schedule": ("a dict", lambda v: v is None or isinstance(v, dict)),
        "rng": ("a dict of generator states", lambda v: v is None or isinstance(v, dict)),
        "step": ("a whole number >= 0", lambda v: _is_int(v) and v >= 0),
        "epoch": ("a whole number >= 0", lambda v: _is_int(v) and v >= 0),
        "batch_in_epoch": ("a whole number >= 0", lambda v: _is_int(v) and v >= 0),
        "steps_per_epoch": ("a whole number >= 1", lambda v: v is None or (_is_int(v) and v >= 1)),
        "batch_size": ("a whole number >= 1", lambda v: v is None or (_is_int(v) and v >= 1)),
        "elapsed_s": ("seconds >= 0", lambda v: _is_number(v) and math.isfinite(v) and v >= 0),
        "best_score": ("two numbers", lambda v: v is None or (
            isinstance(v, list | tuple) and len(v) == 2 and all(_is_number(x) for x in v))),
        "metrics": ("a dict of held-out metrics", lambda v: v is None or (isinstance(v, dict) and all(
            _is_number(v[k]) for k in ("n", "accuracy", "mean_iou", "loc_accuracy") if k in v))),
        "classes": ("a list of names", lambda v: v is None or (
            isinstance(v, list | tuple) and all(isinstance(c, str) for c in v))),
        "task": ("a name", lambda v: v is None or isinstance(v, str)),
        "data": ("a name", lambda v: v is None or isinstance(v, str)),
        "data_channels": ("a channel count", lambda v: v is None or (_is_int(v) and v >= 1)),
        "sha256": ("a dict of hex digests", lambda v: isinstance(v, dict)
                   and all(isinstance(k, str) and isinstance(d, str) for k, d in v.items())),
    }  # fmt: skip
    for name, (expected, ok) in kinds.items():
        if name in ckpt and not ok(ckpt[name]):
            return f"'{name}' should be {expected}, not {type(ckpt[name]).__name__} {_short(ckpt[name])}"
    return None


def _resume_problem(ckpt: dict[str, Any]) -> str | None:
    missing = [k for k in _RESUME_FIELDS if k not in ckpt]
    if missing:
        return "missing " + ", ".join(f"'{k}'" for k in missing)
    if ckpt["optimizer"] is None or ckpt["rng"] is None:
        return "it holds weights only, like best.pt; a resume needs last.pt with the optimizer and RNG states"
    rng = ckpt["rng"]
    py, npy = rng.get("python"), rng.get("numpy")
    well_formed = (
        isinstance(rng.get("torch"), torch.Tensor)
        and rng["torch"].dtype == torch.uint8
        and isinstance(rng.get("cuda", []), list)
        and isinstance(py, dict)
        and isinstance(py.get("internal"), torch.Tensor)
        and _is_int(py.get("version"))
        and isinstance(npy, dict)
        and isinstance(npy.get("keys"), torch.Tensor)
        and isinstance(npy.get("name"), str)
        and _is_int(npy.get("pos"))
        and (rng.get("data") is None or isinstance(rng["data"], torch.Tensor))
    )
    return None if well_formed else "'rng' does not hold the generator states a resume restores"


def _checksum_problem(ckpt: dict[str, Any]) -> str | None:
    sums = ckpt.get("sha256")
    if sums is None:
        return "damaged: its checksums are missing"
    fields = [k for k in ckpt if k not in _META]
    for k in fields:
        if k not in sums:
            return f"'{k}' was added after it was written (no checksum for it)"
    for k in sums:
        if k not in ckpt:
            return f"missing '{k}', which it was written with"
    for k in fields:
        try:
            same = sha256_of(ckpt[k]) == sums[k]
        except TypeError:
            same = False
        if not same:
            return (
                f"damaged: checksum mismatch in {_FIELD_WORDS.get(k, repr(k))}, changed after it was written"
            )
    return None


def _sanity_problem(ckpt: dict[str, Any]) -> str | None:
    """For files without checksums: every float tensor of the weights finite and below ``_SANE_MAGNITUDE``."""
    for name, t in (ckpt.get("model") or {}).items():
        if t.is_floating_point() and t.numel():
            worst = float(t.detach().abs().max())
            if not math.isfinite(worst) or worst > _SANE_MAGNITUDE:
                return f"damaged: weight {name!r} holds {worst:.3g}, a value no trained network has"
    return None


def model_config_of(ckpt: dict[str, Any]) -> ModelConfig:
    """The :class:`ModelConfig` stored in a loaded checkpoint.

    Raises:
        ConfigError: (a ``ValueError``) the stored config is missing or invalid.
    """
    from idfy.config import ConfigError

    text = ckpt.get("model_config")
    if not isinstance(text, str):
        raise ConfigError(
            f"{ckpt.get('path', 'the checkpoint')}: holds no model config; it cannot build a model"
        )
    return ModelConfig.from_yaml(text)


def load_model_weights(model: nn.Module, ckpt: dict[str, Any]) -> None:
    """Load ``ckpt["model"]`` into ``model`` (strictly).

    Raises:
        CheckpointError: the weights do not fit the network (another design's weights, missing tensors);
            the message names the first mismatching tensor, without PyTorch's text.
    """
    path = ckpt.get("path", "checkpoint")
    state = ckpt.get("model")
    advice = "use a checkpoint written for this design, or train again"
    if not isinstance(state, dict):
        raise CheckpointError(path, "holds no weights ('model')", advice)
    want = model.state_dict()
    for name, t in want.items():
        if name not in state:
            raise CheckpointError(
                path, f"the weights do not match its model_config (no tensor {name!r})", advice
            )
        if tuple(state[name].shape) != tuple(t.shape):
            raise CheckpointError(
                path,
                f"the weights do not match its model_config ({name!r} is {tuple(state[name].shape)}, "
                f"the design needs {tuple(t.shape)})",
                advice,
            )
    extra = [k for k in state if k not in want]
    if extra:
        raise CheckpointError(
            path, f"the weights do not match its model_config (unexpected tensor {extra[0]!r})", advice
        )
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError) as e:  # e.g. a dtype that cannot be copied
        log.debug("load_state_dict from %s failed", path, exc_info=True)
        raise CheckpointError(path, f"the weights do not load ({type(e).__name__})", advice) from None


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
