"""Registry of dense sub-stream kinds (S2b, S4): the values of ``stages.*.dense.kind``.

A kind is registered by the layer file that defines its module, in the manner of timm's ``register_model`` /
``get_attn``: ``register_dense_kind(DenseKind(name="gc", build=GlobalContext, ...))`` at the end of
``idfy/layers/global_context.py``. Everything that used to list the kinds reads this registry instead:

* :mod:`idfy.config` accepts exactly the registered names (plus ``none``) and runs each kind's ``check``;
* :mod:`idfy.model` builds ``stages.{i}.fusion.streams.dense`` with ``build``;
* :mod:`idfy.analysis.receptive_field` marks the field global after a kind with ``global_``;
* :mod:`idfy.diagram` draws the node with ``title``, ``colour`` and ``legend``;
* :mod:`idfy.ui.controls` offers the names in the ``dense`` dropdown, with ``summary`` as its help text;
* :mod:`idfy.analysis` counts every kind under the ``dense`` path (:data:`SLOTS`).

The registry is filled on first lookup by importing every module of :mod:`idfy.layers`; a new kind is one new
layer file that calls :func:`register_dense_kind`. This module imports neither torch nor the config.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "NONE",
    "SLOTS",
    "DenseKind",
    "dense_kind",
    "dense_kind_names",
    "dense_kinds",
    "load_layers",
    "register_dense_kind",
]

#: ``dense.kind`` value that turns the dense sub-stream off.
NONE = "none"
#: Sub-stream slots of a stage: module names under ``fusion.streams`` and analysis paths.
SLOTS = ("gaussian", "dense")


@dataclass(frozen=True)
class DenseKind:
    """One dense sub-stream kind.

    Attributes:
        name: the ``stages.*.dense.kind`` value (``gc``, ``fc``, ...).
        build: ``build(in_chs=, out_chs=, reduction=, act_layer=)`` returns a module mapping
            (B, in_chs, H, W) to (B, out_chs, H, W).
        title: what the diagram node says (``GCNet global context``).
        summary: one line for the control's help and the glossary, with the source (paper or seed item).
        colour: the diagram node's fill colour.
        legend: the legend's words for that colour.
        global_: every output position sees every input position (the receptive field becomes global).
        check: optional ``check(where, in_shape, reduction, width)`` raising :class:`idfy.config.ConfigError`
            before anything is built (``in_shape`` is the (C, H, W) map the stream reads).
        act_floats: optional ``act_floats(in_shape, reduction, width)``: floats per image it keeps beyond its
            layers' outputs (the app's memory guard adds them).
        position: where the kind is listed (controls, messages): by ``position``, then by name.
    """

    name: str
    build: Callable[..., Any]
    title: str
    summary: str
    colour: str = "#e4d4f4"
    legend: str = "dense sub-stream (S2b)"
    global_: bool = True
    check: Callable[[str, tuple[int, int, int], int, int], None] | None = None
    act_floats: Callable[[tuple[int, int, int], int, int], int] | None = None
    position: int = 100


_KINDS: dict[str, DenseKind] = {}
_lock = threading.RLock()
_loaded = False


def register_dense_kind(kind: DenseKind) -> DenseKind:
    """Add ``kind`` to the registry (called by its layer file at import); returns it.

    Raises:
        ValueError: the name is ``none``, not a short identifier, or taken by another module.
    """
    if kind.name == NONE or not kind.name.isidentifier() or len(kind.name) > 32:
        raise ValueError(f"dense kind name {kind.name!r}: use a short identifier other than 'none'")
    old = _KINDS.get(kind.name)
    if old is not None and old.build is not kind.build:
        raise ValueError(f"dense kind {kind.name!r} is already registered by {old.build!r}")
    _KINDS[kind.name] = kind
    return kind


def load_layers() -> None:
    """Import every module of :mod:`idfy.layers` once, so that each registers its kinds (sub-stream kinds here,
    conv kinds in :mod:`idfy.conv_kinds`)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        package = importlib.import_module("idfy.layers")
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
        _loaded = True


def dense_kinds() -> tuple[DenseKind, ...]:
    """Every registered kind, by ``position`` then name."""
    load_layers()
    return tuple(sorted(_KINDS.values(), key=lambda k: (k.position, k.name)))


def dense_kind_names() -> tuple[str, ...]:
    """``("none", *registered names)``: the accepted values of ``stages.*.dense.kind``."""
    return (NONE, *(k.name for k in dense_kinds()))


def dense_kind(name: str) -> DenseKind:
    """The kind called ``name``.

    Raises:
        KeyError: no kind of that name is registered (``none`` included: it builds nothing).
    """
    load_layers()
    return _KINDS[name]
