"""What is wrong with a checkpoint dict read from disk, in words: a field of the wrong type, a field a resume
needs that is missing, a SHA-256 that differs from the stored one, or (files without checksums) weights no
trained network has. Each check returns None or the problem as a phrase; :func:`idfy.train.checkpoint.load_checkpoint`
turns it into a :class:`~idfy.train.checkpoint.CheckpointError`."""

from __future__ import annotations

import math
from typing import Any

import torch

from idfy.train.digest import sha256_of

__all__ = ["checksum_problem", "field_problem", "resume_problem", "sanity_problem", "short"]

_SANE_MAGNITUDE = 1e8  # largest |value| accepted in an unchecksummed (version-1) file's float tensors
_RESUME_FIELDS = ("model_config", "model", "optimizer", "rng", "step", "epoch", "batch_in_epoch", "elapsed_s")
_META = ("format", "version", "sha256")
_FIELD_WORDS = {
    "model": "the weights ('model')",
    "model_config": "the model config",
    "optimizer": "the optimizer state",
    "rng": "the random-generator states ('rng')",
    "train_config": "the training settings",
}


def short(value: Any) -> str:
    """``repr(value)``, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def field_problem(ckpt: dict[str, Any]) -> str | None:
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
            return f"'{name}' should be {expected}, not {type(ckpt[name]).__name__} {short(ckpt[name])}"
    return None


def resume_problem(ckpt: dict[str, Any]) -> str | None:
    """What a resume needs and ``ckpt`` lacks: the fields, the optimizer and well-formed RNG states."""
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


def checksum_problem(ckpt: dict[str, Any]) -> str | None:
    """A field added, missing or changed since it was written (its SHA-256, :mod:`idfy.train.digest`)."""
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


def sanity_problem(ckpt: dict[str, Any]) -> str | None:
    """For files without checksums: every float tensor of the weights finite and below ``_SANE_MAGNITUDE``."""
    for name, t in (ckpt.get("model") or {}).items():
        if t.is_floating_point() and t.numel():
            worst = float(t.detach().abs().max())
            if not math.isfinite(worst) or worst > _SANE_MAGNITUDE:
                return f"damaged: weight {name!r} holds {worst:.3g}, a value no trained network has"
    return None
