"""Checkpoints: written atomically with a SHA-256 per field, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors, dicts, lists, str, int, float, bool and None only, so it loads
without unpickling arbitrary objects::

    format       "idfy-checkpoint"        version   2
    sha256       {field: hex SHA-256 of the field's value}  (see :mod:`idfy.train.digest`)
    model_config ModelConfig as YAML text  train_config  TrainConfig as a dict
    model        state_dict                optimizer / schedule   state dicts (None in a weights-only file)
    rng          {"torch", "cuda", "python", "numpy", "data"} generator states as uint8/int64 tensors
    step, epoch, batch_in_epoch, steps_per_epoch, batch_size, train_images, elapsed_s, best_score, best_step,
    metrics, classes, task

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

The parts: :mod:`idfy.train.files` (atomic writes, one-line I/O errors), :mod:`idfy.train.rng` (the random
states), :mod:`idfy.train.verify` (the checks of a loaded dict); this module reads and writes the format and
re-exports those names.
"""

from __future__ import annotations

import io
import logging
import pickle
import pickletools
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from idfy.config import ConfigError, ModelConfig
from idfy.train.digest import sha256_of
from idfy.train.files import atomic_write_bytes, remove_stale_temporaries, write_error_text
from idfy.train.rng import capture_rng, restore_rng
from idfy.train.verify import checksum_problem, field_problem, resume_problem, sanity_problem, short

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

_MAX_PICKLE_SCAN = 64 * 2**20


class CheckpointError(ValueError):
    """A file idfy will not use as a checkpoint; ``str()`` is one line, ``"PATH: what is wrong; what to do"``.

    Attributes:
        path: the file. detail: what is wrong with it. advice: what to do instead.
    """

    def __init__(self, path: str | Path, detail: str, advice: str) -> None:
        self.path, self.detail, self.advice = str(path), detail, advice
        super().__init__(f"{path}: {detail}; {advice}")


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


def resolve_checkpoint(run_or_ckpt: str | Path) -> Path:
    """A checkpoint file, or a run folder -> the file's path. In a folder, ``last.pt`` first: at the end of a run
    it holds the final weights, those its final metrics (``summary.json``, the done line) were measured on;
    ``best.pt`` (the best evaluation on the held-out subset during the run) when there is no ``last.pt``.

    Raises:
        FileNotFoundError: nothing usable there (the message says what was looked for).
    """
    p = Path(run_or_ckpt).expanduser()
    if p.is_dir():
        for name in ("last.pt", "best.pt"):
            if (p / name).is_file():
                return p / name
        raise FileNotFoundError(f"run folder {str(p)!r} holds no last.pt or best.pt; has it trained yet?")
    if p.is_file():
        return p
    raise FileNotFoundError(f"checkpoint {str(p)!r} does not exist; give a .pt file or a run folder")


def load_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu", *, resume: bool = False
) -> dict[str, Any]:
    """Load a checkpoint (file or run folder) with ``weights_only=True`` and verify it (module docstring).

    Args:
        path: a ``.pt`` file or a run folder (``last.pt`` first, see :func:`resolve_checkpoint`).
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
        raise CheckpointError(p, f"{what} (its version is {short(version)})", advice)
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(
            p, f"checkpoint version {version} is newer than this idfy understands", "update idfy to read it"
        )
    problem = field_problem(ckpt)
    if problem is None and resume:
        problem = resume_problem(ckpt)
    notes: list[str] = []
    if problem is None and version >= 2:
        problem = checksum_problem(ckpt)
    elif problem is None:
        problem = sanity_problem(ckpt)
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


def model_config_of(ckpt: dict[str, Any]) -> ModelConfig:
    """The :class:`ModelConfig` stored in a loaded checkpoint.

    Raises:
        ConfigError: (a ``ValueError``) the stored config is missing or invalid.
    """
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
