"""``build_model(cfg)``: the only way an idfy network is made, and the network itself.

Module names are stable so hooks, the analysis and the diagram can find them::

    stem            Stem (conv, norm, act) and ``stem.inject``       — optional
    stages.{i}      Stage: ``down`` (pool), ``inject``, ``blocks.{j}``, ``fusion`` (sub-streams)
    head_inject     image injection before the head                   — optional
    head            FlattenHead or Conv1x1Head, classifier ``head.fc``

The network follows timm's model contract: ``forward_features`` (unpooled NCHW), ``forward_head``,
``num_features``, ``head_hidden_size``, ``in_chans``, ``feature_info``, ``reset_classifier``,
``forward_intermediates``, ``prune_intermediate_layers``. Its forward has no data-dependent Python control
flow, so it traces with ``torch.fx``, exports with ``torch.export`` (dynamic batch), compiles with
``torch.compile(fullgraph=True)`` and scripts with ``torch.jit.script``.
Inputs are images in [0, 1]; the network multiplies them by ``cfg.input.scale`` itself (S9).
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import Tensor, nn

from idfy.config import ModelConfig, StageConfig, parse_order
from idfy.conv_kinds import conv_kind
from idfy.layers import (
    Conv1x1Head,
    FlattenHead,
    GaussianStream,
    ImageInjection,
    ResidualBlock,
    SubstreamFusion,
    conv_norm_act,
    get_act_layer,
    get_norm_layer,
)
from idfy.layers.factory import ActFactory, NormFactory
from idfy.substreams import dense_kind

__all__ = ["IdfyNet", "Stage", "Stem", "build_model"]


class Stem(nn.Module):
    """(B, C_img, H, W) -> (B, width [+ C_img], H', W'): conv (S1a sparse density), norm, act, optional injection."""

    def __init__(self, cfg: ModelConfig, norm_layer: NormFactory, act_layer: ActFactory) -> None:
        super().__init__()
        st = cfg.stem
        if st is None:
            raise ValueError("Stem needs cfg.stem")
        self.conv, self.norm, self.act = conv_norm_act(
            cfg.input.channels,
            st.width,
            st.kernel,
            stride=st.stride,
            conv=st.conv,
            norm_layer=norm_layer,
            act_layer=act_layer,
        )
        self.inject = (
            _make_injection(cfg, st.width, norm_layer, act_layer, resize=cfg.plan().stem_reduction > 1)
            if cfg.inject.stem
            else None
        )

    def forward(self, x: Tensor, img: Tensor) -> Tensor:
        x = self.act(self.norm(self.conv(x)))
        return self.inject(x, img) if self.inject is not None else x


class Stage(nn.Module):
    """(B, in_chs, H, W) -> (B, out_chs, H/stride, W/stride).

    Order: ``down`` (pool), ``inject`` (S1b), ``blocks``, ``fusion`` (S2). Where the stage downsamples (the
    pool or the first block's strided conv) and every channel count come from the stage plan
    (:func:`idfy.plan.model_plan`).
    """

    def __init__(self, cfg: ModelConfig, index: int, norm_layer: NormFactory, act_layer: ActFactory) -> None:
        super().__init__()
        sc: StageConfig = cfg.stages[index]
        sp = cfg.plan().stages[index]
        self.down: nn.Module = (
            (nn.AvgPool2d(2, 2) if sc.down == "avgpool" else nn.MaxPool2d(2, 2)) if sp.pool else nn.Identity()
        )
        self.inject = (
            _make_injection(cfg, sp.in_shape[0], norm_layer, act_layer, resize=sp.inject_reduction > 1)
            if sc.inject
            else None
        )
        blocks = [
            ResidualBlock(
                in_chs=bp.in_chs,
                out_chs=bp.out_chs,
                stride=bp.stride,
                order=cfg.block.order,
                conv=sc.conv,
                kernel_size=cfg.block.kernel,
                norm_layer=norm_layer,
                act_layer=act_layer,
            )
            for bp in sp.blocks
        ]
        self.blocks = nn.Sequential(*blocks)
        self.fusion: SubstreamFusion | None = None
        if sc.has_substreams:
            streams: dict[str, nn.Module] = {}
            widths: list[int] = []
            if sc.gaussian.enabled:
                g = sc.gaussian
                streams["gaussian"] = GaussianStream(
                    in_chs=sc.width,
                    out_chs=sc.gaussian_width(),
                    sigmas=g.sigmas,
                    learnable=g.learnable,
                    dog=g.dog,
                    norm_layer=norm_layer,
                    act_layer=act_layer,
                )
                widths.append(sc.gaussian_width())
            if sc.dense.kind != "none":
                streams["dense"] = dense_kind(sc.dense.kind).build(
                    in_chs=sc.width,
                    out_chs=sc.dense_width(),
                    reduction=sc.dense.reduction,
                    act_layer=act_layer,
                )
                widths.append(sc.dense_width())
            self.fusion = SubstreamFusion(
                in_chs=sc.width,
                streams=streams,
                widths=widths,
                project=sc.fuse_project,
                norm_layer=norm_layer,
                act_layer=act_layer,
            )
        self.out_chs = sc.out_channels()

    def forward(self, x: Tensor, img: Tensor) -> Tensor:
        x = self.down(x)
        if self.inject is not None:
            x = self.inject(x, img)
        x = self.blocks(x)
        return self.fusion(x) if self.fusion is not None else x


def _make_injection(
    cfg: ModelConfig, in_chs: int, norm_layer: NormFactory, act_layer: ActFactory, resize: bool
) -> ImageInjection:
    """S1 injection into a map of ``in_chs`` channels; ``resize``: the map is smaller than the image."""
    inj = cfg.inject
    return ImageInjection(
        in_chs=in_chs,
        img_chs=cfg.input.channels,
        mode=inj.mode,
        antialias=inj.antialias,
        project=inj.project,
        resize=resize,
        norm_layer=norm_layer,
        act_layer=act_layer,
    )


class IdfyNet(nn.Module):
    """The idfy CNN. Input (B, C_img, H, W) in [0, 1]; output (B, 4 + C) for ``localize``
    (raw box values — see :func:`idfy.boxes.decode` — then class logits) or (B, C) for ``classify``.

    Args:
        cfg: the validated design.
        device: where parameters and buffers are created (timm passes it through; default: the current
            default device).
        dtype: floating dtype of parameters and buffers (default: the default dtype).

    Attributes:
        num_classes: classes counted by the output layer (without the 4 box values of ``localize``);
            0 after ``reset_classifier(0)``.
        in_chans: image channels the network takes (``cfg.input.channels``).
        num_features: channels of ``forward_features``' map; ``head_hidden_size``: width of the pre-logit
            features.
        feature_info: per stage ``{"num_chs", "reduction", "module"}`` (reduction: input side / map side).
    """

    def __init__(
        self, cfg: ModelConfig, *, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.in_chans = cfg.input.channels
        with torch.device(device) if device is not None else contextlib.nullcontext():
            self._build(cfg)
            self.init_weights()
        if dtype is not None:
            self.to(dtype=dtype)
        self.pretrained_cfg = default_cfg(cfg)
        self.default_cfg = self.pretrained_cfg

    def _build(self, cfg: ModelConfig) -> None:
        norm_layer = get_norm_layer(cfg.block.norm)
        act_layer = get_act_layer(cfg.block.act)
        self.register_buffer("input_scale", torch.tensor(float(cfg.input.scale)), persistent=False)
        self.stem = Stem(cfg, norm_layer, act_layer) if cfg.stem is not None else None
        plan = cfg.plan()
        self.stages = nn.ModuleList(Stage(cfg, i, norm_layer, act_layer) for i in range(len(cfg.stages)))
        self.feature_info: list[dict[str, Any]] = [
            {"num_chs": sp.out_shape[0], "reduction": sp.reduction, "module": sp.name} for sp in plan.stages
        ]
        chs = plan.stages[-1].out_shape[0]
        self.head_inject = (
            _make_injection(cfg, chs, norm_layer, act_layer, resize=plan.reduction > 1)
            if cfg.inject.head
            else None
        )
        self.num_features = self.head_inject.out_chs if self.head_inject is not None else chs
        self.num_classes = cfg.num_classes
        self.head = self._make_head(cfg.num_outputs, norm_layer, act_layer)
        self.head_hidden_size = self.head.num_features

    def _make_head(self, num_outputs: int, norm_layer: NormFactory, act_layer: ActFactory) -> nn.Module:
        hc = self.cfg.head
        if hc.kind == "flatten":
            c, h, w = self.cfg.head_in_shape()
            return FlattenHead(
                in_features=c * h * w,
                widths=hc.widths,
                num_outputs=num_outputs,
                dropout=hc.dropout,
                act_layer=act_layer,
            )
        return Conv1x1Head(
            in_chs=self.num_features,
            widths=hc.widths,
            num_outputs=num_outputs,
            dropout=hc.dropout,
            norm_layer=norm_layer,
            act_layer=act_layer,
        )

    # ------------------------------------------------------------------ init
    @torch.no_grad()
    def init_weights(self) -> None:
        """Kaiming (fan_out) convs, unit norms, small-normal linears with zero bias; the norm closing each
        residual branch starts at zero so every block begins as the identity."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=5**0.5)
                nn.init.zeros_(m.bias)
        for m in self.modules():
            if isinstance(m, ResidualBlock) and (norm := m.last_branch_norm()) is not None:
                nn.init.zeros_(norm.weight)
        self._init_fc(self.head.fc)

    @staticmethod
    @torch.no_grad()
    def _init_fc(fc: nn.Module) -> None:
        """The output layer starts small (std 0.01, zero bias): early boxes sit near the image centre."""
        if isinstance(fc, nn.Linear):
            nn.init.normal_(fc.weight, std=0.01)
            nn.init.zeros_(fc.bias)

    # ------------------------------------------------------------------ timm contract
    def get_classifier(self) -> nn.Module:
        """The output layer ``head.fc`` (``nn.Identity`` once the head was pruned for feature extraction)."""
        return self.head.fc if self.head is not None else nn.Identity()

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """A new, freshly initialised output layer for ``num_classes`` classes.

        The task stays: ``classify`` then outputs (B, num_classes) logits, ``localize`` (B, 4 + num_classes)
        (4 box values, then the logits). ``num_classes=0`` removes the output layer: the network returns the
        pre-logit features (B, head_hidden_size). ``self.num_classes`` and ``self.cfg.num_classes`` follow.

        Raises:
            ValueError: a negative ``num_classes``, a head pruned by ``prune_intermediate_layers``, or a
                ``global_pool`` other than the design's own (``None``, or ``"avg"`` for a ``conv1x1`` head:
                pooling is fixed by ``head.kind``).
        """
        if num_classes < 0:
            raise ValueError(f"num_classes={num_classes}: must be 0 (features) or a positive class count")
        if self.head is None:
            raise ValueError("the head was pruned for feature extraction; build a new model to classify")
        if global_pool is not None and not (global_pool == "avg" and self.cfg.head.kind == "conv1x1"):
            raise ValueError(
                f"global_pool={global_pool!r}: the pooling is fixed by head.kind={self.cfg.head.kind!r}; "
                "leave global_pool unset"
            )
        if num_classes > 0:
            self.cfg = self.cfg.replace(num_classes=num_classes)
        self.num_classes = num_classes
        n_out = num_classes + (4 if self.cfg.task == "localize" and num_classes > 0 else 0)
        like = {"device": self.input_scale.device, "dtype": self.input_scale.dtype}
        fc = nn.Linear(self.head.num_features, n_out, **like) if n_out > 0 else nn.Identity()
        self._init_fc(fc)
        self.head.fc = fc

    def _scaled(self, x: Tensor) -> Tensor:
        return x * self.input_scale

    def _stem(self, img: Tensor) -> Tensor:
        return self.stem(img, img) if self.stem is not None else img

    def forward_features(self, x: Tensor) -> Tensor:
        """(B, C_img, H, W) in [0, 1] -> (B, num_features, h, w), the map entering the head."""
        img = self._scaled(x)
        x = self._stem(img)
        for stage in self.stages:
            x = stage(x, img)
        if self.head_inject is not None:
            x = self.head_inject(x, img)
        return x

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """(B, num_features, h, w) -> (B, num_outputs), or the pre-logit features (B, head_hidden_size).

        After ``prune_intermediate_layers(prune_head=True)`` the map is returned unchanged."""
        if self.head is None:
            return x
        return self.head.pre_logits(x) if pre_logits else self.head(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(
        self,
        x: Tensor,
        indices: int | list[int] | tuple[int, ...] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = "NCHW",
        intermediates_only: bool = False,
    ) -> list[Tensor] | tuple[Tensor, list[Tensor]]:
        """Per-stage maps, timm's feature-extraction contract (``features_only=True`` calls it).

        Args:
            x: (B, C_img, H, W) images in [0, 1].
            indices: stages to return: ``None`` all, an int n the last n, or a list of indices (negative ones
                count from the end).
            norm: accepted for timm's interface; idfy has no final norm, so it changes nothing.
            stop_early: run no stage after the last one requested (the returned final map is then that
                stage's output); ``intermediates_only`` always stops early.
            output_fmt: ``"NCHW"`` only.

        Returns:
            ``[map_i]`` with map_i of shape (B, feature_info[i]["num_chs"], H', W'), H' = H / reduction for
            sides divisible by the reduction; with ``intermediates_only=False`` ``(final, [map_i])``, where
            final is ``forward_features``' map unless stopped early.

        Raises:
            ValueError: ``output_fmt`` other than NCHW, or a stage index out of range.
        """
        del norm
        if output_fmt != "NCHW":
            raise ValueError(f"output_fmt={output_fmt!r}: idfy maps are NCHW only")
        take, last = _take_indices(len(self.stages), indices)
        run_all = not (stop_early or intermediates_only)
        stages = self.stages if run_all else self.stages[: last + 1]
        img = self._scaled(x)
        x = self._stem(img)
        intermediates = []
        for i, stage in enumerate(stages):
            x = stage(x, img)
            if i in take:
                intermediates.append(x)
        if intermediates_only:
            return intermediates
        if run_all and self.head_inject is not None:
            x = self.head_inject(x, img)
        return x, intermediates

    def prune_intermediate_layers(
        self,
        indices: int | list[int] | tuple[int, ...] = 1,
        prune_norm: bool = False,
        prune_head: bool = True,
    ) -> list[int]:
        """Keep what feature extraction at ``indices`` needs: stages after the last requested one are dropped,
        and with ``prune_head`` the head injection and the head too (the model then returns feature maps).

        Returns:
            The absolute stage indices (as ``forward_intermediates`` takes them).

        Raises:
            ValueError: a stage index out of range.
        """
        del prune_norm  # no final norm
        take, last = _take_indices(len(self.stages), indices)
        self.stages = self.stages[: last + 1]
        self.feature_info = self.feature_info[: last + 1]
        if prune_head:
            self.head_inject = None
            self.head = None
            self.num_classes = 0
        return take


def _take_indices(n: int, indices: int | list[int] | tuple[int, ...] | None) -> tuple[list[int], int]:
    """Absolute stage indices for timm's ``indices`` argument, and the largest one.

    Raises:
        ValueError: an index out of range for ``n`` stages, or an empty list.
    """
    if indices is None:
        take = list(range(n))
    elif isinstance(indices, int):
        if not 0 < indices <= n:
            raise ValueError(f"indices={indices}: the last n stages, with n from 1 to {n}")
        take = list(range(n - indices, n))
    else:
        take = []
        for i in indices:
            j = i + n if i < 0 else i
            if not 0 <= j < n:
                raise ValueError(
                    f"stage index {i} is out of range for {n} stages (0 to {n - 1}, or negative)"
                )
            take.append(j)
        if not take:
            raise ValueError("indices: name at least one stage")
    return take, max(take)


def _first_convs(cfg: ModelConfig) -> str | tuple[str, ...]:
    """Names of the convolutions that read the image's channels (timm's ``first_conv``)."""
    if cfg.stem is not None:
        return "stem.conv" + conv_kind(cfg.stem.conv.kind).input_conv
    sc = cfg.stages[0]
    k = parse_order(cfg.block.order).index("conv")
    branch = f"stages.0.blocks.0.branch.{k}" + conv_kind(sc.conv.kind).input_conv
    first = cfg.plan().stages[0].blocks[0]
    if first.stride != 1 or first.in_chs != first.out_chs:
        return (branch, "stages.0.blocks.0.shortcut.0")
    return branch


def default_cfg(cfg: ModelConfig) -> dict[str, Any]:
    """timm's pretrained config for the network ``cfg`` describes (no weights exist: ``url`` is empty).

    ``input_size`` (C, H, W) and ``num_classes`` are the config's; ``fixed_input_size`` is set for flatten
    heads (their first FC layer fixes H×W); mean 0 / std 1 per channel (idfy takes [0, 1] pixels and scales
    them itself, S9); bicubic resizing, crop_pct 1.0; ``first_conv`` names the convs reading the image;
    ``classifier`` is ``head.fc``.
    """
    c = cfg.input.channels
    return {
        "url": "",
        "num_classes": cfg.num_classes,
        "input_size": (c, *cfg.input.size),
        "fixed_input_size": cfg.head.kind == "flatten",
        "pool_size": None,
        "crop_pct": 1.0,
        "interpolation": "bicubic",
        "mean": (0.0,) * c,
        "std": (1.0,) * c,
        "first_conv": _first_convs(cfg),
        "classifier": "head.fc",
        "architecture": f"idfy_{cfg.name}",
        "license": "apache-2.0",
    }


def build_model(cfg: ModelConfig) -> IdfyNet:
    """Build the network described by ``cfg`` (already validated on construction)."""
    if not isinstance(cfg, ModelConfig):
        raise TypeError(f"build_model expects a ModelConfig, got {type(cfg).__name__}; see idfy.load_preset")
    return IdfyNet(cfg)
