"""Presets are data: ``presets/*.yaml`` in the repository, shipped as ``idfy._presets`` when installed."""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

from idfy.config import ConfigError, ModelConfig

__all__ = ["MAX_YAML_BYTES", "is_design", "list_presets", "load_config_file", "load_preset", "preset_dir"]

#: YAML config files larger than this are refused before parsing.
MAX_YAML_BYTES = 256 * 1024
_YAML_SUFFIXES = (".yaml", ".yml")


def preset_dir() -> Path:
    """The folder holding the preset YAML files (repository checkout or installed package)."""
    repo = Path(__file__).resolve().parent.parent / "presets"
    if repo.is_dir():
        return repo
    return Path(str(resources.files("idfy._presets")))


def list_presets() -> list[str]:
    """Names of the bundled presets, sorted (``full``, ``seed_model1``, ``seed_model2``, ``small``, ``tiny``)."""
    return sorted(p.stem for p in preset_dir().glob("*.yaml"))


def is_design(name: str) -> bool:
    """Whether :func:`load_preset` takes ``name`` as a design: a preset name or a ``.yaml``/``.yml`` path."""
    return name in list_presets() or name.endswith(_YAML_SUFFIXES)


def load_config_file(path: str | Path) -> ModelConfig:
    """Read a YAML config file (size-capped, ``yaml.safe_load``)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    if p.stat().st_size > MAX_YAML_BYTES:
        raise ConfigError(
            f"config file {p.name!r} is larger than {MAX_YAML_BYTES // 1024} KiB; is it a config?"
        )
    return ModelConfig.from_yaml(p.read_text(encoding="utf-8", errors="replace"))


def load_preset(name_or_path: str | Path) -> ModelConfig:
    """A preset by name (``"seed_model2"``) or a YAML file by path.

    Raises:
        ConfigError: unknown name (with the list of presets and a suggestion) or an invalid file.
    """
    text = str(name_or_path)
    if text.endswith(_YAML_SUFFIXES) or Path(text).is_file():
        return load_config_file(text)
    names = list_presets()
    if text not in names:
        close = difflib.get_close_matches(text, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown preset {text!r}.{hint} Presets: {', '.join(names)}; or give a .yaml path")
    return load_config_file(preset_dir() / f"{text}.yaml")
