"""Resolve norm / activation names (from the config) to layer factories, once, outside the blocks."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

NormFactory = Callable[[int], nn.Module]
ActFactory = Callable[[], nn.Module]

__all__ = ["ActFactory", "NormFactory", "get_act_layer", "get_norm_layer"]


def _group_norm(channels: int) -> nn.Module:
    groups = max(g for g in range(1, 9) if channels % g == 0)
    return nn.GroupNorm(groups, channels)


def get_norm_layer(name: str) -> NormFactory:
    """``batch`` -> BatchNorm2d, ``group`` -> GroupNorm (≤ 8 groups), ``none`` -> Identity; called with channels."""
    table: dict[str, NormFactory] = {
        "batch": nn.BatchNorm2d,
        "group": _group_norm,
        "none": lambda c: nn.Identity(),
    }
    if name not in table:
        raise ValueError(f"unknown norm {name!r}; choose from {', '.join(table)}")
    return table[name]


def get_act_layer(name: str) -> ActFactory:
    """``relu`` / ``gelu`` / ``silu`` / ``leaky_relu`` -> a zero-argument factory of the activation module."""
    table: dict[str, ActFactory] = {
        "relu": lambda: nn.ReLU(inplace=False),
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.1),
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(table)}")
    return table[name]
