"""Strict conversion between frozen dataclasses and plain data (dicts, lists, scalars).

Used by :mod:`idfy.config` so that YAML files, URL strings and the app all go through one
path that reports *where* a value is wrong ("stages[2].conv.groups: expected an integer, got 'four'").
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints


class ConfigError(ValueError):
    """An invalid idfy configuration; the message says what is wrong and how to fix it."""


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

    Raises:
        ConfigError: naming the offending path, the expected type and the value given.
    """
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
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
        raise ConfigError(errors[0] if errors else f"{path}: invalid value {value!r}")
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            hint = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"{path}: {value!r} is not one of {', '.join(map(repr, allowed))}{extra}")
        return value
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{path}: expected {len(args)} values, got {len(value)} ({list(value)!r})")
        return tuple(from_plain(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping of {tp.__name__} fields, got {value!r}")
        hints = get_type_hints(tp)
        names = [f.name for f in dataclasses.fields(tp) if f.init]
        unknown = [k for k in value if k not in names]
        if unknown:
            key = unknown[0]
            hint = difflib.get_close_matches(str(key), names, n=1)
            extra = f" Did you mean {hint[0]!r}?" if hint else ""
            raise ConfigError(f"{path}: unknown option {key!r}.{extra} Valid options: {', '.join(names)}")
        kwargs = {k: from_plain(hints[k], v, f"{path}.{k}") for k, v in value.items()}
        return tp(**kwargs)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"{path}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {value!r}")
        return value
    if tp is Any or tp is typing.Any:
        return value
    raise ConfigError(f"{path}: unsupported type {_type_name(tp)}")
