"""Strict conversion between frozen dataclasses and plain data (dicts, lists, scalars).

Used by :mod:`idfy.config` so that YAML files, URL strings and the app all go through one
path that reports *where* a value is wrong ("stages[2].conv.groups: expected an integer, got 'four'").
"""

from __future__ import annotations

import builtins
import dataclasses
import difflib
import functools
import math
import reprlib
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

#: Longest excerpt of a value that an error message quotes.
MAX_QUOTE = 80
#: Integers beyond the int64 range are refused (no config field comes near it).
_INT_BITS = 63
#: str() of an int is refused by Python beyond 4300 digits; stay well below.
_STR_INT_BITS = 12_000


class ConfigError(ValueError):
    """An invalid idfy configuration; the message says what is wrong and how to fix it."""


class _ShortRepr(reprlib.Repr):
    """``reprlib`` with bounds on strings, containers, nesting and integer digits."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother, self.maxlong = 3, 60, 60, 40
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = self.maxarray = 6
        self.maxdict = 4

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() <= 128:
            return builtins.repr(x)
        if x.bit_length() > _STR_INT_BITS:
            return f"a number of about {int(x.bit_length() * math.log10(2)) + 1:,} digits"
        digits = str(abs(x))
        return f"{'-' if x < 0 else ''}{digits[:4]}…{digits[-1]} ({len(digits):,} digits)"


_SHORT = _ShortRepr()


def short_repr(value: Any, limit: int = MAX_QUOTE) -> str:
    """An escaped excerpt of ``value`` of at most ``limit`` characters for error messages (``reprlib``):
    long strings and lists are cut, deep nesting shows as ``[...]``, huge integers by their digit count.
    Never raises and never walks more than a few dozen items, whatever ``value`` holds."""
    try:
        text = _SHORT.repr(value)
    except Exception:  # a foreign object whose __repr__ fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is bool:
        return "true/false"
    if tp is str:
        return "a string"
    return getattr(tp, "__name__", str(tp))


def to_plain(obj: Any) -> Any:
    """Dataclass (nested) -> dict / list / scalars, JSON and YAML ready."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_plain(v) for v in obj]
    return obj


def from_plain(tp: Any, value: Any, path: str = "config") -> Any:
    """Build an instance of type ``tp`` from plain data, checking types strictly.

    ``tp`` is a dataclass, ``X | None`` / ``Union``, ``Literal``, ``tuple[X, ...]`` / ``tuple[X, Y]``,
    ``bool``, ``int``, ``float``, ``str`` or ``Any``.

    Raises:
        ConfigError: naming the offending path, the expected type and the value given.
    """
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return _from_union(tp, value, path)
    if origin is Literal:
        return _from_literal(tp, value, path)
    if origin is tuple:
        return _from_tuple(tp, value, path)
    if dataclasses.is_dataclass(tp):
        return _from_dataclass(tp, value, path)
    if tp in _SCALARS:
        return _SCALARS[tp](value, path)
    if tp is Any or tp is typing.Any:
        return value
    raise ConfigError(f"{path}: unsupported type {_type_name(tp)}")


def _from_union(tp: Any, value: Any, path: str) -> Any:
    """``None`` where the union allows it, else the first member that accepts ``value`` (the first
    member's error otherwise)."""
    args = get_args(tp)
    if value is None and type(None) in args:
        return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return from_plain(arg, value, path)
        except ConfigError as e:
            errors.append(str(e))
    raise ConfigError(errors[0] if errors else f"{path}: invalid value {short_repr(value)}")


def _from_literal(tp: Any, value: Any, path: str) -> Any:
    allowed = get_args(tp)
    names = ", ".join(map(repr, allowed))
    if not _hashable_scalar(value):
        raise ConfigError(f"{path}: expected one of {names}, got {_describe(value)}")
    if value not in allowed:
        close = _close(value, allowed)
        hint = f" (did you mean {close!r}?)" if close else ""
        raise ConfigError(f"{path}: {short_repr(value)} is not one of {names}{hint}")
    return value


def _from_tuple(tp: Any, value: Any, path: str) -> tuple:
    args = get_args(tp)
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{path}: expected a list, got {_describe(value)}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(from_plain(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
    if len(value) != len(args):
        raise ConfigError(f"{path}: expected {len(args)} values, got {len(value):,} ({short_repr(value)})")
    return tuple(from_plain(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))


@functools.cache
def _fields(tp: type) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A dataclass's resolved field types and its init field names (``get_type_hints`` is slow: resolved once)."""
    return get_type_hints(tp), tuple(f.name for f in dataclasses.fields(tp) if f.init)


def _from_dataclass(tp: Any, value: Any, path: str) -> Any:
    """A mapping of the dataclass's fields (an instance is kept); an unknown key names the close match."""
    if isinstance(value, tp):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected a mapping of {tp.__name__} fields, got {_describe(value)}")
    hints, names = _fields(tp)
    unknown = [k for k in value if k not in names]
    if unknown:
        key = unknown[0]
        close = _close(key, names)
        hint = f" Did you mean {close!r}?" if close else ""
        raise ConfigError(
            f"{path}: unknown option {short_repr(key)}.{hint} Valid options: {', '.join(names)}"
        )
    kwargs = {k: from_plain(hints[k], v, f"{path}.{k}") for k, v in value.items()}
    return tp(**kwargs)


def _from_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: expected true/false, got {_describe(value)}")
    return value


def _from_int(value: Any, path: str) -> int:
    """An integer (a float with no fractional part counts), never a bool, within the int64 range."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{path}: expected an integer, got {_describe(value)}")
    if value.bit_length() > _INT_BITS:
        raise ConfigError(f"{path}: {short_repr(value)} is too large for an integer option")
    return value


def _from_float(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{path}: expected a number, got {_describe(value)}")
    try:
        return float(value)
    except OverflowError:  # an int beyond ~1.8e308 (fuzz-3)
        raise ConfigError(f"{path}: {short_repr(value)} is too large for a number") from None


def _from_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{path}: expected a string, got {_describe(value)}")
    return value


_SCALARS: dict[Any, Callable[[Any, str], Any]] = {
    bool: _from_bool,
    int: _from_int,
    float: _from_float,
    str: _from_str,
}


def _hashable_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _describe(value: Any) -> str:
    """A container by its kind and size (never its items listed in full), a scalar by its short repr."""
    if isinstance(value, dict):
        return f"a mapping of {len(value):,} options"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value):,} values {short_repr(value, 40)}" if value else "an empty list"
    return short_repr(value)


def _close(value: Any, choices: Any) -> str | None:
    """The choice closest to a short string ``value`` (``difflib``); ``None`` for anything else."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
    return close[0] if close else None
