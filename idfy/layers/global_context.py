"""GCNet global context (Cao et al., "GCNet: Non-local Networks Meet Squeeze-Excitation Networks", 2019) — S2b, S4.

Attention pooling by matrix multiplication: a 1×1 conv scores every position, a softmax over H·W turns
the scores into weights, and ``x @ weights`` gives one context vector per image. A bottleneck transform
(1×1 conv, LayerNorm, ReLU, 1×1 conv) maps it to ``out_chs``, broadcast back over H×W so it can be
concatenated with the main stream.
"""

from __future__ import annotations

from torch import Tensor, nn

from idfy.layers.conv_norm_act import conv_norm_act
from idfy.layers.factory import ActFactory
from idfy.substreams import DenseKind, register_dense_kind

__all__ = ["GlobalContext"]


def _layer_norm(channels: int) -> nn.Module:
    """LayerNorm over a (channels, 1, 1) context, as GCNet normalises its transform."""
    return nn.LayerNorm([channels, 1, 1])


class GlobalContext(nn.Module):
    """(B, in_chs, H, W) -> (B, out_chs, H, W), constant over H×W."""

    def __init__(self, *, in_chs: int, out_chs: int, reduction: int = 4, act_layer: ActFactory = nn.ReLU):
        super().__init__()
        hidden = max(1, in_chs // reduction)
        self.score = nn.Conv2d(in_chs, 1, 1)
        self.transform = nn.Sequential(
            *conv_norm_act(in_chs, hidden, 1, bias=True, norm_layer=_layer_norm, act_layer=act_layer),
            nn.Conv2d(hidden, out_chs, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        weights = self.score(x).flatten(2).softmax(dim=-1)  # (B, 1, HW)
        context = (x.flatten(2) @ weights.transpose(1, 2)).unsqueeze(-1)  # (B, C, 1, 1)
        return self.transform(context).expand(-1, -1, x.shape[2], x.shape[3])


register_dense_kind(
    DenseKind(
        name="gc",
        build=GlobalContext,
        title="GCNet global context",
        position=10,
        summary="GCNet global context: attention pooling by matrix multiplication (Cao et al. 2019, S4)",
    )
)
