"""``ModelConfig``: every design option of the idfy CNN in one frozen, typed, validated value.

The seed items (S1–S13, see DESIGN.md) map onto fields as follows:

* S1 image re-injection -> :class:`InjectConfig` (stem / head) and ``StageConfig.inject`` (per stage);
  S1d resize mode ``InjectConfig.mode``; S1e concatenation along channels (always).
* S2–S4 sub-streams -> ``StageConfig.gaussian`` (S2a) and ``StageConfig.dense`` (S2b / S4, GCNet or FC),
  fused by CAT (S3) and an optional 1×1 projection (``StageConfig.fuse_project``).
* S4 / S7 conv kinds -> :class:`ConvSpec` (regular, dilated, group, ghost).
* S5 downsampling -> ``StageConfig.down`` (avgpool default, maxpool, strided conv).
* S6 / S11 head -> :class:`HeadConfig` (``conv1x1`` stack) ; S10 / S12 ``flatten`` + FC.
* S8 residual order -> :class:`BlockConfig` ``order``.
* S9 input scale -> ``InputConfig.scale``.
* S13 output -> ``ModelConfig.task`` = ``localize`` (4 box values + C class logits).

Validation happens in ``__post_init__`` of :class:`ModelConfig`, before any module is built, and
raises :class:`ConfigError` with a message a person can act on (:mod:`idfy.config_checks`, one function
per section).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from idfy._dataclass_io import ConfigError, from_plain, short_repr, to_plain
from idfy.config_checks import BLOCK_ORDERS, MAX_FC_WEIGHT_BYTES, MAX_INPUT_SIDE, parse_order, validate
from idfy.config_io import check_plain, decode_token, encode_token, load_yaml
from idfy.conv_kinds import uses as uses_field
from idfy.plan import ModelPlan, model_plan

__all__ = [
    "BLOCK_ORDERS",
    "MAX_FC_WEIGHT_BYTES",
    "MAX_INPUT_SIDE",
    "BlockConfig",
    "ConfigError",
    "ConvSpec",
    "DenseConfig",
    "GaussianConfig",
    "HeadConfig",
    "InjectConfig",
    "InputConfig",
    "ModelConfig",
    "StageConfig",
    "StemConfig",
    "parse_order",
]


@dataclass(frozen=True)
class ConvSpec:
    """How a 3×3 convolution is made (S4, S7).

    ``kind``: a registered conv kind (:mod:`idfy.conv_kinds`): ``regular`` (dense 3×3), ``dilated`` (atrous,
    rate ``dilation``), ``group`` (``groups`` groups), ``sparse`` (group *and* dilated: the sparse early density
    of S1a) or ``ghost`` (GhostNet module: a primary conv producing 1/``ghost_ratio`` of the channels plus cheap
    depthwise features). Each kind says which of ``dilation``, ``groups`` and ``ghost_ratio`` it uses.
    """

    kind: str = "regular"
    dilation: int = 1
    groups: int = 1
    ghost_ratio: int = 2

    @property
    def eff_dilation(self) -> int:
        return self.dilation if uses_field(self.kind, "dilation") else 1

    @property
    def eff_groups(self) -> int:
        return self.groups if uses_field(self.kind, "groups") else 1

    def label(self) -> str:
        """Short human label, e.g. ``group(g4)``, ``dilated(d2)`` or ``regular``."""
        parts = []
        if self.eff_groups > 1:
            parts.append(f"g{self.eff_groups}")
        if self.eff_dilation > 1:
            parts.append(f"d{self.eff_dilation}")
        if uses_field(self.kind, "ghost_ratio"):
            parts.append(f"r{self.ghost_ratio}")
        return f"{self.kind}({','.join(parts)})" if parts else self.kind


@dataclass(frozen=True)
class InputConfig:
    """The input image: ``channels`` (1 or 3), ``size`` (H, W) and ``scale`` (S9: factor applied to [0,1] pixels)."""

    channels: int = 3
    size: tuple[int, int] = (224, 224)
    scale: float = 1.0


@dataclass(frozen=True)
class StemConfig:
    """Optional first convolution (S1a: sparse early density via ``conv`` = group and/or dilated)."""

    width: int = 16
    kernel: int = 3
    stride: int = 1
    conv: ConvSpec = field(default_factory=ConvSpec)


@dataclass(frozen=True)
class GaussianConfig:
    """S2a Gaussian sub-stream: fixed (or learnable-σ) depthwise Gaussian filters, projected by a 1×1 conv.

    ``dog``: use differences of consecutive Gaussians (band-pass) instead of the blurred maps.
    ``width``: output channels of the sub-stream; ``None`` means half the stage width.
    """

    enabled: bool = False
    sigmas: tuple[float, ...] = (1.0, 2.0)
    learnable: bool = False
    dog: bool = False
    width: int | None = None


@dataclass(frozen=True)
class DenseConfig:
    """S2b / S4 dense sub-stream. ``kind``: ``none`` or a registered kind (:mod:`idfy.substreams`): ``gc`` =
    GCNet global context (attention pooling by matrix multiplication), ``fc`` = global-average squeeze through
    FC layers, ``nonlocal`` = embedded-Gaussian non-local block. ``reduction``: bottleneck ratio.
    ``width``: output channels; ``None`` means half the stage width."""

    kind: str = "none"
    reduction: int = 4
    width: int | None = None


@dataclass(frozen=True)
class StageConfig:
    """One stage: optional downsampling, optional image injection, ``depth`` residual blocks, sub-streams.

    ``down`` (used when ``stride`` is 2): ``avgpool`` (S5 default), ``maxpool``, or ``conv`` — the first block's
    3×3 conv takes stride 2 and its shortcut a stride-2 1×1 conv (S11, S12).
    ``inject``: concatenate the resized original image at this stage's input (S1b): after the pooling for
    ``avgpool``/``maxpool``, at the incoming resolution for ``conv`` (whose first block then reduces it).
    ``fuse_project``: after CAT-fusing sub-streams, project back to ``width`` with a 1×1 conv.
    """

    width: int = 32
    depth: int = 1
    stride: int = 2
    down: Literal["avgpool", "maxpool", "conv"] = "avgpool"
    conv: ConvSpec = field(default_factory=ConvSpec)
    inject: bool = False
    gaussian: GaussianConfig = field(default_factory=GaussianConfig)
    dense: DenseConfig = field(default_factory=DenseConfig)
    fuse_project: bool = True

    @property
    def has_substreams(self) -> bool:
        return self.gaussian.enabled or self.dense.kind != "none"

    def gaussian_width(self) -> int:
        return self.gaussian.width if self.gaussian.width is not None else max(1, self.width // 2)

    def dense_width(self) -> int:
        return self.dense.width if self.dense.width is not None else max(1, self.width // 2)

    def out_channels(self) -> int:
        """Channels leaving the stage (grows by the sub-stream widths when ``fuse_project`` is off)."""
        if not self.has_substreams or self.fuse_project:
            return self.width
        extra = self.gaussian_width() if self.gaussian.enabled else 0
        extra += self.dense_width() if self.dense.kind != "none" else 0
        return self.width + extra


@dataclass(frozen=True)
class BlockConfig:
    """S8 residual unit: ``order`` is a named order (see ``BLOCK_ORDERS``) or tokens like ``bn-relu-conv-...-add``;
    ``norm`` / ``act`` choose the layers behind the ``bn`` / ``relu`` tokens; ``kernel`` the conv size."""

    order: str = "preact"
    kernel: int = 3
    norm: Literal["batch", "group", "none"] = "batch"
    act: Literal["relu", "gelu", "silu", "leaky_relu"] = "relu"


@dataclass(frozen=True)
class InjectConfig:
    """S1 image re-injection, always by concatenation along channels (S1e).

    ``stem``: after the stem (S1a); ``head``: before the head (S1c); per-stage switches live in ``StageConfig``.
    ``mode``: resize by ``bicubic`` (S1d default) / ``bilinear`` / ``area``; ``antialias`` for bicubic/bilinear.
    ``project``: a 1×1 conv after the CAT brings the width back (otherwise channels grow by the image's).
    """

    stem: bool = False
    head: bool = False
    mode: Literal["bicubic", "bilinear", "area"] = "bicubic"
    antialias: bool = True
    project: bool = True


@dataclass(frozen=True)
class HeadConfig:
    """``flatten``: flatten the last map, FC layers of ``widths`` (S10, S12). ``conv1x1``: a stack of 1×1 convs
    of ``widths`` (S6, S11), global average pooling, then the output layer."""

    kind: Literal["flatten", "conv1x1"] = "conv1x1"
    widths: tuple[int, ...] = (128,)
    dropout: float = 0.0


@dataclass(frozen=True)
class ModelConfig:
    """The whole design. Frozen; edit with :meth:`replace` / :meth:`set`. Validated on construction."""

    name: str = "custom"
    description: str = ""
    input: InputConfig = field(default_factory=InputConfig)
    stem: StemConfig | None = field(default_factory=StemConfig)
    stages: tuple[StageConfig, ...] = (
        StageConfig(width=32),
        StageConfig(width=64),
        StageConfig(width=96),
    )
    block: BlockConfig = field(default_factory=BlockConfig)
    inject: InjectConfig = field(default_factory=InjectConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    task: Literal["localize", "classify"] = "localize"
    num_classes: int = 1

    def __post_init__(self) -> None:
        validate(self)

    # ----------------------------------------------------------------- derived quantities
    @property
    def num_outputs(self) -> int:
        """Head outputs: 4 box values + C logits (localize) or C logits (classify)."""
        return self.num_classes + (4 if self.task == "localize" else 0)

    def plan(self) -> ModelPlan:
        """The stage plan (:func:`idfy.plan.model_plan`): every shape and downsampling point, computed once."""
        return model_plan(self)

    def stem_shape(self) -> tuple[int, int, int] | None:
        """(C, H, W) after the stem (and its injection), or ``None`` without a stem."""
        return self.plan().stem_shape

    def stage_shapes(self) -> list[tuple[int, int, int]]:
        """(C, H, W) at the output of every stage, computed analytically (no module is built)."""
        return [s.out_shape for s in self.plan().stages]

    def head_in_shape(self) -> tuple[int, int, int]:
        """(C, H, W) entering the head (after the optional head injection)."""
        return self.plan().head_in_shape

    def stage_in_channels(self, index: int) -> int:
        """Channels entering stage ``index``'s first block (after its injection)."""
        return self.plan().stages[index].block_in_shape[0]

    # ----------------------------------------------------------------- editing
    def replace(self, **changes: Any) -> ModelConfig:
        """A validated copy with top-level fields changed (``cfg.replace(num_classes=10)``)."""
        return dataclasses.replace(self, **changes)

    def set(self, key: str, value: Any) -> ModelConfig:
        """A copy with one dotted option changed: ``set("input.size", [64, 64])``, ``set("stages.1.inject", True)``;
        ``stages.*.x`` changes every stage. Values are given as plain data (YAML/JSON types)."""
        data = self.to_dict()
        parts = key.split(".")
        _set_path(data, parts, value, key)
        return ModelConfig.from_dict(data)

    # ----------------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Strict inverse of :meth:`to_dict`; missing keys take defaults, unknown keys raise ``ConfigError``.

        Nesting and size are checked first (:func:`idfy.config_io.check_plain`), so a hostile dict fails
        in bounded time with a message that quotes at most a short excerpt of a value."""
        if not isinstance(data, dict):
            raise ConfigError(f"config: expected a mapping of options, got {type(data).__name__}")
        check_plain(data)
        return from_plain(cls, data)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, width=100)

    @classmethod
    def from_yaml(cls, text: str) -> ModelConfig:
        """Parse YAML text with the limits of :func:`idfy.config_io.load_yaml` (256 KiB, no anchors or
        aliases, nesting, value count, number length) checked before the document is built.

        Raises:
            ConfigError: a limit, a syntax error (with its line) or an invalid option.
        """
        data = load_yaml(text)
        if data is None:
            raise ConfigError("YAML is empty: give at least `name:` or start from a preset")
        return cls.from_dict(data)

    def to_url(self) -> str:
        """Compact URL-safe string (zlib-compressed JSON, base64url), prefixed ``v1.``."""
        return encode_token(self.to_dict())

    @classmethod
    def from_url(cls, text: str) -> ModelConfig:
        """Inverse of :meth:`to_url`; decompression stops at 256 KiB (:func:`idfy.config_io.decode_token`).

        Raises:
            ConfigError: a damaged or oversized string, or an invalid option.
        """
        data = decode_token(text)
        if not isinstance(data, dict):
            raise ConfigError("shared config string is damaged; copy the whole ?cfg=... value")
        return cls.from_dict(data)

    def fingerprint(self) -> str:
        """Stable short hash of every option except ``name``/``description`` (cache key)."""
        d = self.to_dict()
        d.pop("name")
        d.pop("description")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- helpers
def _key(key: str) -> str:
    """A dotted option name as written, or a short escaped excerpt when it is long or unprintable."""
    return key if len(key) <= 80 and key.isprintable() else short_repr(key)


def _set_path(node: Any, parts: list[str], value: Any, key: str) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        idxs = range(len(node)) if head == "*" else [_index(head, len(node), key)]
        for i in idxs:
            if rest:
                _set_path(node[i], rest, value, key)
            else:
                node[i] = value
        return
    if not isinstance(node, dict):
        raise ConfigError(
            f"{_key(key)}: cannot go into {short_repr(head)}, the value there is not a group of options"
        )
    if head not in node:
        raise ConfigError(f"{_key(key)}: unknown option {short_repr(head)}; options here: {', '.join(node)}")
    if rest:
        if node[head] is None:
            raise ConfigError(f"{_key(key)}: {short_repr(head)} is off (null); set it to a mapping first")
        _set_path(node[head], rest, value, key)
    else:
        node[head] = value


def _index(text: str, n: int, key: str) -> int:
    try:
        i = int(text)
    except ValueError:
        raise ConfigError(f"{_key(key)}: {short_repr(text)} is not a stage index (0..{n - 1} or *)") from None
    if not -n <= i < n:
        raise ConfigError(f"{_key(key)}: stage {short_repr(i)} does not exist (there are {n} stages)")
    return i
