"""FC squeeze context (S2b "NN" sub-stream, S4 FC): global average pooling through a two-layer MLP,
broadcast back over H×W (the dense, fully connected counterpart of :mod:`idfy.layers.global_context`)."""

from __future__ import annotations

from torch import Tensor, nn

from idfy.layers.factory import ActFactory
from idfy.substreams import DenseKind, register_dense_kind

__all__ = ["FCContext"]


class FCContext(nn.Module):
    """(B, in_chs, H, W) -> (B, out_chs, H, W), constant over H×W."""

    def __init__(self, *, in_chs: int, out_chs: int, reduction: int = 4, act_layer: ActFactory = nn.ReLU):
        super().__init__()
        hidden = max(1, in_chs // reduction)
        self.fc1 = nn.Linear(in_chs, hidden)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden, out_chs)

    def forward(self, x: Tensor) -> Tensor:
        z = self.fc2(self.act(self.fc1(x.mean(dim=(2, 3)))))
        return z[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])


register_dense_kind(
    DenseKind(
        name="fc",
        build=FCContext,
        title="FC squeeze",
        position=20,
        summary="squeeze to a vector, FC layers, broadcast back (S4)",
    )
)
