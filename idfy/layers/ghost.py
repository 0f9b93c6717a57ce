"""Ghost module (Han et al., "GhostNet: More Features from Cheap Operations", CVPR 2020) — S4.

A primary convolution makes ``ceil(out / ratio)`` intrinsic maps; a cheap depthwise 3×3 conv makes the
rest ("ghost" maps) from them; both are concatenated and cut to ``out`` channels. Unlike GhostNet's
module, no norm/activation is inside: the residual unit's order (S8) places those. Registered as conv kind
``ghost`` (:mod:`idfy.conv_kinds`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from idfy.config import ConfigError
from idfy.conv_kinds import ConvKind, register_conv_kind
from idfy.layers.conv_unit import conv2d_same

__all__ = ["GhostModule"]


class GhostModule(nn.Module):
    """(B, in_chs, H, W) -> (B, out_chs, H', W'), H' = ceil(H / stride) for odd kernels."""

    def __init__(
        self,
        *,
        in_chs: int,
        out_chs: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        ratio: int = 2,
        cheap_kernel: int = 3,
    ) -> None:
        super().__init__()
        self.out_chs = out_chs
        primary = math.ceil(out_chs / ratio)
        cheap = primary * (ratio - 1)
        self.primary = conv2d_same(
            in_chs, primary, kernel_size, stride=stride, dilation=dilation, groups=groups
        )
        self.cheap = conv2d_same(primary, cheap, cheap_kernel, groups=primary)

    def forward(self, x: Tensor) -> Tensor:
        y = self.primary(x)
        return torch.cat([y, self.cheap(y)], dim=1)[:, : self.out_chs]


def _build(
    spec: Any, *, in_chs: int, out_chs: int, kernel_size: int, stride: int, dilation: int, groups: int
) -> GhostModule:
    return GhostModule(
        in_chs=in_chs,
        out_chs=out_chs,
        kernel_size=kernel_size,
        stride=stride,
        dilation=dilation,
        groups=groups,
        ratio=spec.ghost_ratio,
    )


def _check(where: str, spec: Any, in_chs: int, out_chs: int) -> None:
    """The primary conv is grouped: ``groups`` must divide its input and its ``ceil(out / ratio)`` outputs."""
    g = spec.eff_groups
    primary = math.ceil(out_chs / spec.ghost_ratio)
    if in_chs % g or primary % g:
        both = math.gcd(in_chs, primary)
        choices = [d for d in range(1, both + 1) if both % d == 0][:8]
        raise ConfigError(
            f"{where}: groups={g} must divide both the {in_chs} input channels and the ghost module's "
            f"{primary} primary channels (= ceil({out_chs}/{spec.ghost_ratio})); choose groups from {choices}"
        )


register_conv_kind(
    ConvKind(
        "ghost",
        _build,
        "half the channels from a cheap depthwise conv of the other half (GhostNet, Han et al. 2020)",
        "#fff0b8",
        "ghost conv block",
        uses=("groups", "dilation", "ghost_ratio"),
        then_kernel=3,
        input_conv=".primary",
        check=_check,
        position=50,
    )
)
