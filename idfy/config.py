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
raises :class:`ConfigError` with a message a person can act on.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import yaml

from idfy._dataclass_io import ConfigError, from_plain, short_repr, to_plain
from idfy.config_io import check_plain, decode_token, encode_token, load_yaml
from idfy.conv_kinds import conv_kind, conv_kind_names
from idfy.conv_kinds import uses as uses_field
from idfy.plan import ModelPlan, model_plan
from idfy.substreams import DenseKind, dense_kind, dense_kind_names

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

T = TypeVar("T")

#: Named residual-unit orders (He et al. 2016, "Identity Mappings in Deep Residual Networks", Fig. 4).
#: Tokens before ``add`` form the residual branch; tokens after it act on the sum.
BLOCK_ORDERS: dict[str, str] = {
    "original": "conv-bn-relu-conv-bn-add-relu",  # (a) original ResNet unit
    "bn_after_add": "conv-bn-relu-conv-add-bn-relu",  # (b) BN after addition
    "relu_before_add": "conv-bn-relu-conv-bn-relu-add",  # (c) ReLU before addition
    "relu_preact": "relu-conv-bn-relu-conv-bn-add",  # (d) ReLU-only pre-activation
    "preact": "bn-relu-conv-bn-relu-conv-add",  # (e) full pre-activation (S8's favourite)
}
_TOKENS = ("conv", "bn", "relu", "add")

#: A flatten head whose first FC weight would need more than this many bytes (fp32) is refused.
MAX_FC_WEIGHT_BYTES = 512 * 2**20
#: Largest accepted input side in pixels.
MAX_INPUT_SIDE = 2048
_MIN_INPUT_SIDE = 8
#: Longest accepted ``name`` and ``description`` (characters); both are shown on the page.
_MAX_NAME, _MAX_DESCRIPTION = 100, 2000


def parse_order(order: str) -> tuple[str, ...]:
    """Turn a named order or a dash-separated token string into a validated token tuple.

    Returns:
        tuple of tokens from ``conv``, ``bn``, ``relu``, ``add``: exactly two ``conv`` and one ``add``,
        both convs before the ``add``.

    Raises:
        ConfigError: for unknown tokens or a malformed unit.
    """
    text = BLOCK_ORDERS.get(order, order)
    tokens = tuple(
        t.strip().lower() for t in text.replace(",", "-").replace(">", "-").split("-") if t.strip()
    )
    bad = [t for t in tokens if t not in _TOKENS]
    names = ", ".join(BLOCK_ORDERS)
    if bad:
        raise ConfigError(
            f"block.order: unknown step {short_repr(bad[0])} in {short_repr(order)}. Use one of {names} "
            "or a dash-separated sequence of conv, bn, relu, add (e.g. 'bn-relu-conv-bn-relu-conv-add')."
        )
    if tokens.count("add") != 1 or tokens.count("conv") != 2:
        raise ConfigError(
            f"block.order: {short_repr(order)} must contain exactly two 'conv' and one 'add' "
            f"(a residual unit of two convolutions); named orders: {names}."
        )
    if tokens.index("add") < max(i for i, t in enumerate(tokens) if t == "conv"):
        raise ConfigError(
            f"block.order: in {short_repr(order)} both convs must come before 'add' (the residual branch)."
        )
    return tokens


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
        _validate(self)

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


def _check_conv(where: str, spec: ConvSpec, cin: int, cout: int) -> None:
    kind = _registered(where, "conv.kind", spec.kind, conv_kind, conv_kind_names)
    if spec.dilation < 1 or spec.dilation > 16:
        raise ConfigError(f"{where}: dilation={spec.dilation} must be between 1 and 16")
    if spec.groups < 1:
        raise ConfigError(f"{where}: groups={spec.groups} must be at least 1")
    if spec.dilation < kind.min_dilation:
        raise ConfigError(
            f"{where}: a {spec.kind} conv needs dilation ≥ {kind.min_dilation} (it is {spec.dilation}); "
            "or use kind: regular"
        )
    if spec.groups < kind.min_groups:
        raise ConfigError(
            f"{where}: a {spec.kind} conv needs groups ≥ {kind.min_groups} (it is {spec.groups}); "
            "or use kind: regular"
        )
    if spec.ghost_ratio < 2 or spec.ghost_ratio > 8:
        raise ConfigError(f"{where}: ghost_ratio={spec.ghost_ratio} must be between 2 and 8")
    if kind.check is not None:
        kind.check(where, spec, cin, cout)
        return
    g = spec.eff_groups
    for label, c in (("input", cin), ("output", cout)):
        if c % g:
            raise ConfigError(
                f"{where}: groups={g} does not divide {c} {label} channels; choose groups from "
                f"{_divisors(math.gcd(cin, cout))} or change the width"
            )


def _registered(where: str, key: str, name: str, lookup: Callable[[str], T], names: Callable[[], tuple]) -> T:
    """``lookup(name)``, or a ``ConfigError`` naming the registered choices (with a close match)."""
    try:
        return lookup(name)
    except KeyError:
        choices = names()
        close = difflib.get_close_matches(name, choices, n=1) if len(name) <= 64 else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"{where}: {key} {short_repr(name)} is not one of {', '.join(map(repr, choices))}{hint}"
        ) from None


def _dense_kind(where: str, name: str) -> DenseKind:
    """The registered dense kind ``name``, or a ``ConfigError`` naming the choices (with a close match)."""
    return _registered(where, "dense.kind", name, dense_kind, dense_kind_names)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0][:8]


