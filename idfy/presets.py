"""Presets are data (``presets/*.yaml`` in the repository, shipped as ``idfy._presets`` when installed), and
:func:`resolve_config` is the one way from a reference to a config.

A reference is one of:

* a preset name from :func:`list_presets` (``"seed_model2"``);
* a shared ``v1.`` string (the app's ``?cfg=`` value, :meth:`ModelConfig.to_url`);
* YAML text (more than one line, or one line holding a ``:``);
* a file — only where the caller allows paths (command line, library): a :class:`~pathlib.Path`, an explicit
  ``file:PATH``, or a one-line name ending in ``.yaml``/``.yml``.

Text from the network (the app, its API and its URL) is resolved with ``allow_paths=False``: it never names a
file, and an unknown name gets the same answer whether or not a file of that name exists.
"""

from __future__ import annotations

import difflib
import os
from importlib import resources
from pathlib import Path
from typing import Any

from idfy._dataclass_io import short_repr
from idfy.config import ConfigError, ModelConfig
from idfy.config_io import MAX_YAML_BYTES, TOKEN_PREFIX, check_text, read_config_file

__all__ = [
    "FILE_PREFIX",
    "MAX_YAML_BYTES",
    "is_design",
    "list_presets",
    "load_config_file",
    "load_preset",
    "preset_config",
    "preset_dir",
    "resolve_config",
]

#: Prefix that marks a reference as a file path (command line and library only).
FILE_PREFIX = "file:"
_YAML_SUFFIXES = (".yaml", ".yml")


def preset_dir() -> Path:
    """The folder holding the preset YAML files (repository checkout or installed package)."""
    repo = Path(__file__).resolve().parent.parent / "presets"
    if repo.is_dir():
        return repo
    return Path(str(resources.files("idfy._presets")))


def list_presets() -> list[str]:
    """Names of the bundled presets, sorted (``full``, ``seed_model1``, ``seed_model2``, ``small``, ``tiny``, ...)."""
    return sorted(p.stem for p in preset_dir().glob("*.yaml"))


def is_design(name: str) -> bool:
    """Whether :func:`load_preset` takes ``name`` as a design: a preset name or a ``.yaml``/``.yml`` path."""
    return name in list_presets() or name.endswith(_YAML_SUFFIXES)


def load_config_file(path: str | os.PathLike[str]) -> ModelConfig:
    """A config from a YAML file named by a local user: read at most 256 KiB
    (:func:`idfy.config_io.read_config_file`), then :meth:`ModelConfig.from_yaml`.

    Raises:
        ConfigError: missing, unreadable, too large or not UTF-8 file (named, its content never quoted),
        or an invalid config.
    """
    return ModelConfig.from_yaml(read_config_file(path))


def resolve_config(ref: Any, *, allow_paths: bool = False) -> ModelConfig:
    """The config behind ``ref``: a :class:`ModelConfig` (returned as is), a preset name, a ``v1.`` string,
    YAML text, or — only with ``allow_paths`` — a file (see the module docstring).

    Args:
        ref: the reference; text is checked against the 256 KiB limit before anything else.
        allow_paths: ``True`` for the command line and library callers; ``False`` for anything that came
            from the network, where a path is refused without touching the file system.

    Raises:
        ConfigError: "unknown preset 'x'; presets: ..." for a name that is not a preset (the same answer
        whether or not such a file exists), "file paths are not accepted here" for a path without
        ``allow_paths``, or the parser's / validator's message.
    """
    if isinstance(ref, ModelConfig):
        return ref
    if isinstance(ref, os.PathLike):
        if not allow_paths:
            raise ConfigError(_no_paths())
        return load_config_file(ref)
    text = check_text(ref, "design").strip()
    if not text:
        raise ConfigError("config is empty: give YAML text, a preset name or a shared v1. string")
    if "\n" not in text:
        if text.startswith(TOKEN_PREFIX):
            return ModelConfig.from_url(text)
        if text.startswith(FILE_PREFIX):
            if not allow_paths:
                raise ConfigError(_no_paths())
            return load_config_file(text[len(FILE_PREFIX) :].strip())
        if text in list_presets():
            return preset_config(text)
        if allow_paths and text.lower().endswith(_YAML_SUFFIXES):
            return load_config_file(text)
        if ":" not in text:
            raise ConfigError(_unknown_preset(text, allow_paths))
    return ModelConfig.from_yaml(text)


def preset_config(name: Any) -> ModelConfig:
    """A bundled preset by exact name and nothing else (the preset picker, ``?preset=``, ablations).

    Raises:
        ConfigError: "unknown preset 'x'; presets: ..." for anything that is not a name from
        :func:`list_presets` (no file is looked at).
    """
    if not isinstance(name, str) or name not in list_presets():
        raise ConfigError(_unknown_preset(name, allow_paths=False))
    return load_config_file(preset_dir() / f"{name}.yaml")


def load_preset(name_or_path: str | os.PathLike[str]) -> ModelConfig:
    """A preset by name (``"seed_model2"``) or, for command-line and library use, a YAML file by path
    (a ``Path``, ``"file:PATH"`` or ``"PATH.yaml"``): :func:`resolve_config` with ``allow_paths=True``.

    Raises:
        ConfigError: unknown name (with the list of presets and a suggestion) or an invalid file.
    """
    return resolve_config(name_or_path, allow_paths=True)


def _no_paths() -> str:
    return (
        f"file paths are not accepted here; give a preset name ({', '.join(list_presets())}), "
        "YAML text or a shared v1. string"
    )


def _unknown_preset(name: Any, allow_paths: bool) -> str:
    names = list_presets()
    short = isinstance(name, str) and len(name) <= 64
    close = difflib.get_close_matches(name, names, n=1) if short else []
    hint = f" Did you mean {close[0]!r}?" if close else ""
    files = "; or a .yaml path (file:PATH)" if allow_paths else "; or YAML text, or a shared v1. string"
    return f"unknown preset {short_repr(name)}.{hint} Presets: {', '.join(names)}{files}"
