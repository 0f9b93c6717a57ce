"""CAT fusion of the main stream with its sub-streams (S2, S3), then an optional 1×1 projection."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from idfy.layers.conv_norm_act import ConvNormAct
from idfy.layers.factory import ActSpec, NormSpec

__all__ = ["SubstreamFusion"]


class SubstreamFusion(nn.Module):
    """(B, C, H, W) -> (B, C, H, W) with ``project``, else (B, C + Σ sub-stream widths, H, W).

    Args:
        streams: name -> module mapping (B, C, H, W) to (B, c_k, H, W), e.g. ``gaussian``, ``dense``.
        widths: the c_k of each stream, in the same order.
    """

    def __init__(
        self,
        *,
        in_chs: int,
        streams: dict[str, nn.Module],
        widths: list[int],
        project: bool = True,
        norm_layer: NormSpec = nn.BatchNorm2d,
        act_layer: ActSpec = nn.ReLU,
    ) -> None:
        super().__init__()
        self.streams = nn.ModuleDict(streams)
        cat_chs = in_chs + sum(widths)
        self.proj: nn.Module = (
            ConvNormAct(cat_chs, in_chs, 1, norm_layer=norm_layer, act_layer=act_layer)
            if project
            else nn.Identity()
        )

    def forward(self, x: Tensor) -> Tensor:
        maps = [x]
        for stream in self.streams.values():
            maps.append(stream(x))
        return self.proj(torch.cat(maps, dim=1))
