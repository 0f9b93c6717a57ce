"""Registry of convolution kinds (S4, S7): the values of ``conv.kind`` for the stem and every stage.

A kind is registered by the layer file that builds it (``regular``, ``dilated``, ``group`` and ``sparse`` in
``idfy/layers/conv_unit.py``, ``ghost`` in ``idfy/layers/ghost.py``). Everything that used to list the kinds
reads this registry: :class:`idfy.config.ConvSpec` (which of ``groups`` / ``dilation`` / ``ghost_ratio`` a kind
uses, its label) and the config's checks, :func:`idfy.layers.make_conv`, the stage plan and the receptive field
(``then_kernel``), timm's ``first_conv`` (``input_conv``), the diagram (colour, legend) and the controls (the
choices, which fields are shown). Like :mod:`idfy.substreams`, the registry fills itself on first lookup by
importing every module of :mod:`idfy.layers`; this module imports neither torch nor the config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from idfy.substreams import load_layers

__all__ = ["FIELDS", "ConvKind", "conv_kind", "conv_kind_names", "conv_kinds", "register_conv_kind", "uses"]

#: ``ConvSpec`` fields a kind may use.
FIELDS = ("groups", "dilation", "ghost_ratio")


@dataclass(frozen=True)
class ConvKind:
    """One convolution kind.

    Attributes:
        name: the ``conv.kind`` value.
        build: ``build(spec, in_chs=, out_chs=, kernel_size=, stride=, dilation=, groups=)`` returns a module
            mapping (B, in_chs, H, W) to (B, out_chs, H', W') with "same" padding (H' = ceil(H / stride)).
        summary: one line for the control's help, with the source (paper or seed item).
        colour / legend: the diagram's fill colour for blocks of this kind and the legend's words.
        uses: the :data:`FIELDS` it reads (the others are ignored and their controls hidden).
        min_groups / min_dilation: the smallest ``groups`` / ``dilation`` that makes it what it says.
        then_kernel: a stride-1 conv of this kernel follows inside the module (receptive field); 0 for none.
        input_conv: suffix of the submodule that reads the module's input (timm's ``first_conv``).
        check: optional ``check(where, spec, in_chs, out_chs)`` raising :class:`idfy.config.ConfigError`; it
            replaces the default check that ``groups`` divides both channel counts.
        position: where the kind is listed: by ``position``, then by name.
    """

    name: str
    build: Callable[..., Any]
    summary: str
    colour: str
    legend: str
    uses: tuple[str, ...] = ()
    min_groups: int = 1
    min_dilation: int = 1
    then_kernel: int = 0
    input_conv: str = ""
    check: Callable[[str, Any, int, int], None] | None = None
    position: int = 100


_KINDS: dict[str, ConvKind] = {}


def register_conv_kind(kind: ConvKind) -> ConvKind:
    """Add ``kind`` to the registry (called by its layer file at import); returns it.

    Raises:
        ValueError: a name that is not a short identifier, one taken by another builder, or an unknown field.
    """
    if not kind.name.isidentifier() or len(kind.name) > 32:
        raise ValueError(f"conv kind name {kind.name!r}: use a short identifier")
    if any(f not in FIELDS for f in kind.uses):
        raise ValueError(f"conv kind {kind.name!r}: uses must name fields from {', '.join(FIELDS)}")
    old = _KINDS.get(kind.name)
    if old is not None and old.build is not kind.build:
        raise ValueError(f"conv kind {kind.name!r} is already registered by {old.build!r}")
    _KINDS[kind.name] = kind
    return kind


def conv_kinds() -> tuple[ConvKind, ...]:
    """Every registered kind, by ``position`` then name."""
    load_layers()
    return tuple(sorted(_KINDS.values(), key=lambda k: (k.position, k.name)))


def conv_kind_names() -> tuple[str, ...]:
    """The accepted values of ``conv.kind``."""
    return tuple(k.name for k in conv_kinds())


def conv_kind(name: str) -> ConvKind:
    """The kind called ``name``.

    Raises:
        KeyError: no kind of that name is registered.
    """
    load_layers()
    return _KINDS[name]


def uses(name: str, field: str) -> bool:
    """Whether kind ``name`` reads ``field`` (``False`` for an unknown kind: the config reports it)."""
    load_layers()
    kind = _KINDS.get(name)
    return kind is not None and field in kind.uses
