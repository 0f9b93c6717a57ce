"""The stage plan: the one place where idfy decides where each stage downsamples and what every layer of the
main path does to the tensor shape.

The rule (S5, S11, S12): a stage of ``stride`` 2 downsamples either with a 2×2 pool before its blocks
(``down`` = ``avgpool`` / ``maxpool``) or with its first block's stride-2 convolution (``down`` = ``conv``,
whose 1×1 shortcut then strides too); every other convolution keeps the size ("same" padding). Stride 1
changes nothing. The stem convolution (optional) has its own kernel, stride and dilation.

:func:`model_plan` applies that rule once per config and everything else reads the result: the model builder
(:mod:`idfy.model`), the config's shapes and validation (:mod:`idfy.config`), the receptive field
(:mod:`idfy.analysis.receptive_field`), the diagram, the analysis' parameter estimate and the app's memory guard.
``tests/test_plan.py`` checks the plan against the shapes of a traced model.

Shapes are (C, H, W) without the batch dimension; sizes in pixels of the map at that point.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from idfy.config_checks import parse_order
from idfy.conv_kinds import conv_kind

if TYPE_CHECKING:  # the config imports this module; the plan reads configs, it never builds them
    from idfy.config import ConvSpec, ModelConfig

__all__ = ["BlockPlan", "LayerStep", "ModelPlan", "StagePlan", "conv_out", "injection_places", "model_plan"]

Shape = tuple[int, int, int]


def conv_out(size: int, kernel: int, stride: int, dilation: int) -> int:
    """Output side of a convolution with "same" padding ``dilation * (kernel - 1) // 2`` (PyTorch's formula)."""
    pad = dilation * (kernel - 1) // 2
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True)
class LayerStep:
    """One spatial operation of the main path.

    ``name``: the module it is (``stem.conv``, ``stages.1.down``, ``stages.1.blocks.0.branch.2``).
    ``op``: ``conv`` or ``pool`` (2×2). ``dilation`` is the one the module really uses (1 for 1×1 kernels).
    ``out_shape``: (C, H, W) after it. For a conv, ``kind`` is its conv kind, ``input_conv`` the suffix of the
    submodule holding ``kernel``/``stride``/``dilation`` (``.primary`` for ghost) and ``then_kernel`` a
    stride-1 conv that follows inside the module (ghost's cheap 3×3; 0 for none), from :mod:`idfy.conv_kinds`.
    """

    name: str
    op: str
    kernel: int
    stride: int
    dilation: int
    out_shape: Shape
    kind: str = ""
    input_conv: str = ""
    then_kernel: int = 0


@dataclass(frozen=True)
class BlockPlan:
    """One residual block: ``in_chs`` -> ``out_chs``; ``stride`` 2 only for the first block of a ``down: conv``
    stage (its first conv and its 1×1 shortcut stride). ``convs``: its two convolutions, in order."""

    name: str
    in_chs: int
    out_chs: int
    stride: int
    convs: tuple[LayerStep, ...]
    out_shape: Shape


@dataclass(frozen=True)
class StagePlan:
    """One stage, in forward order: optional 2×2 pool, optional image injection, blocks, sub-stream fusion.

    Attributes:
        in_shape: (C, H, W) entering the stage.
        pool: downsampled by a 2×2 pool before the blocks.
        strided_conv: downsampled by the first block's stride-2 conv.
        block_in_shape: (C, H, W) entering the first block (after the pool and the injection).
        in_reduction: image side over the side of the stage's input map (1 when nothing downsampled yet).
        inject_reduction: image side over the map the injection meets (after the pool, before a strided conv).
        reduction: image side over the stage's output side (nominal: the product of the strides so far).
        out_shape: (C, H, W) leaving the stage (after fusion).
        layers: the pool (if any) and every block convolution, in order.
    """

    index: int
    in_shape: Shape
    pool: bool
    strided_conv: bool
    block_in_shape: Shape
    in_reduction: int
    inject_reduction: int
    reduction: int
    blocks: tuple[BlockPlan, ...]
    out_shape: Shape
    layers: tuple[LayerStep, ...]

    @property
    def name(self) -> str:
        return f"stages.{self.index}"

    @property
    def downsamples(self) -> bool:
        return self.pool or self.strided_conv


@dataclass(frozen=True)
class ModelPlan:
    """The whole main path: ``stem_shape`` (after the stem and its injection; ``None`` without a stem),
    ``stages``, and ``head_in_shape`` (after the optional head injection)."""

    input_shape: Shape
    stem_layers: tuple[LayerStep, ...]
    stem_shape: Shape | None
    stem_reduction: int
    stages: tuple[StagePlan, ...]
    head_in_shape: Shape

    @property
    def reduction(self) -> int:
        """Image side over the side of the last stage's map (nominal)."""
        return self.stages[-1].reduction if self.stages else self.stem_reduction

    def layers(self) -> tuple[LayerStep, ...]:
        """Every spatial operation of the main path, stem first."""
        return self.stem_layers + tuple(step for s in self.stages for step in s.layers)


