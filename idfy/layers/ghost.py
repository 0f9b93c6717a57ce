"""Ghost module (Han et al., "GhostNet: More Features from Cheap Operations", CVPR 2020) — S4.

A primary convolution makes ``ceil(out / ratio)`` intrinsic maps; a cheap depthwise 3×3 conv makes the
rest ("ghost" maps) from them; both are concatenated and cut to ``out`` channels. Unlike GhostNet's
module, no norm/activation is inside: the residual unit's order (S8) places those.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

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
        self.primary = nn.Conv2d(
            in_chs,
            primary,
            kernel_size,
            stride=stride,
            padding=dilation * (kernel_size - 1) // 2,
            dilation=dilation,
            groups=groups,
            bias=False,
        )
        self.cheap = nn.Conv2d(
            primary, cheap, cheap_kernel, padding=cheap_kernel // 2, groups=primary, bias=False
        )

    def forward(self, x: Tensor) -> Tensor:
        y = self.primary(x)
        return torch.cat([y, self.cheap(y)], dim=1)[:, : self.out_chs]
