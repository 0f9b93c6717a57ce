"""Residual block whose conv / BN / ReLU order is a parameter (S8; He et al. 2016, Fig. 4).

The order is a token sequence such as ``conv-bn-relu-conv-bn-add-relu`` (original) or
``bn-relu-conv-bn-relu-conv-add`` (full pre-activation). Tokens before ``add`` run in that order on the
residual branch; tokens after ``add`` act on the sum. The shortcut is the identity, or — when the
stride or the width changes — a 1×1 conv with that stride (S11), followed by a norm when the branch
ends in one.
"""

from __future__ import annotations

from torch import Tensor, nn

from idfy.config import ConvSpec, parse_order
from idfy.layers.conv_unit import make_conv
from idfy.layers.factory import ActFactory, NormFactory

__all__ = ["ResidualBlock"]


class ResidualBlock(nn.Module):
    """(B, in_chs, H, W) -> (B, out_chs, ceil(H/stride), ceil(W/stride)).

    Attributes:
        order: the token tuple this block runs.
        branch: ``nn.Sequential`` of the residual branch, one module per token before ``add``.
        post: ``nn.Sequential`` of the tokens after ``add``.
        shortcut: identity or projection.
    """

    def __init__(
        self,
        *,
        in_chs: int,
        out_chs: int,
        stride: int = 1,
        order: str = "preact",
        conv: ConvSpec | None = None,
        kernel_size: int = 3,
        norm_layer: NormFactory = nn.BatchNorm2d,
        act_layer: ActFactory = nn.ReLU,
    ) -> None:
        super().__init__()
        spec = conv or ConvSpec()
        self.order = parse_order(order)
        split = self.order.index("add")
        chs, n_conv = in_chs, 0
        branch: list[nn.Module] = []
        for tok in self.order[:split]:
            if tok == "conv":
                branch.append(
                    make_conv(
                        spec,
                        in_chs=chs,
                        out_chs=out_chs,
                        kernel_size=kernel_size,
                        stride=stride if n_conv == 0 else 1,
                    )
                )
                chs, n_conv = out_chs, n_conv + 1
            elif tok == "bn":
                branch.append(norm_layer(chs))
            else:
                branch.append(act_layer())
        self.branch = nn.Sequential(*branch)
        self.post = nn.Sequential(
            *[norm_layer(out_chs) if t == "bn" else act_layer() for t in self.order[split + 1 :]]
        )
        if stride == 1 and in_chs == out_chs:
            self.shortcut: nn.Module = nn.Identity()
        else:
            layers: list[nn.Module] = [nn.Conv2d(in_chs, out_chs, 1, stride=stride, bias=False)]
            if self.order[split - 1] == "bn":
                layers.append(norm_layer(out_chs))
            self.shortcut = nn.Sequential(*layers)

    def last_branch_norm(self) -> nn.Module | None:
        """The norm closing the residual branch (zero-initialised so the block starts as identity)."""
        last = self.branch[-1]
        return last if isinstance(last, (nn.BatchNorm2d, nn.GroupNorm)) else None

    def forward(self, x: Tensor) -> Tensor:
        return self.post(self.branch(x) + self.shortcut(x))
