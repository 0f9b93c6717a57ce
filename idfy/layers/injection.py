"""Re-injection of the original image (S1): resize it to the map's H×W (S1d: bicubic by default) and
concatenate along channels (S1e); optionally a 1×1 conv + norm + act brings the width back."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from idfy.layers.conv_norm_act import ConvNormAct
from idfy.layers.factory import ActSpec, NormSpec

__all__ = ["ImageInjection", "resize_image"]


def resize_image(img: Tensor, size: list[int], mode: str = "bicubic", antialias: bool = True) -> Tensor:
    """(B, C, H, W) -> (B, C, h, w) for ``size`` = (h, w); ``area`` ignores ``antialias``.

    Always resamples (no data-dependent shortcut, so FX, TorchScript and ``torch.export`` see one graph);
    :class:`ImageInjection` decides at construction whether a resize is needed at all.
    """
    if mode == "area":
        return F.interpolate(img, size=size, mode="area")
    return F.interpolate(img, size=size, mode=mode, align_corners=False, antialias=antialias)


class ImageInjection(nn.Module):
    """forward(x (B, C, H, W), img (B, C_img, H0, W0)) -> (B, C, H, W) with ``project``, else (B, C + C_img, H, W).

    Args:
        resize: resample the image to the map's H×W (S1d). ``False`` where the map still has the image's size
            (no downsampling before the injection point): the image is concatenated as it is.
    """

    def __init__(
        self,
        *,
        in_chs: int,
        img_chs: int,
        mode: str = "bicubic",
        antialias: bool = True,
        project: bool = True,
        resize: bool = True,
        norm_layer: NormSpec = nn.BatchNorm2d,
        act_layer: ActSpec = nn.ReLU,
    ) -> None:
        super().__init__()
        self.resize = resize
        self.mode = mode
        self.antialias = antialias
        self.out_chs = in_chs if project else in_chs + img_chs
        self.proj: nn.Module = (
            ConvNormAct(in_chs + img_chs, in_chs, 1, norm_layer=norm_layer, act_layer=act_layer)
            if project
            else nn.Identity()
        )

    def resized(self, x: Tensor, img: Tensor) -> Tensor:
        """The image as injected into ``x``: (B, C_img, H, W)."""
        if not self.resize:
            return img
        return resize_image(img, x.shape[-2:], self.mode, self.antialias)

    def forward(self, x: Tensor, img: Tensor) -> Tensor:
        return self.proj(torch.cat([x, self.resized(x, img)], dim=1))
