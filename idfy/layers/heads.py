"""Heads. ``FlattenHead``: flatten + FC layers (S10, S12). ``Conv1x1Head``: a stack of 1×1 convs (S6, S11),
global average pooling, then the output layer. Both end in ``self.fc`` (the classifier that
``reset_classifier`` replaces) and expose ``pre_logits``."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from idfy.layers.conv_norm_act import conv_norm_act
from idfy.layers.factory import ActFactory, ActSpec, NormSpec

__all__ = ["Conv1x1Head", "FlattenHead"]


class FlattenHead(nn.Module):
    """(B, C, H, W) -> (B, num_outputs): flatten to C·H·W, Linear+act for each width, then ``fc``."""

    def __init__(
        self,
        *,
        in_features: int,
        widths: Sequence[int],
        num_outputs: int,
        dropout: float = 0.0,
        act_layer: ActFactory = nn.ReLU,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten(1)]
        prev = in_features
        for w in widths:
            layers += [nn.Linear(prev, w), act_layer()]
            prev = w
        self.hidden = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout)
        self.num_features = prev
        self.fc: nn.Module = nn.Linear(prev, num_outputs)

    def pre_logits(self, x: Tensor) -> Tensor:
        return self.drop(self.hidden(x))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.pre_logits(x))


class Conv1x1Head(nn.Module):
    """(B, C, H, W) -> (B, num_outputs): [1×1 conv, norm, act] per width, global average pool, then ``fc``."""

    def __init__(
        self,
        *,
        in_chs: int,
        widths: Sequence[int],
        num_outputs: int,
        dropout: float = 0.0,
        norm_layer: NormSpec = nn.BatchNorm2d,
        act_layer: ActSpec = nn.ReLU,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_chs
        for w in widths:
            layers += conv_norm_act(prev, w, 1, norm_layer=norm_layer, act_layer=act_layer)
            prev = w
        self.convs = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.num_features = prev
        self.fc: nn.Module = nn.Linear(prev, num_outputs)

    def pre_logits(self, x: Tensor) -> Tensor:
        return self.drop(self.pool(self.convs(x)).flatten(1))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.pre_logits(x))
