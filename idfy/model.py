"""``build_model(cfg)``: the only way an idfy network is made, and the network itself.

Module names are stable so hooks, the analysis and the diagram can find them::

    stem            Stem (conv, norm, act) and ``stem.inject``       — optional
    stages.{i}      Stage: ``down`` (pool), ``inject``, ``blocks.{j}``, ``fusion`` (sub-streams)
    head_inject     image injection before the head                   — optional
    head            FlattenHead or Conv1x1Head, classifier ``head.fc``

The network follows timm's model contract: ``forward_features`` (unpooled NCHW), ``forward_head``,
``num_features``, ``feature_info``, ``reset_classifier``, ``forward_intermediates``.
Inputs are images in [0, 1]; the network multiplies them by ``cfg.input.scale`` itself (S9).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from idfy.config import ModelConfig, StageConfig
from idfy.layers import (
    Conv1x1Head,
    FCContext,
    FlattenHead,
    GaussianStream,
    GlobalContext,
    ImageInjection,
    ResidualBlock,
    SubstreamFusion,
    get_act_layer,
    get_norm_layer,
    make_conv,
)
from idfy.layers.factory import ActFactory, NormFactory

__all__ = ["IdfyNet", "Stage", "Stem", "build_model"]


class Stem(nn.Module):
    """(B, C_img, H, W) -> (B, width [+ C_img], H', W'): conv (S1a sparse density), norm, act, optional injection."""

    def __init__(self, cfg: ModelConfig, norm_layer: NormFactory, act_layer: ActFactory) -> None:
        super().__init__()
        st = cfg.stem
        if st is None:
            raise ValueError("Stem needs cfg.stem")
        self.conv = make_conv(
            st.conv, in_chs=cfg.input.channels, out_chs=st.width, kernel_size=st.kernel, stride=st.stride
        )
        self.norm = norm_layer(st.width)
        self.act = act_layer()
        self.inject = _make_injection(cfg, st.width, norm_layer, act_layer) if cfg.inject.stem else None

    def forward(self, x: Tensor, img: Tensor) -> Tensor:
        x = self.act(self.norm(self.conv(x)))
        return self.inject(x, img) if self.inject is not None else x


class Stage(nn.Module):
    """(B, in_chs, H, W) -> (B, out_chs, H/stride, W/stride).

    Order: ``down`` (pool, when stride 2 and not a strided conv), ``inject`` (S1b), ``blocks``, ``fusion`` (S2).
    """

    def __init__(
        self,
        cfg: ModelConfig,
        index: int,
        in_chs: int,
        norm_layer: NormFactory,
        act_layer: ActFactory,
    ) -> None:
        super().__init__()
        sc: StageConfig = cfg.stages[index]
        pool = sc.stride == 2 and sc.down != "conv"
        self.down: nn.Module = (
            (nn.AvgPool2d(2, 2) if sc.down == "avgpool" else nn.MaxPool2d(2, 2)) if pool else nn.Identity()
        )
        self.inject = _make_injection(cfg, in_chs, norm_layer, act_layer) if sc.inject else None
        chs = self.inject.out_chs if self.inject is not None else in_chs
        blocks = []
        for j in range(sc.depth):
            blocks.append(
                ResidualBlock(
                    in_chs=chs,
                    out_chs=sc.width,
                    stride=2 if (j == 0 and sc.stride == 2 and not pool) else 1,
                    order=cfg.block.order,
                    conv=sc.conv,
                    kernel_size=cfg.block.kernel,
                    norm_layer=norm_layer,
                    act_layer=act_layer,
                )
            )
            chs = sc.width
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
                dense_cls = GlobalContext if sc.dense.kind == "gc" else FCContext
                streams["dense"] = dense_cls(
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
    cfg: ModelConfig, in_chs: int, norm_layer: NormFactory, act_layer: ActFactory
) -> ImageInjection:
    inj = cfg.inject
    return ImageInjection(
        in_chs=in_chs,
        img_chs=cfg.input.channels,
        mode=inj.mode,
        antialias=inj.antialias,
        project=inj.project,
        norm_layer=norm_layer,
        act_layer=act_layer,
    )


class IdfyNet(nn.Module):
    """The idfy CNN. Input (B, C_img, H, W) in [0, 1]; output (B, 4 + C) for ``localize``
    (raw box values — see :func:`idfy.boxes.decode` — then class logits) or (B, C) for ``classify``."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        norm_layer = get_norm_layer(cfg.block.norm)
        act_layer = get_act_layer(cfg.block.act)
        self.register_buffer("input_scale", torch.tensor(float(cfg.input.scale)), persistent=False)
        self.stem = Stem(cfg, norm_layer, act_layer) if cfg.stem is not None else None
        chs = cfg.stem_shape()[0] if cfg.stem is not None else cfg.input.channels
        stages = []
        self.feature_info: list[dict[str, Any]] = []
        reduction = cfg.stem.stride if cfg.stem is not None else 1
        for i, sc in enumerate(cfg.stages):
            stage = Stage(cfg, i, chs, norm_layer, act_layer)
            stages.append(stage)
            chs = stage.out_chs
            reduction *= sc.stride
            self.feature_info.append({"num_chs": chs, "reduction": reduction, "module": f"stages.{i}"})
        self.stages = nn.ModuleList(stages)
        self.head_inject = _make_injection(cfg, chs, norm_layer, act_layer) if cfg.inject.head else None
        self.num_features = self.head_inject.out_chs if self.head_inject is not None else chs
        self.num_classes = cfg.num_classes
        self.head = self._make_head(cfg.num_outputs, norm_layer, act_layer)
        self.head_hidden_size = self.head.num_features
        self.pretrained_cfg: dict[str, Any] = default_cfg(cfg)
        self.default_cfg = self.pretrained_cfg
        self.init_weights()

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
        fc = self.head.fc
        if isinstance(fc, nn.Linear):
            nn.init.normal_(fc.weight, std=0.01)
            nn.init.zeros_(fc.bias)

    # ------------------------------------------------------------------ timm contract
    def get_classifier(self) -> nn.Module:
        return self.head.fc

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """Replace the output layer for ``num_classes`` classes (plus 4 box values for ``localize``);
        ``num_classes=0`` leaves the head returning its pre-logit features."""
        del global_pool  # the pooling is part of the design, fixed by the config
        self.num_classes = num_classes
        n_out = num_classes + (4 if self.cfg.task == "localize" and num_classes > 0 else 0)
        self.head.fc = nn.Linear(self.head.num_features, n_out) if n_out > 0 else nn.Identity()

    def _scaled(self, x: Tensor) -> Tensor:
        return x * self.input_scale

    def _features(self, x: Tensor, collect: bool = False) -> tuple[Tensor, list[Tensor]]:
        img = self._scaled(x)
        x = self.stem(img, img) if self.stem is not None else img
        feats = []
        for stage in self.stages:
            x = stage(x, img)
            if collect:
                feats.append(x)
        if self.head_inject is not None:
            x = self.head_inject(x, img)
        return x, feats

    def forward_features(self, x: Tensor) -> Tensor:
        """(B, C_img, H, W) in [0, 1] -> (B, num_features, h, w), the map entering the head."""
        return self._features(x)[0]

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """(B, num_features, h, w) -> (B, num_outputs), or the pre-logit features (B, head_hidden_size)."""
        return self.head.pre_logits(x) if pre_logits else self.head(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(
        self,
        x: Tensor,
        indices: int | list[int] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = "NCHW",
        intermediates_only: bool = False,
    ) -> list[Tensor] | tuple[Tensor, list[Tensor]]:
        """Per-stage maps (timm's ``features_only`` contract). ``indices``: last n stages (int) or a list."""
        del norm, stop_early
        if output_fmt != "NCHW":
            raise ValueError("only NCHW output is supported")
        n = len(self.stages)
        take = list(range(n - indices, n)) if isinstance(indices, int) else (indices or list(range(n)))
        final, feats = self._features(x, collect=True)
        inter = [feats[i] for i in take]
        return inter if intermediates_only else (final, inter)

    def prune_intermediate_layers(
        self, indices: int | list[int] = 1, prune_norm: bool = False, prune_head: bool = True
    ) -> list[int]:
        """Drop the head (for feature extraction); returns the kept stage indices."""
        del prune_norm
        n = len(self.stages)
        take = list(range(n - indices, n)) if isinstance(indices, int) else list(indices)
        if prune_head:
            self.reset_classifier(0)
        return take


def default_cfg(cfg: ModelConfig) -> dict[str, Any]:
    """timm-style default config: input size, interpolation, normalisation (none: [0,1] in, scale inside)."""
    return {
        "url": "",
        "num_classes": cfg.num_classes,
        "input_size": (cfg.input.channels, *cfg.input.size),
        "pool_size": None,
        "crop_pct": 1.0,
        "interpolation": "bicubic",
        "mean": (0.0,) * cfg.input.channels,
        "std": (1.0,) * cfg.input.channels,
        "first_conv": "stem.conv" if cfg.stem is not None else "stages.0.blocks.0",
        "classifier": "head.fc",
        "architecture": f"idfy_{cfg.name}",
        "license": "apache-2.0",
    }


def build_model(cfg: ModelConfig) -> IdfyNet:
    """Build the network described by ``cfg`` (already validated on construction)."""
    if not isinstance(cfg, ModelConfig):
        raise TypeError(f"build_model expects a ModelConfig, got {type(cfg).__name__}; see idfy.load_preset")
    return IdfyNet(cfg)
