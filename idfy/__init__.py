"""idfy — "I'm Different From You" CNN: a configurable PyTorch model family and its explorer.

>>> import idfy
>>> cfg = idfy.load_preset("seed_model2")
>>> model = idfy.build_model(cfg)

Importing idfy registers every preset with timm as ``idfy_<preset>``; heavier parts (analysis,
diagrams, training, the app) are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from idfy.boxes import Decoded, decode
from idfy.config import (
    BLOCK_ORDERS,
    BlockConfig,
    ConfigError,
    ConvSpec,
    DenseConfig,
    GaussianConfig,
    HeadConfig,
    InjectConfig,
    InputConfig,
    ModelConfig,
    StageConfig,
    StemConfig,
)
from idfy.model import IdfyNet, build_model
from idfy.presets import list_presets, load_preset
from idfy.timm_models import register_presets

__version__ = "0.1.0"

__all__ = [
    "BLOCK_ORDERS",
    "BlockConfig",
    "ConfigError",
    "ConvSpec",
    "Decoded",
    "DenseConfig",
    "GaussianConfig",
    "HeadConfig",
    "IdfyNet",
    "InjectConfig",
    "InputConfig",
    "ModelConfig",
    "StageConfig",
    "StemConfig",
    "build_model",
    "decode",
    "list_presets",
    "load_preset",
]

_LAZY = {
    "analyze": "idfy.analysis",
    "compare": "idfy.analysis",
    "diagram": "idfy.viz.diagram",
    "diagram_diff": "idfy.viz.diagram",
}


def __getattr__(name: str) -> Any:
    """Lazy access to the heavier modules (``idfy.analyze``, ``idfy.diagram``, ...)."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'idfy' has no attribute {name!r}")


register_presets()
