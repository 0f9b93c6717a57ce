"""Conv → norm → act, written once: the stem, the image injection's and the fusion's 1×1 projections, the
Gaussian stream's projection, the 1×1-conv head and GCNet's transform all build it here.

:class:`ConvNormAct` is an ``nn.Sequential`` whose children are ``0`` (conv), ``1`` (norm) and ``2`` (act),
the layout of torchvision's ``Conv2dNormActivation``. :func:`conv_norm_act` returns the same three layers
for a module that holds them under its own names (``stem.conv`` / ``stem.norm``) or in a longer flat
``nn.Sequential`` (the head's ``convs.0`` … ``convs.3k+2``): checkpoint keys stay as they were.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from idfy.config import ConvSpec
from idfy.layers.conv_unit import conv2d_same, make_conv
from idfy.layers.factory import ActSpec, NormSpec, get_act_layer, get_norm_layer

__all__ = ["ConvNormAct", "conv_norm_act"]


def conv_norm_act(
    in_chs: int,
    out_chs: int,
    kernel_size: int = 1,
    *,
    stride: int = 1,
    conv: ConvSpec | None = None,
    bias: bool = False,
    norm_layer: NormSpec = "batch",
    act_layer: ActSpec = "relu",
) -> tuple[nn.Module, nn.Module, nn.Module]:
    """The conv, norm and act layers: (B, in_chs, H, W) -> (B, out_chs, ceil(H/stride), ceil(W/stride)).

    Args:
        kernel_size: odd sizes keep H×W at stride 1 ("same" padding).
        conv: the conv kind (:func:`idfy.layers.make_conv`, S4 / S7); ``None`` is a plain ``nn.Conv2d``.
        bias: give the plain conv a bias (GCNet's transform has one; a norm after the conv makes it
            redundant, so idfy's own units have none). Only for ``conv=None``.
        norm_layer, act_layer: anything :func:`~idfy.layers.get_norm_layer` / :func:`~idfy.layers.get_act_layer`
            accept (a name, an ``nn.Module`` class, a partial).

    Raises:
        ConfigError: a norm or activation the factories refuse.
        ValueError: ``bias`` with a conv kind.
    """
    norm = get_norm_layer(norm_layer)
    act = get_act_layer(act_layer)
    if conv is None:
        layer: nn.Module = conv2d_same(in_chs, out_chs, kernel_size, stride=stride, bias=bias)
    elif bias:
        raise ValueError(f"bias=True is for the plain conv (conv=None); conv kind {conv.kind!r} has no bias")
    else:
        layer = make_conv(conv, in_chs=in_chs, out_chs=out_chs, kernel_size=kernel_size, stride=stride)
    return layer, norm(out_chs), act()


class ConvNormAct(nn.Sequential):
    """(B, in_chs, H, W) -> (B, out_chs, ceil(H/stride), ceil(W/stride)): conv ``0``, norm ``1``, act ``2``.

    ``options``: the keyword arguments of :func:`conv_norm_act` (``stride``, ``conv``, ``bias``,
    ``norm_layer``, ``act_layer``); an unknown one raises ``TypeError``.
    """

    def __init__(self, in_chs: int, out_chs: int, kernel_size: int = 1, **options: Any) -> None:
        super().__init__(*conv_norm_act(in_chs, out_chs, kernel_size, **options))
