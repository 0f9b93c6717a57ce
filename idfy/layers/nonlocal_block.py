"""Embedded-Gaussian non-local block (Wang et al., "Non-local Neural Networks", CVPR 2018) — S4, dense
sub-stream kind ``nonlocal``.

Every output position is a weighted sum over all H·W positions::

    y_i = Σ_j softmax_j(θ(x_i)ᵀ φ(x_j)) · g(x_j)

with θ, φ and g 1×1 convolutions to ``in_chs // reduction`` channels (the paper uses half the channels:
``reduction: 2``), then a 1×1 convolution W_z to ``out_chs``. The paper's residual sum ``z = W_z y + x`` is
left to the stage's CAT fusion (S3), which already carries x beside the stream.

Cost: the (H·W)×(H·W) attention matrix. Per image the two matrix products take 2·(H·W)²·C' MACs and the
matrix itself (H·W)² floats, kept for backward with its gradient — quadratic in H·W, where GCNet (Cao et al.
2019, kind ``gc``), which simplifies this block to one attention map shared by all positions, is linear.
A design whose matrix would exceed :data:`MAX_ATTENTION_BYTES` per image is refused before anything is built.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from idfy.config import ConfigError
from idfy.layers.factory import ActFactory
from idfy.substreams import DenseKind, register_dense_kind

__all__ = ["MAX_ATTENTION_BYTES", "NonLocalBlock", "attention_bytes"]

#: Largest fp32 attention matrix of one image (bytes): 256 MiB is 8,192 positions (e.g. a 90×90 map).
MAX_ATTENTION_BYTES = 256 * 2**20


def attention_bytes(h: int, w: int) -> int:
    """Bytes of the fp32 (H·W)×(H·W) attention matrix of one image."""
    return 4 * (h * w) ** 2


class NonLocalBlock(nn.Module):
    """(B, in_chs, H, W) -> (B, out_chs, H, W): embedded-Gaussian non-local attention.

    Args:
        in_chs: channels read; out_chs: channels produced (the stream's width).
        reduction: θ, φ and g have ``max(1, in_chs // reduction)`` channels.
        act_layer: accepted for the registry's common signature; the block has no activation.
    """

    def __init__(self, *, in_chs: int, out_chs: int, reduction: int = 2, act_layer: ActFactory = nn.ReLU):
        super().__init__()
        del act_layer
        hidden = max(1, in_chs // reduction)
        self.theta = nn.Conv2d(in_chs, hidden, 1)
        self.phi = nn.Conv2d(in_chs, hidden, 1)
        self.g = nn.Conv2d(in_chs, hidden, 1)
        self.softmax = nn.Softmax(dim=-1)  # a module, so the analysis counts the matrix among activations
        self.out = nn.Conv2d(hidden, out_chs, 1)

    def forward(self, x: Tensor) -> Tensor:
        theta = self.theta(x).flatten(2)  # (B, C', N), N = H·W
        phi = self.phi(x).flatten(2)
        g = self.g(x).flatten(2)
        attn = self.softmax(theta.transpose(1, 2) @ phi)  # (B, N, N): row i weighs every position j
        y = g @ attn.transpose(1, 2)  # (B, C', N)
        return self.out(y.reshape(y.shape[0], y.shape[1], x.shape[2], x.shape[3]))


def _check(where: str, in_shape: tuple[int, int, int], reduction: int, width: int) -> None:
    """Refuse a map whose attention matrix would pass :data:`MAX_ATTENTION_BYTES` (one line, with the fix)."""
    del reduction, width
    _, h, w = in_shape
    need = attention_bytes(h, w)
    if need > MAX_ATTENTION_BYTES:
        most = math.isqrt(MAX_ATTENTION_BYTES // 4)
        side = math.isqrt(most)
        raise ConfigError(
            f"{where}: a non-local block (dense.kind: nonlocal) on the {h}×{w} map compares every position "
            f"with every other; its {h * w:,}×{h * w:,} attention matrix needs {need / 2**20:,.0f} MiB per "
            f"image (limit {MAX_ATTENTION_BYTES / 2**20:.0f} MiB, at most {most:,} positions, e.g. "
            f"{side}×{side}). Put it on a later stage, use a smaller input.size, or dense.kind: gc "
            "(GCNet, linear in H·W)"
        )


def _act_floats(in_shape: tuple[int, int, int], reduction: int, width: int) -> int:
    """The attention matrix and its gradient, per image."""
    del reduction, width
    _, h, w = in_shape
    return 2 * (h * w) ** 2


register_dense_kind(
    DenseKind(
        name="nonlocal",
        build=NonLocalBlock,
        title="non-local (embedded Gaussian)",
        summary="non-local block: every position attends to every other by matrix multiplication "
        "(Wang et al. 2018, S4); cost quadratic in H·W",
        colour="#f3d6c6",
        legend="non-local sub-stream (S4)",
        check=_check,
        act_floats=_act_floats,
        position=30,
    )
)