def _validate(cfg: ModelConfig) -> None:
    if len(cfg.name) > _MAX_NAME:
        raise ConfigError(f"name: {len(cfg.name):,} characters; at most {_MAX_NAME}")
    if len(cfg.description) > _MAX_DESCRIPTION:
        raise ConfigError(f"description: {len(cfg.description):,} characters; at most {_MAX_DESCRIPTION}")
    inp = cfg.input
    if inp.channels not in (1, 3):
        raise ConfigError(f"input.channels={inp.channels}: must be 1 (grey) or 3 (RGB)")
    for s in inp.size:
        if not _MIN_INPUT_SIDE <= s <= MAX_INPUT_SIDE:
            raise ConfigError(
                f"input.size={list(inp.size)}: each side must be between {_MIN_INPUT_SIDE} and "
                f"{MAX_INPUT_SIDE} pixels"
            )
    if not (math.isfinite(inp.scale) and 0 < inp.scale <= 1e4):
        raise ConfigError(
            f"input.scale={inp.scale}: must be a positive number (1, 10 and 255 are typical; S9)"
        )
    if cfg.num_classes < 1 or cfg.num_classes > 100_000:
        raise ConfigError(f"num_classes={cfg.num_classes}: must be between 1 and 100000")
    if not cfg.stages:
        raise ConfigError("stages: at least one stage is needed")
    if len(cfg.stages) > 8:
        raise ConfigError(f"stages: {len(cfg.stages)} stages given; at most 8 are supported")
    parse_order(cfg.block.order)
    if cfg.block.kernel not in (1, 3, 5, 7):
        raise ConfigError(f"block.kernel={cfg.block.kernel}: use 1, 3, 5 or 7")
    if cfg.stem is not None:
        st = cfg.stem
        if not 1 <= st.width <= 1024:
            raise ConfigError(f"stem.width={st.width}: must be between 1 and 1024 (or set `stem: null`)")
        if st.kernel not in (1, 3, 5, 7):
            raise ConfigError(f"stem.kernel={st.kernel}: use 1, 3, 5 or 7")
        if st.stride not in (1, 2):
            raise ConfigError(f"stem.stride={st.stride}: must be 1 or 2")
        _check_conv("stem", st.conv, inp.channels, st.width)
    plan = cfg.plan()
    for i, st in enumerate(cfg.stages):
        where = f"stage {i + 1}"
        if not 1 <= st.width <= 4096:
            raise ConfigError(f"{where}: width={st.width} must be between 1 and 4096")
        if not 1 <= st.depth <= 16:
            raise ConfigError(f"{where}: depth={st.depth} must be between 1 and 16 blocks")
        if st.stride not in (1, 2):
            raise ConfigError(f"{where}: stride={st.stride} must be 1 or 2")
        _check_conv(f"{where} block 1", st.conv, cfg.stage_in_channels(i), st.width)
        _check_conv(f"{where} blocks", st.conv, st.width, st.width)
        _, h, w = plan.stages[i].in_shape
        if st.stride == 2 and min(h, w) < 2:
            raise ConfigError(
                f"{where}: stride 2 would shrink the {h}×{w} map below 1×1; use stride 1 here, "
                "fewer stages or a larger input.size"
            )
        g = st.gaussian
        if g.enabled:
            if not 1 <= len(g.sigmas) <= 6:
                raise ConfigError(f"{where}: gaussian.sigmas needs 1 to 6 values, got {len(g.sigmas):,}")
            if any(not (0.1 <= s <= 16) for s in g.sigmas):
                raise ConfigError(
                    f"{where}: gaussian.sigmas {short_repr(list(g.sigmas))} must lie between 0.1 and 16"
                )
            if g.dog and len(g.sigmas) < 2:
                raise ConfigError(
                    f"{where}: gaussian.dog needs at least two sigmas (differences of Gaussians)"
                )
            if st.gaussian_width() < 1:
                raise ConfigError(f"{where}: gaussian.width must be at least 1")
        if st.dense.kind != "none":
            kind = _dense_kind(where, st.dense.kind)
            if not 1 <= st.dense.reduction <= 64:
                raise ConfigError(f"{where}: dense.reduction={st.dense.reduction} must be between 1 and 64")
            if st.dense_width() < 1:
                raise ConfigError(f"{where}: dense.width must be at least 1")
            if kind.check is not None:
                _, h, w = plan.stages[i].out_shape
                kind.check(where, (st.width, h, w), st.dense.reduction, st.dense_width())
    if len(cfg.head.widths) > 12:  # the length first: a long list is never listed in a message (fuzz-7)
        raise ConfigError(f"head.widths: {len(cfg.head.widths):,} layers; at most 12")
    if any(not 1 <= x <= 65536 for x in cfg.head.widths):
        raise ConfigError(f"head.widths {list(cfg.head.widths)}: every width must be between 1 and 65536")
    if not 0.0 <= cfg.head.dropout < 1.0:
        raise ConfigError(f"head.dropout={cfg.head.dropout}: must be in [0, 1)")
    if cfg.head.kind == "flatten":
        c, hh, ww = cfg.head_in_shape()
        feats = c * hh * ww
        first = cfg.head.widths[0] if cfg.head.widths else cfg.num_outputs
        nbytes = feats * first * 4
        if nbytes > MAX_FC_WEIGHT_BYTES:
            raise ConfigError(
                f"head: flattening the {c}×{hh}×{ww} map gives {feats:,} features; its first FC layer "
                f"({feats:,}×{first:,}) would hold {feats * first / 1e6:,.0f} M weights "
                f"({nbytes / 2**30:.1f} GiB, limit {MAX_FC_WEIGHT_BYTES / 2**20:.0f} MiB). Use a smaller "
                "input.size, more stride-2 stages, a narrower first FC width, or head.kind: conv1x1"
            )
