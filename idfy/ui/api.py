"""The explorer's documented API endpoints (``gr.api``): ``/analyze``, ``/compare``, ``/diagram``, ``/validate``.

Each takes a config as YAML text, a preset name or a shared ``v1.`` string. Errors come back as
``gr.Error`` with the :class:`~idfy.config.ConfigError` text (never a traceback); unexpected failures are
logged server-side and reported with a short generic message.

>>> from gradio_client import Client
>>> Client("http://127.0.0.1:7860/").predict("seed_model2", 224, api_name="/analyze")["params_total"]
"""

# No ``from __future__ import annotations``: gr.api reads these type hints at runtime.
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from idfy.analysis.memory import check_memory, check_report
from idfy.config import MAX_INPUT_SIDE, ConfigError, ModelConfig
from idfy.ui.state import config_from_text
from idfy.ui.tabs.design.results import DIAGRAM_DETAILS, diagram_svg

__all__ = ["ENDPOINTS", "analyze", "compare", "diagram", "register", "validate"]

log = logging.getLogger("idfy.ui")


def _guard(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except (ConfigError, ValueError) as e:
        raise gr.Error(str(e), print_exception=False) from None
    except gr.Error:
        raise
    except Exception:
        log.exception("API call failed")
        raise gr.Error(
            "internal error while handling this request (the details are in the server log)",
            print_exception=False,
        ) from None


#: Most designs one /compare call takes.
MAX_COMPARE = 4


def _side(input_size: Any) -> int:
    """``input_size`` as a whole number of pixels (0 keeps the config's), checked before any work."""
    if isinstance(input_size, bool) or not isinstance(input_size, (int, float)):
        raise ConfigError(f"input_size: give a whole number of pixels, got {type(input_size).__name__}")
    if not (input_size == 0 or 8 <= input_size <= MAX_INPUT_SIDE) or input_size != int(input_size):
        raise ConfigError(
            f"input_size: give 0 (the config's size) or a whole number from 8 to {MAX_INPUT_SIDE}"
        )
    return int(input_size)


def _config(config: str, input_size: Any = 0) -> ModelConfig:
    """The design behind text from the network (never a path): :func:`~idfy.ui.state.config_from_text`."""
    side = _side(input_size)
    cfg = config_from_text(config)
    if side:
        cfg = cfg.set("input.size", [side, side])
    return cfg


def _report(cfg: ModelConfig) -> Any:
    """The analysis (on the meta device) after the memory guard."""
    from idfy.analysis import analyze as _analyze

    report = _analyze(cfg)
    check_report(report)
    return report


def analyze(config: str, input_size: int = 0) -> dict:
    """Analyse a design: params, MACs (fvcore convention), FLOPs (2/MAC), per-stage shapes, receptive
    fields and memory. ``config``: YAML text, preset name or ``v1.`` string; ``input_size``: square input side
    in pixels (0 keeps the config's size)."""
    return _guard(lambda: _report(_config(config, input_size)).to_dict())


def compare(designs: list[str], baselines: bool = True) -> dict:
    """Compare 1–4 designs (YAML texts, preset names or ``v1.`` strings); deltas are against the first;
    ``baselines`` adds timm reference rows."""
    from idfy.ui.tabs.compare import compare_designs

    def run() -> dict:
        if not isinstance(designs, list) or not 1 <= len(designs) <= MAX_COMPARE:
            raise ConfigError(
                f"designs: give a list of 1 to {MAX_COMPARE} preset names, YAML texts or v1. strings"
            )
        return compare_designs([_config(d) for d in designs], baselines=bool(baselines)).to_dict()  # guarded

    return _guard(run)


def diagram(config: str, detail: str = "stages") -> str:
    """The design's graphviz diagram as SVG text; ``detail``: stages, blocks or layers."""

    def run() -> str:
        if not isinstance(detail, str) or detail not in DIAGRAM_DETAILS:
            raise ConfigError(f"detail: use one of {', '.join(DIAGRAM_DETAILS)}")
        cfg = _config(config)
        _report(cfg)
        return diagram_svg(cfg, detail)

    return _guard(run)


def validate(config: str) -> dict:
    """Check a design without analysing it: ``{"ok": true, "message": "ok", "fingerprint", "url",
    "stage_shapes"}`` or ``{"ok": false, "message": "<what is wrong and how to fix it>"}``."""

    def run() -> dict:
        try:
            cfg = _config(config)
            check_memory(cfg)
        except (ConfigError, ValueError) as e:
            return {"ok": False, "message": str(e)}
        return {
            "ok": True,
            "message": "ok",
            "name": cfg.name,
            "fingerprint": cfg.fingerprint(),
            "url": cfg.to_url(),
            "stage_shapes": [list(s) for s in cfg.stage_shapes()],
        }

    return _guard(run)


#: api_name -> function, registered by :func:`register`.
ENDPOINTS: dict[str, Callable[..., Any]] = {
    "analyze": analyze,
    "compare": compare,
    "diagram": diagram,
    "validate": validate,
}


def register() -> None:
    """Register every endpoint inside the current ``gr.Blocks`` context."""
    for name, fn in ENDPOINTS.items():
        gr.api(fn, api_name=name, concurrency_limit=2, concurrency_id="analysis")
