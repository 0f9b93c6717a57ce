"""Gaussian sub-stream (S2a): depthwise Gaussian (or difference-of-Gaussian) filters at a few σ.

Each σ blurs every channel with a separable kernel of radius ``ceil(3σ)``. With ``dog`` the stream keeps the
band-pass differences G(σ_i) − G(σ_{i+1}). σ is fixed (a buffer) or learnable (a parameter, kept positive
through a softplus-free log parametrisation). A 1×1 conv + norm + act projects the stacked maps to ``out_chs``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from idfy.layers.conv_norm_act import conv_norm_act
from idfy.layers.factory import ActSpec, NormSpec

__all__ = ["GaussianFilterBank", "GaussianStream", "gaussian_kernel1d"]


def gaussian_kernel1d(sigma: Tensor, radius: int) -> Tensor:
    """Normalised 1-D Gaussian of length ``2*radius+1``; differentiable in ``sigma`` (a 0-d tensor)."""
    xs = torch.arange(-radius, radius + 1, dtype=sigma.dtype, device=sigma.device)
    k = torch.exp(-0.5 * (xs / sigma) ** 2)
    return k / k.sum()


class GaussianFilterBank(nn.Module):
    """(B, C, H, W) -> (B, C·K, H, W) with K = len(sigmas) (or len(sigmas) − 1 with ``dog``).

    Output channel block k holds every input channel filtered at σ_k (or the k-th difference).
    """

    def __init__(self, *, channels: int, sigmas: Sequence[float], learnable: bool = False, dog: bool = False):
        super().__init__()
        self.channels = channels
        self.dog = dog
        self.radii = [max(1, math.ceil(3.0 * s)) for s in sigmas]
        log_sigma = torch.log(torch.tensor(list(sigmas), dtype=torch.float32))
        if learnable:
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)

    @property
    def num_maps(self) -> int:
        return len(self.radii) - 1 if self.dog else len(self.radii)

    def _blur(self, x: Tensor, sigma: Tensor, radius: int) -> Tensor:
        c = self.channels
        k = gaussian_kernel1d(sigma, radius).to(x.dtype)
        kx = k.view(1, 1, 1, -1).expand(c, 1, 1, -1)
        ky = k.view(1, 1, -1, 1).expand(c, 1, -1, 1)
        x = F.conv2d(x, kx, padding=(0, radius), groups=c)
        return F.conv2d(x, ky, padding=(radius, 0), groups=c)

    def forward(self, x: Tensor) -> Tensor:
        sigmas = self.log_sigma.exp()
        maps: list[Tensor] = []
        for i, r in enumerate(self.radii):
            maps.append(self._blur(x, sigmas[i], r))
        if self.dog:
            maps = [maps[i] - maps[i + 1] for i in range(len(maps) - 1)]
        return torch.cat(maps, dim=1)


class GaussianStream(nn.Module):
    """(B, in_chs, H, W) -> (B, out_chs, H, W): filter bank, then 1×1 conv, norm, act."""

    def __init__(
        self,
        *,
        in_chs: int,
        out_chs: int,
        sigmas: Sequence[float],
        learnable: bool = False,
        dog: bool = False,
        norm_layer: NormSpec = nn.BatchNorm2d,
        act_layer: ActSpec = nn.ReLU,
    ) -> None:
        super().__init__()
        self.bank = GaussianFilterBank(channels=in_chs, sigmas=sigmas, learnable=learnable, dog=dog)
        self.proj, self.norm, self.act = conv_norm_act(
            in_chs * self.bank.num_maps, out_chs, 1, norm_layer=norm_layer, act_layer=act_layer
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.proj(self.bank(x))))
