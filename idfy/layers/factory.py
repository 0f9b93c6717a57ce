"""Norm and activation factories, resolved once outside the blocks (as timm's ``get_norm_layer`` /
``get_act_layer``): a block receives a factory and calls it per layer.

A norm is given as a name (``batch``, ``group``, ``none``: the values of ``block.norm``), an ``nn.Module``
class called with the channel count (``nn.BatchNorm2d``; ``nn.GroupNorm`` gets idfy's group rule), or a
``functools.partial`` / function that takes the channel count (``partial(nn.GroupNorm, 8)``). An activation
is a name (``relu``, ``gelu``, ``silu``, ``leaky_relu``), an ``nn.Module`` class, or a partial / function of
no arguments (``partial(nn.LeakyReLU, 0.2)``). Anything else is refused in one line.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from idfy._dataclass_io import ConfigError

NormFactory = Callable[[int], nn.Module]
ActFactory = Callable[[], nn.Module]
#: What :func:`get_norm_layer` accepts.
NormSpec = str | type[nn.Module] | NormFactory
#: What :func:`get_act_layer` accepts.
ActSpec = str | type[nn.Module] | ActFactory

__all__ = ["ActFactory", "ActSpec", "NormFactory", "NormSpec", "get_act_layer", "get_norm_layer"]


def _group_norm(channels: int) -> nn.Module:
    """GroupNorm with the largest group count ≤ 8 that divides ``channels``."""
    groups = max(g for g in range(1, 9) if channels % g == 0)
    return nn.GroupNorm(groups, channels)


def _no_norm(channels: int) -> nn.Module:
    del channels
    return nn.Identity()


def _relu() -> nn.Module:
    return nn.ReLU(inplace=False)


def _leaky_relu() -> nn.Module:
    return nn.LeakyReLU(0.1)


_NORMS: dict[str, NormFactory] = {"batch": nn.BatchNorm2d, "group": _group_norm, "none": _no_norm}
_ACTS: dict[str, ActFactory] = {"relu": _relu, "gelu": nn.GELU, "silu": nn.SiLU, "leaky_relu": _leaky_relu}


def _resolve(spec: object, table: dict[str, Callable[..., nn.Module]], what: str, takes: str) -> Callable:
    """The factory ``spec`` names or is; :class:`ConfigError` (a ``ValueError``) in one line otherwise."""
    if isinstance(spec, str):
        if spec not in table:
            raise ConfigError(f"unknown {what} {spec!r}; choose from {', '.join(table)}")
        return table[spec]
    if isinstance(spec, nn.Module):
        raise ConfigError(
            f"{what}: got a {type(spec).__name__} module; give its class or a functools.partial of it "
            "(a new layer is made for every use)"
        )
    if isinstance(spec, type) and not issubclass(spec, nn.Module):
        raise ConfigError(f"{what}: {spec.__name__} is not an nn.Module class")
    if callable(spec):  # a class, a functools.partial or a function
        return spec
    raise ConfigError(
        f"{what}: got {type(spec).__name__}; give a name ({', '.join(table)}), an nn.Module class or a "
        f"functools.partial {takes}"
    )


def get_norm_layer(norm: NormSpec) -> NormFactory:
    """The norm factory for ``norm`` (see the module docstring); call it with the channel count.

    ``batch`` -> ``nn.BatchNorm2d``, ``group`` -> ``nn.GroupNorm`` with the largest group count ≤ 8 dividing
    the channels, ``none`` -> ``nn.Identity``; ``nn.GroupNorm`` given as a class follows the same rule.

    Raises:
        ConfigError: an unknown name, a module instance, a non-module class or a non-callable.
    """
    if norm is nn.GroupNorm:
        return _group_norm
    return _resolve(norm, _NORMS, "norm", "taking the channel count")


def get_act_layer(act: ActSpec) -> ActFactory:
    """The activation factory for ``act`` (see the module docstring); call it with no arguments.

    ``relu`` -> ``nn.ReLU``, ``gelu`` -> ``nn.GELU``, ``silu`` -> ``nn.SiLU``, ``leaky_relu`` ->
    ``nn.LeakyReLU(0.1)``.

    Raises:
        ConfigError: an unknown name, a module instance, a non-module class or a non-callable.
    """
    return _resolve(act, _ACTS, "activation", "of no arguments")