def _conv_step(name: str, spec: ConvSpec, chs: int, h: int, w: int, kernel: int, stride: int) -> LayerStep:
    d = spec.eff_dilation if kernel > 1 else 1
    shape = (chs, conv_out(h, kernel, stride, d), conv_out(w, kernel, stride, d))
    try:
        kind = conv_kind(spec.kind)
    except KeyError:  # an unknown kind: the config reports it; plan it as a plain conv meanwhile
        return LayerStep(name, "conv", kernel, stride, d, shape, spec.kind)
    return LayerStep(name, "conv", kernel, stride, d, shape, spec.kind, kind.input_conv, kind.then_kernel)


def _stage(
    cfg: ModelConfig, i: int, in_shape: Shape, in_reduction: int, conv_index: tuple[int, ...]
) -> StagePlan:
    st = cfg.stages[i]
    name = f"stages.{i}"
    pool = st.stride == 2 and st.down != "conv"
    strided = st.stride == 2 and st.down == "conv"
    c, h, w = in_shape
    layers: list[LayerStep] = []
    if pool:
        h, w = h // 2, w // 2
        layers.append(LayerStep(f"{name}.down", "pool", 2, 2, 1, (c, h, w)))
    if st.inject and not cfg.inject.project:
        c += cfg.input.channels
    block_in = (c, h, w)
    blocks = []
    for j in range(st.depth):
        stride = 2 if (j == 0 and strided) else 1
        bname = f"{name}.blocks.{j}"
        first = _conv_step(
            f"{bname}.branch.{conv_index[0]}", st.conv, st.width, h, w, cfg.block.kernel, stride
        )
        _, h, w = first.out_shape
        second = _conv_step(f"{bname}.branch.{conv_index[1]}", st.conv, st.width, h, w, cfg.block.kernel, 1)
        blocks.append(BlockPlan(bname, c, st.width, stride, (first, second), second.out_shape))
        layers += [first, second]
        c = st.width
    out = (st.out_channels(), h, w)
    return StagePlan(
        index=i,
        in_shape=in_shape,
        pool=pool,
        strided_conv=strided,
        block_in_shape=block_in,
        in_reduction=in_reduction,
        inject_reduction=in_reduction * (2 if pool else 1),
        reduction=in_reduction * (2 if st.stride == 2 else 1),
        blocks=tuple(blocks),
        out_shape=out,
        layers=tuple(layers),
    )


def injection_places(cfg: ModelConfig) -> list[str]:
    """Where ``cfg`` re-injects the image (S1), in forward order, named as the stage views name them
    (:class:`idfy.predict.StageView`, the module names of :mod:`idfy.model`): ``stem``, ``stages.{i}``, ``head_inject``; empty for a design without
    injection."""
    places = ["stem"] if cfg.stem is not None and cfg.inject.stem else []
    places += [f"stages.{i}" for i, st in enumerate(cfg.stages) if st.inject]
    return places + (["head_inject"] if cfg.inject.head else [])


def model_plan(cfg: ModelConfig) -> ModelPlan:
    """The plan of ``cfg``'s main path (cached per config; configs are frozen).

    Pure arithmetic on the config: no module is built, and it never raises for values the validation refuses
    (a map may shrink to 0×0 there; :class:`~idfy.config.ModelConfig` refuses such designs using this plan).
    """
    try:
        hash(cfg)
    except TypeError:  # a config built in Python with a list where a tuple belongs: plan it uncached
        return _plan(cfg)
    return _cached_plan(cfg)


@functools.lru_cache(maxsize=512)
def _cached_plan(cfg: ModelConfig) -> ModelPlan:
    return _plan(cfg)


def _plan(cfg: ModelConfig) -> ModelPlan:
    c, (h, w) = cfg.input.channels, cfg.input.size
    input_shape = (c, h, w)
    stem_layers: tuple[LayerStep, ...] = ()
    stem_shape: Shape | None = None
    reduction = 1
    if cfg.stem is not None:
        stem = _conv_step("stem.conv", cfg.stem.conv, cfg.stem.width, h, w, cfg.stem.kernel, cfg.stem.stride)
        stem_layers = (stem,)
        c, h, w = stem.out_shape
        if cfg.inject.stem and not cfg.inject.project:
            c += cfg.input.channels
        stem_shape = (c, h, w)
        reduction = cfg.stem.stride
    try:
        tokens = parse_order(cfg.block.order)
    except ValueError:  # an invalid order: the config reports it; the names below are then unused
        tokens = ("conv", "conv", "add")
    conv_index = tuple(k for k, t in enumerate(tokens) if t == "conv")
    stem_reduction = reduction
    stages = []
    shape = (c, h, w)
    for i in range(len(cfg.stages)):
        plan = _stage(cfg, i, shape, reduction, conv_index)
        stages.append(plan)
        shape, reduction = plan.out_shape, plan.reduction
    c, h, w = shape
    if cfg.inject.head and not cfg.inject.project:
        c += cfg.input.channels
    return ModelPlan(
        input_shape=input_shape,
        stem_layers=stem_layers,
        stem_shape=stem_shape,
        stem_reduction=stem_reduction,
        stages=tuple(stages),
        head_in_shape=(c, h, w),
    )
