"""The input boundary for designs: text, tokens and files become plain data here, limits checked first.

Every way a config arrives — YAML text (the app, the API, files), a shared ``v1.`` string (the page URL),
a file named on the command line, a dict from Python — is parsed by one function of this module, which
checks its limits *before* the work that the limit protects:

* size: :data:`MAX_YAML_BYTES` of UTF-8 text (counted before parsing; a file is read at most that far);
* structure: at most :data:`MAX_DEPTH` levels of nesting and :data:`MAX_NODES` values in all;
* YAML anchors and aliases (``&name`` / ``*name``) are refused: a config never needs them and they make
  a few hundred bytes stand for billions of values;
* numbers written with more than :data:`MAX_NUMBER_CHARS` characters are refused before conversion;
* text must be valid UTF-8 (a lone surrogate from JSON is refused, not passed on);
* a ``v1.`` string is decompressed at most to the size limit, never past it.

Every error is a :class:`~idfy._dataclass_io.ConfigError` whose message quotes at most a short, escaped
excerpt of a value (:func:`~idfy._dataclass_io.short_repr`) and never the content of a file.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from idfy._dataclass_io import ConfigError, short_repr

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_NUMBER_CHARS",
    "MAX_YAML_BYTES",
    "TOKEN_PREFIX",
    "check_plain",
    "check_text",
    "decode_token",
    "encode_token",
    "load_yaml",
    "read_config_file",
]

#: Config text (YAML, a decompressed ``v1.`` string, a file) larger than this is refused before parsing.
MAX_YAML_BYTES = 256 * 1024
#: Deepest accepted nesting of mappings and lists (a full design nests 4 levels: stages[i].conv.kind).
MAX_DEPTH = 16
#: Most values (scalars, lists and mappings) in one config; a design with 8 stages holds a few hundred.
MAX_NODES = 4096
#: Longest accepted number literal in characters (an int64 has 19 digits).
MAX_NUMBER_CHARS = 64
#: Prefix of the shareable URL form of a config.
TOKEN_PREFIX = "v1."

_KIB = MAX_YAML_BYTES // 1024
_TOO_LARGE = f"config text is larger than {_KIB} KiB; is it a config?"
_DAMAGED = "shared config string is damaged; copy the whole ?cfg=... value"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same grammar, faster
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def check_text(text: Any, what: str = "config text") -> str:
    """``text`` as a ``str`` within :data:`MAX_YAML_BYTES` bytes of valid UTF-8.

    Raises:
        ConfigError: not a string, too large, or not encodable as UTF-8 (e.g. a lone surrogate).
    """
    if not isinstance(text, str):
        raise ConfigError(f"{what}: expected text, got {type(text).__name__}")
    if len(text) > MAX_YAML_BYTES:  # a character is at least one byte: refuse without encoding
        raise ConfigError(_TOO_LARGE)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as e:
        raise ConfigError(f"{what} is not valid UTF-8 (character {e.start + 1} cannot be encoded)") from None
    if size > MAX_YAML_BYTES:
        raise ConfigError(_TOO_LARGE)
    return text


# --------------------------------------------------------------------------- YAML
def load_yaml(text: Any) -> Any:
    """Plain data (dicts, lists, scalars) from YAML text, with every limit checked before it is built.

    The event stream is scanned first (libyaml's parser keeps its own stack, so nesting cannot exhaust
    Python's): anchors/aliases, nesting beyond :data:`MAX_DEPTH`, more than :data:`MAX_NODES` values and
    over-long numbers stop the scan at once. Only then is the document composed (``yaml.safe_load`` rules).

    Raises:
        ConfigError: too large, not UTF-8, a limit exceeded, or a YAML syntax error (with its line).
    """
    text = check_text(text)
    try:
        _scan(yaml.parse(text, Loader=_LOADER))
        return yaml.load(text, Loader=_LOADER)  # a SafeLoader: plain data only
    except yaml.YAMLError as e:
        raise ConfigError(_yaml_message(e)) from None
    except ConfigError:
        raise
    except (ValueError, OverflowError, RecursionError):  # e.g. an impossible date such as 2020-02-30
        raise ConfigError(
            "YAML could not be read: a value cannot be converted (check dates and numbers)"
        ) from None


def _yaml_message(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(e, "problem", None) or (str(e).splitlines() or ["syntax error"])[0]
    if "nesting depth" in problem:  # libyaml's own bound (1000), met while its scanner reads ahead
        return f"config nests deeper than {MAX_DEPTH} levels{where}"
    if len(problem) > 120:
        problem = problem[:119] + "…"
    return f"YAML could not be read{where}: {problem}"


class _Frame:
    """One open mapping or list while scanning: where it is and what the next value's key is."""

    __slots__ = ("index", "is_map", "key", "path")

    def __init__(self, path: str, is_map: bool) -> None:
        self.path, self.is_map, self.index, self.key = path, is_map, 0, None

    def child(self) -> str:
        return f"{self.path}.{self.key}" if self.is_map else f"{self.path}[{self.index}]"


def _scan(events: Iterator[yaml.Event]) -> None:
    """Walk the event stream once, refusing what :func:`load_yaml` documents; builds nothing."""
    resolver = yaml.resolver.Resolver()
    stack: list[_Frame] = []
    nodes = 0
    for event in events:
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            stack.pop()
            _advance(stack, None)
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue  # stream / document markers
        top = stack[-1] if stack else None
        is_key = top is not None and top.is_map and top.index % 2 == 0
        where = "config" if top is None else (top.path if is_key else top.child())
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ConfigError(
                f"{where}: YAML anchors and aliases (&name, *name) are not accepted in configs; "
                "write each value out"
            )
        nodes += 1
        if nodes > MAX_NODES:
            raise ConfigError(f"config holds more than {MAX_NODES:,} values; a design needs a few hundred")
        if isinstance(event, yaml.ScalarEvent):
            value = event.value
            number = event.implicit[0] and len(value) > MAX_NUMBER_CHARS
            if number and resolver.resolve(yaml.ScalarNode, value, event.implicit) in _NUMBER_TAGS:
                raise ConfigError(f"{where}: a {len(value):,}-character number is not a valid value")
            _advance(stack, value if is_key else None)
            continue
        if is_key:
            raise ConfigError(f"{where}: a key must be a plain name, not a list or mapping")
        if len(stack) >= MAX_DEPTH:
            raise ConfigError(f"config nests deeper than {MAX_DEPTH} levels (at {where})")
        stack.append(_Frame(where, isinstance(event, yaml.MappingStartEvent)))


def _advance(stack: list[_Frame], key: str | None) -> None:
    """A whole key or value of the innermost open container is done; remember a mapping's key."""
    if not stack:
        return
    top = stack[-1]
    if top.is_map and top.index % 2 == 0:
        top.key = key if key is not None and len(key) <= 40 and key.isprintable() else "?"
    top.index += 1


# --------------------------------------------------------------------------- plain data
def check_plain(data: Any) -> None:
    """Refuse nested dicts/lists/tuples deeper than :data:`MAX_DEPTH` or holding more than
    :data:`MAX_NODES` values, before anything walks them recursively. Iterative and stops at the first
    limit, so shared sub-lists (one list referenced a billion times) cost at most :data:`MAX_NODES` steps.

    Raises:
        ConfigError: "config nests deeper than N levels" or "config holds more than N values".
    """
    todo: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while todo:
        value, depth = todo.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ConfigError(f"config holds more than {MAX_NODES:,} values; a design needs a few hundred")
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        if depth >= MAX_DEPTH:
            raise ConfigError(f"config nests deeper than {MAX_DEPTH} levels")
        if len(children) > MAX_NODES:
            raise ConfigError(f"config holds more than {MAX_NODES:,} values; a design needs a few hundred")
        todo.extend((child, depth + 1) for child in children)


# --------------------------------------------------------------------------- v1. strings
def encode_token(data: Any) -> str:
    """The shareable ``v1.`` form of plain data: compact JSON, zlib level 9, base64url without padding."""
    raw = json.dumps(data, separators=(",", ":")).encode()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_token(text: Any) -> Any:
    """Plain data from a ``v1.`` string; decompression stops at :data:`MAX_YAML_BYTES`.

    Raises:
        ConfigError: wrong prefix, damaged or truncated string, too large once decompressed, nesting too
        deep. Messages never carry decoder internals.
    """
    text = check_text(text, "shared config string").strip()
    if not text.startswith(TOKEN_PREFIX):
        raise ConfigError("shared config string must start with 'v1.'; copy the whole ?cfg=... value")
    body = text[len(TOKEN_PREFIX) :]
    try:
        packed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_YAML_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise ConfigError(_DAMAGED) from None
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(f"shared config string unpacks to more than {_KIB} KiB; is it a config?")
    if not inflater.eof:
        raise ConfigError(_DAMAGED)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(_DAMAGED) from None
    try:
        data = json.loads(text, parse_int=_json_int, parse_constant=float)
    except ConfigError:
        raise
    except RecursionError:  # the C decoder guards its own recursion (about 1000 levels)
        raise ConfigError(f"config nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise ConfigError(_DAMAGED) from None
    check_plain(data)
    return data


def _json_int(digits: str) -> int:
    if len(digits) > MAX_NUMBER_CHARS:
        raise ConfigError(f"config: a {len(digits):,}-character number is not a valid value")
    return int(digits)


# --------------------------------------------------------------------------- files
def read_config_file(path: str | os.PathLike[str]) -> str:
    """The text of a config file named by a local user (command line, library), at most
    :data:`MAX_YAML_BYTES`: the size is checked from ``stat`` *and* by reading no more than the cap plus
    one byte (files under ``/proc`` report size 0). Messages name the file, never its content.

    Raises:
        ConfigError: missing, not a regular file, unreadable, too large or not UTF-8.
    """
    p = Path(path)
    name = short_repr(str(p))
    try:
        info = p.stat()
    except FileNotFoundError:
        raise ConfigError(f"config file {name} does not exist") from None
    except OSError as e:
        raise ConfigError(f"config file {name} cannot be read ({e.strerror or 'error'})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"config file {name} is not a regular file")
    too_large = f"config file {short_repr(p.name)} is larger than {_KIB} KiB; is it a config?"
    if info.st_size > MAX_YAML_BYTES:
        raise ConfigError(too_large)
    try:
        with p.open("rb") as f:
            data = f.read(MAX_YAML_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"config file {name} cannot be read ({e.strerror or 'error'})") from None
    if len(data) > MAX_YAML_BYTES:
        raise ConfigError(too_large)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {short_repr(p.name)} is not UTF-8 text; is it a config?") from None
