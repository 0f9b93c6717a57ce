"""Per-session state of the explorer, kept in ``gr.State`` as plain data (strings and dicts).

* the current design: a YAML string (``config_state``; the Train / Predict tabs read it);
* saved designs for the Compare tab: ``{name: yaml}``;
* measured latencies: ``{fingerprint: latency dict}`` so a card keeps its number while the design is unchanged.

There is no module-level mutable state here; every function takes the session's value and returns a new one.
"""

from __future__ import annotations

from typing import Any

from idfy.config import ConfigError, ModelConfig
from idfy.presets import list_presets, resolve_config

__all__ = [
    "CURRENT",
    "MAX_SAVED",
    "SAVED_PREFIX",
    "config_from_text",
    "design_choices",
    "remember_latency",
    "resolve_design",
    "save_design",
]

#: The Compare tab's name for the design being edited on the Design tab.
CURRENT = "current design"
SAVED_PREFIX = "saved: "
MAX_SAVED = 12
_MAX_MEASURED = 32


def config_from_text(text: str) -> ModelConfig:
    """A config from text that came from the browser or the API: YAML text, a preset name
    (``"seed_model2"``) or a shared ``v1.`` URL string — never a file path
    (:func:`idfy.presets.resolve_config` with ``allow_paths=False``).

    Raises:
        ConfigError: with the parser's or validator's message (limits are checked before parsing).
    """
    return resolve_config(text, allow_paths=False)


def design_choices(saved: dict[str, str] | None) -> list[str]:
    """Names the Compare tab offers: the current design, the presets, then the saved designs."""
    return [CURRENT, *list_presets(), *(SAVED_PREFIX + n for n in (saved or {}))]


def resolve_design(ref: str, saved: dict[str, str] | None, current_yaml: str) -> ModelConfig:
    """The config behind a Compare-tab choice (``current design``, a preset name, ``saved: NAME``)."""
    if ref == CURRENT:
        return ModelConfig.from_yaml(current_yaml)
    if ref.startswith(SAVED_PREFIX):
        name = ref[len(SAVED_PREFIX) :]
        if name not in (saved or {}):
            raise ConfigError(f"no saved design called {name!r} in this session")
        return ModelConfig.from_yaml(saved[name])  # type: ignore[index]
    return config_from_text(ref)


def save_design(saved: dict[str, str] | None, name: str, current_yaml: str) -> dict[str, str]:
    """A copy of ``saved`` with the current design stored under ``name`` (renamed to it)."""
    name = (name or "").strip()
    if not name or len(name) > 40 or any(ch in name for ch in "\n\r\t"):
        raise ConfigError("give the design a short name (1–40 characters) before saving it")
    if name in list_presets() or name == CURRENT:
        raise ConfigError(f"{name!r} is taken by a preset; choose another name")
    out = dict(saved or {})
    if name not in out and len(out) >= MAX_SAVED:
        raise ConfigError(
            f"at most {MAX_SAVED} designs can be saved per session; reuse a name to overwrite one"
        )
    cfg = ModelConfig.from_yaml(current_yaml).replace(name=name)
    out[name] = cfg.to_yaml()
    return out


def remember_latency(
    measured: dict[str, Any] | None, fingerprint: str, latency: dict[str, Any]
) -> dict[str, Any]:
    """A copy of the session's measured latencies with one more entry (oldest dropped beyond a few dozen)."""
    out = dict(measured or {})
    out.pop(fingerprint, None)
    out[fingerprint] = latency
    while len(out) > _MAX_MEASURED:
        out.pop(next(iter(out)))
    return out
